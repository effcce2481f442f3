//! Reading a target record back (format in `target_codec`'s header). Every
//! step checks its input: damaged, truncated or foreign values give a
//! `DecodeError` that says what is wrong, never a panic or a wrong set.

use super::bits::{self, BitReader};
use super::{port_of, DecodeError, Kind, Target, KINDS, MAX_DECODED, VERSION};
use std::collections::BTreeSet;

/// 1,000 targets of the longest ARNs take about 100 KiB.
const MAX_OTHER_BYTES: usize = 1 << 20;

fn bad(what: impl Into<String>) -> DecodeError {
    DecodeError(what.into())
}

/// The targets recorded in `values` (the tag values in order), sorted and
/// without duplicates.
pub fn decode<S: AsRef<str>>(values: &[S]) -> Result<Vec<Target>, DecodeError> {
    let text: String = values.iter().map(AsRef::as_ref).collect();
    let mut chars = text.chars();
    match chars.next() {
        None => return Err(bad("the record is empty")),
        Some(VERSION) => {}
        Some(v) => {
            return Err(bad(format!(
                "it is in format {v:?}, which this alb-rollout does not know (it reads {VERSION:?})"
            )))
        }
    }
    let bytes = bits::from_base64(chars.as_str()).map_err(bad)?;
    let split = bytes
        .len()
        .checked_sub(4)
        .ok_or_else(|| bad("it is too short to hold a checksum"))?;
    let (body, sum) = bytes.split_at(split);
    if bits::checksum(body) != sum {
        return Err(bad(
            "its checksum does not match: a tag is missing, cut or from another record",
        ));
    }
    read_body(body).map_err(bad)
}

fn read_body(body: &[u8]) -> Result<Vec<Target>, String> {
    let mut r = BitReader::new(body);
    let mut out = BTreeSet::new();
    for kind in KINDS {
        for (v, code) in read_numeric(&mut r, kind)? {
            out.insert(Target {
                id: kind.render(v),
                port: port_of(code).map_err(|e| e.0)?,
                az: None,
            });
        }
    }
    for (id, code) in read_other(&mut r)? {
        out.insert(Target {
            id,
            port: port_of(code).map_err(|e| e.0)?,
            az: None,
        });
    }
    // Only the zero padding of the last byte may remain.
    let mut rest = 0;
    while let Ok(b) = r.bit() {
        rest += 1;
        if b != 0 || rest >= 8 {
            return Err("it has data after the last section".into());
        }
    }
    Ok(out.into_iter().collect())
}

fn fits(v: Option<u128>, width: u32) -> Result<u128, String> {
    v.filter(|&v| width >= 128 || v >> width == 0)
        .ok_or_else(|| format!("it has a value over {width} bits"))
}

fn read_gaps(r: &mut BitReader, n: usize, width: u32) -> Result<Vec<u128>, String> {
    let k = r.get(7)? as u32;
    let mut values = Vec::new();
    let mut prev = 0u128;
    for _ in 0..n {
        let v = fits(prev.checked_add(r.get_rice(k)?), width)?;
        values.push(v);
        prev = v;
    }
    Ok(values)
}

/// The runs layout: run starts, then run lengths, expanded to `n` values.
fn read_runs(r: &mut BitReader, n: usize, width: u32) -> Result<Vec<u128>, String> {
    let runs = r.get_count(n, "run count")?;
    let k = r.get(7)? as u32;
    let starts = (0..runs)
        .map(|_| r.get_rice(k))
        .collect::<Result<Vec<_>, _>>()?;
    let k = r.get(7)? as u32;
    let mut values = Vec::new();
    let mut end = 0u128;
    for gap in starts {
        let extra = r.get_rice(k)?;
        let start = fits(end.checked_add(gap), width)?;
        end = fits(start.checked_add(extra), width)?;
        if values.len() as u128 + extra >= n as u128 {
            return Err(format!("its runs hold more than {n} IDs"));
        }
        values.extend((0..=extra).map(|i| start + i));
    }
    match values.len() == n {
        true => Ok(values),
        false => Err(format!("its runs hold {} IDs, not {n}", values.len())),
    }
}

fn read_numeric(r: &mut BitReader, kind: Kind) -> Result<Vec<(u128, u128)>, String> {
    let n = r
        .get_count(MAX_DECODED, &format!("{} count", kind.name()))
        .map_err(|e| format!("{e} or it is cut"))?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let values = match r.bit()? {
        0 => read_gaps(r, n, kind.width()),
        _ => read_runs(r, n, kind.width()),
    }
    .map_err(|e| format!("{} IDs: {e}", kind.name()))?;
    let ports = read_ports(r, n).map_err(|e| format!("{} ports: {e}", kind.name()))?;
    Ok(values.into_iter().zip(ports).collect())
}

fn read_other(r: &mut BitReader) -> Result<Vec<(String, u128)>, String> {
    let n = r.get_count(MAX_DECODED, "other-ID count")?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut ids = Vec::new();
    let mut prev: Vec<u8> = Vec::new();
    let mut total = 0usize;
    for _ in 0..n {
        let shared = r.get_count(prev.len(), "shared prefix")?;
        // An ELBv2 target ID is at most a few hundred bytes; 64 KiB is damage.
        let len = r.get_count(65_536, "ID length")?;
        // Shared prefixes cost no input: cap the output so a crafted record
        // cannot make a few kilobytes of tags expand into gigabytes.
        total += shared + len;
        if total > MAX_OTHER_BYTES {
            return Err(format!("its IDs add up to over {MAX_OTHER_BYTES} bytes"));
        }
        let mut id = prev[..shared].to_vec();
        for _ in 0..len {
            id.push(r.get(8)? as u8);
        }
        let text = String::from_utf8(id.clone()).map_err(|_| "it has an ID that is not UTF-8")?;
        ids.push(text);
        prev = id;
    }
    let ports = read_ports(r, n).map_err(|e| format!("other ports: {e}"))?;
    Ok(ids.into_iter().zip(ports).collect())
}

fn read_ports(r: &mut BitReader, n: usize) -> Result<Vec<u128>, String> {
    if r.bit()? == 1 {
        let width = r.get(6)? as u32;
        return (0..n).map(|_| r.get(width)).collect();
    }
    let common = r.get_num()?;
    let mut codes = vec![common; n];
    let e = r.get_count(n, "exception count")?;
    if e == 0 {
        return Ok(codes);
    }
    let indexes = read_gaps(r, e, 64)?;
    let width = r.get(6)? as u32;
    for i in indexes {
        let slot = usize::try_from(i)
            .ok()
            .and_then(|i| codes.get_mut(i))
            .ok_or("it has an exception past the last target")?;
        *slot = r.get(width)?;
    }
    Ok(codes)
}
