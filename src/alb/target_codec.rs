//! The compact, exact record of a target group's targets, stored in ELBv2
//! tag values so `rollback --target-group` can restore the group's original
//! targets after a `kill -9`. Pure: no I/O; the caller names the tag keys.
//!
//! # Limits it is built for
//! ELBv2 (API reference and botocore model, `Tag`): at most 50 tags per
//! resource, shared with the user's; values up to 256 characters matching
//! `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`. The ELB user guide says 255 and warns
//! against leading or trailing spaces, so values here are at most 255
//! characters and never contain a space.
//!
//! # Format, version `1`
//! The record is one text: the version character `1`, then the base64 of
//! `body ++ fnv1a32(body)`. It is cut into values of at most 255 characters,
//! stored in order (`KEY`, `KEY.1`, ...); decoding joins them back.
//!
//! - **Version character first**, so a later format can be told apart and an
//!   old binary refuses a newer record rather than misreading it.
//! - **Checksum** (FNV-1a, 32 bits, big-endian) over the body: a record torn by
//!   a crash between two tag writes, or mixed with a leftover value of
//!   another run, fails loudly instead of restoring the wrong targets.
//! - **Base64, standard alphabet, no padding**: `+` and `/` are allowed in
//!   tag values. Every symbol allowed (62 letters and digits plus
//!   `_ . : / = + - @`, 70 in all, space left out) carries log2(70) = 6.13
//!   bits instead of 6: 2% fewer characters, measured as one tag fewer for
//!   1,000 random instance IDs (36 instead of 37), none for most records, at
//!   the price of a block base conversion with its own padding rules. Not
//!   taken; a later version can, behind the version character.
//! - **No general compressor**: the body below is already within 0.5% of the
//!   entropy of a random set (6,969 bytes for 1,000 random EC2 instance IDs
//!   against log2 C(2^64, 1000) / 8 = 6,934). Deflate (level 9) made every
//!   measured body 5 bytes longer, so it is left out, and no crate is added.
//!
//! # Measured (tags of 255 characters, 1,000 targets)
//! IPv4 in a /22 on one port: 1 (25 characters). Random IPv4 in a /16 on one
//! port: 6. Random IPv4 on random ports: 27. Random EC2 instance IDs
//! (`i-0` + 16 hex): 37; any 17 hex digits: 40. IPv6 in one /64: 37; random
//! over all 128 bits: 79 (cannot fit: the check below refuses it).
//! Room to grow, not taken: tag keys (128 characters, same set) could carry
//! data too, about 44% more per tag; and `\p{L}` admits thousands of
//! non-ASCII letters (14 bits a character, 2.3 times base64) if AWS counts
//! the 256 as characters, not bytes, which needs checking on real AWS.
//!
//! The body is a bit stream (most significant bit first, zero-padded to a
//! byte) of five sections in a fixed order: instance IDs with 8 hex digits,
//! instance IDs with 17 hex digits, IPv4, IPv6, then every other ID (Lambda
//! and ALB ARNs, and any ID not in its canonical text form, so decoding
//! gives back the exact strings). The set is sorted and duplicates removed
//! first: order carries nothing, so sorting turns IDs into small gaps.
//!
//! - `num(v)`: bit length L of v in unary (L zeros, a one), then the L-1 bits
//!   below v's leading one. Small counts cost 1 to 4 bits; no value is
//!   unbounded, so damaged input cannot make a reader loop or overflow.
//! - Numeric section: `num(n)`; if n > 0, one bit chooses the shorter of
//!   two layouts of the sorted IDs. `0` gaps: `k` (7 bits), then n gaps from
//!   0 through the IDs, each as `num(gap >> k)` and k raw bits, `k` being the
//!   one that makes the list shortest (about 58 for random 17-digit instance
//!   IDs, a little over log2 of the mean gap). `1` runs of consecutive IDs:
//!   `num(runs)`, then the runs' starts (each as the gap from the previous
//!   run's last ID) as a `k` + list, then their lengths - 1 likewise: a
//!   block of addresses handed out in order costs bytes, not 2 bits each.
//!   Instance IDs are their hex as a number (32 or 68 bits), addresses their
//!   32 or 128 bits. The same ID on two ports is two targets: a gap of 0.
//! - Other section: `num(n)`, then per sorted string `num(bytes shared with
//!   the previous one)`, `num(rest length)` and the rest as bytes: ARNs of
//!   one account and region share their long prefix.
//! - Ports, after each non-empty section, in the same order as its IDs. A
//!   port is coded as 0 for none, p + 1 for port p (p as u32: any i32). One bit chooses the
//!   shorter of: `0` common port + exceptions: `num(common)`, `num(e)`; if
//!   e > 0 the exceptions' index gaps as a numeric list (`k`, gaps) and their
//!   codes in a shared width w (6 bits, then w bits each); or `1` a port for
//!   every target: w (6 bits) then w bits each (random ports: 16 bits).

use super::model::Target;
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

#[path = "target_codec_bits.rs"]
mod bits;
use bits::BitWriter;

/// The first character of a record in this format.
pub const VERSION: char = '1';
/// Characters per tag value: 255, the stricter of the two documented limits.
pub const MAX_VALUE_CHARS: usize = 255;
/// Tags per resource, the user's and alb-rollout's together.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;
/// Decoding refuses more targets than this: ALB allows 1,000 per group, so
/// a bigger count means damaged input, not a real group.
const MAX_DECODED: usize = 100_000;

/// A record that cannot be read back: names what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the recorded targets cannot be read: {0}")]
pub struct DecodeError(pub String);

/// A record that does not fit beside the tags a resource already has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the record of {} targets needs {needed} tags; {resource} has {other} other tags; \
     ELBv2 allows {limit}",
    thousands(*targets)
)]
pub struct FitError {
    pub targets: usize,
    pub needed: usize,
    pub resource: String,
    pub other: usize,
    pub limit: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Instance8,
    Instance17,
    V4,
    V6,
}

const KINDS: [Kind; 4] = [Kind::Instance8, Kind::Instance17, Kind::V4, Kind::V6];

impl Kind {
    /// How many bits an ID of this kind has: decoding refuses larger ones.
    fn width(self) -> u32 {
        match self {
            Kind::Instance8 | Kind::V4 => 32,
            Kind::Instance17 => 68,
            Kind::V6 => 128,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Instance8 | Kind::Instance17 => "instance",
            Kind::V4 => "IPv4",
            Kind::V6 => "IPv6",
        }
    }

    fn render(self, v: u128) -> String {
        match self {
            Kind::Instance8 => format!("i-{v:08x}"),
            Kind::Instance17 => format!("i-{v:017x}"),
            Kind::V4 => Ipv4Addr::from(v as u32).to_string(),
            Kind::V6 => Ipv6Addr::from(v).to_string(),
        }
    }
}

/// The kind and number of an ID in its canonical text form, or `None` for
/// an ID kept as a string (ARNs, upper-case hex, IPv6 not in RFC 5952 form).
fn classify(id: &str) -> Option<(Kind, u128)> {
    if let Some(hex) = id.strip_prefix("i-") {
        let lower = hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let kind = match hex.len() {
            8 => Kind::Instance8,
            17 => Kind::Instance17,
            _ => return None,
        };
        return lower
            .then(|| u128::from_str_radix(hex, 16).ok())
            .flatten()
            .map(|v| (kind, v));
    }
    let (kind, v) = if let Ok(a) = id.parse::<Ipv4Addr>() {
        (Kind::V4, u128::from(u32::from(a)))
    } else {
        (Kind::V6, u128::from(id.parse::<Ipv6Addr>().ok()?))
    };
    // Exact round trip only: `::FFFF` or `0:0::1` stay strings.
    (kind.render(v) == id).then_some((kind, v))
}

fn port_code(port: Option<i32>) -> u128 {
    port.map_or(0, |p| u128::from(p as u32) + 1)
}

fn port_of(code: u128) -> Result<Option<i32>, DecodeError> {
    match code {
        0 => Ok(None),
        c => u32::try_from(c - 1)
            .map(|p| Some(p as i32))
            .map_err(|_| DecodeError(format!("it has a port code {c} out of range"))),
    }
}

/// The record of `targets` as tag values, in order: at least one value (an
/// empty group is recorded too), each at most `MAX_VALUE_CHARS` characters
/// of the allowed set.
pub fn encode(targets: &[Target]) -> Vec<String> {
    let set: BTreeSet<&Target> = targets.iter().collect();
    let mut numeric: Vec<Vec<(u128, u128)>> = vec![Vec::new(); KINDS.len()];
    let mut other: Vec<(&str, u128)> = Vec::new();
    for t in set {
        match classify(&t.id) {
            Some((kind, v)) => {
                if let Some(i) = KINDS.iter().position(|&k| k == kind) {
                    numeric[i].push((v, port_code(t.port)));
                }
            }
            None => other.push((&t.id, port_code(t.port))),
        }
    }
    let mut w = BitWriter::default();
    for mut section in numeric {
        section.sort_unstable();
        put_numeric(&mut w, &section);
    }
    other.sort_unstable();
    put_other(&mut w, &other);
    let mut body = w.into_bytes();
    let sum = bits::checksum(&body);
    body.extend_from_slice(&sum);
    let text = format!("{VERSION}{}", bits::to_base64(&body));
    // The text is ASCII, so cutting at any byte offset is a char boundary.
    text.as_bytes()
        .chunks(MAX_VALUE_CHARS)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

fn put_gaps(w: &mut BitWriter, values: impl Iterator<Item = u128>) {
    let mut prev = 0u128;
    let gaps: Vec<u128> = values
        .map(|v| {
            let g = v.wrapping_sub(prev);
            prev = v;
            g
        })
        .collect();
    let (k, _) = bits::best_k(&gaps);
    w.put(u128::from(k), 7);
    for g in gaps {
        w.put_rice(g, k);
    }
}

fn put_numeric(w: &mut BitWriter, items: &[(u128, u128)]) {
    w.put_num(items.len() as u128);
    if items.is_empty() {
        return;
    }
    let values: Vec<u128> = items.iter().map(|&(v, _)| v).collect();
    let mut runs = BitWriter::default();
    put_runs(&mut runs, &values);
    let mut gaps = BitWriter::default();
    put_gaps(&mut gaps, values.iter().copied());
    if runs.len_bits() < gaps.len_bits() {
        w.put(1, 1);
        put_runs(w, &values);
    } else {
        w.put(0, 1);
        put_gaps(w, values.iter().copied());
    }
    put_ports(w, &items.iter().map(|&(_, p)| p).collect::<Vec<_>>());
}

/// Sorted values as runs of consecutive numbers: a block of addresses
/// handed out in order costs a few bytes instead of 2 bits an address.
fn put_runs(w: &mut BitWriter, values: &[u128]) {
    // (start - end of the previous run, length - 1) for each run.
    let mut runs: Vec<(u128, u128)> = Vec::new();
    let mut end = 0u128;
    for (i, &v) in values.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if i > 0 && values[i - 1].checked_add(1) == Some(v) => run.1 += 1,
            _ => runs.push((v.wrapping_sub(end), 0)),
        }
        end = v;
    }
    w.put_num(runs.len() as u128);
    let starts: Vec<u128> = runs.iter().map(|r| r.0).collect();
    let lengths: Vec<u128> = runs.iter().map(|r| r.1).collect();
    for list in [starts, lengths] {
        let (k, _) = bits::best_k(&list);
        w.put(u128::from(k), 7);
        for x in list {
            w.put_rice(x, k);
        }
    }
}

fn put_other(w: &mut BitWriter, items: &[(&str, u128)]) {
    w.put_num(items.len() as u128);
    if items.is_empty() {
        return;
    }
    let mut prev: &[u8] = &[];
    for &(s, _) in items {
        let s = s.as_bytes();
        let shared = prev.iter().zip(s).take_while(|(a, b)| a == b).count();
        w.put_num(shared as u128);
        w.put_num((s.len() - shared) as u128);
        for &b in &s[shared..] {
            w.put(u128::from(b), 8);
        }
        prev = s;
    }
    put_ports(w, &items.iter().map(|&(_, p)| p).collect::<Vec<_>>());
}

fn bit_len(v: u128) -> u32 {
    128 - v.leading_zeros()
}

/// Ports in whichever of the two layouts is shorter for this section.
fn put_ports(w: &mut BitWriter, codes: &[u128]) {
    let mut sparse = BitWriter::default();
    put_ports_sparse(&mut sparse, codes);
    let width = codes.iter().map(|&c| bit_len(c)).max().unwrap_or(0);
    let dense_bits = 6 + u64::from(width) * codes.len() as u64;
    if sparse.len_bits() <= dense_bits {
        w.put(0, 1);
        put_ports_sparse(w, codes);
    } else {
        w.put(1, 1);
        w.put(u128::from(width), 6);
        for &c in codes {
            w.put(c, width);
        }
    }
}

/// The most common port once, then the targets that differ from it.
fn put_ports_sparse(w: &mut BitWriter, codes: &[u128]) {
    let mut sorted = codes.to_vec();
    sorted.sort_unstable();
    let common = sorted
        .chunk_by(|a, b| a == b)
        .max_by_key(|run| run.len())
        .and_then(|run| run.first().copied())
        .unwrap_or(0);
    let exceptions: Vec<(usize, u128)> = codes
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, c)| c != common)
        .collect();
    w.put_num(common);
    w.put_num(exceptions.len() as u128);
    if exceptions.is_empty() {
        return;
    }
    put_gaps(w, exceptions.iter().map(|&(i, _)| i as u128));
    let width = exceptions
        .iter()
        .map(|&(_, c)| bit_len(c))
        .max()
        .unwrap_or(0);
    w.put(u128::from(width), 6);
    for (_, c) in exceptions {
        w.put(c, width);
    }
}

#[path = "target_codec_decode.rs"]
mod decode_impl;
pub use decode_impl::decode;

/// How many tag values the record of `targets` takes.
pub fn tags_needed(targets: &[Target]) -> usize {
    encode(targets).len()
}

/// Preflight: whether the record of `targets` fits on `resource` (its name
/// for the message) beside the `other` tags it will also carry: the user's
/// and the run's other record tags. `Ok` gives the number of tags the
/// record takes; `Err` names the numbers, for a refusal before any change.
pub fn check_fit(targets: &[Target], other: usize, resource: &str) -> Result<usize, FitError> {
    let needed = tags_needed(targets);
    if needed + other <= MAX_TAGS_PER_RESOURCE {
        return Ok(needed);
    }
    Err(FitError {
        targets: targets.iter().collect::<BTreeSet<_>>().len(),
        needed,
        resource: resource.to_string(),
        other,
        limit: MAX_TAGS_PER_RESOURCE,
    })
}

/// `1000` as `1,000`, as a person reads counts in a message.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[path = "target_codec_tests.rs"]
mod tests;
