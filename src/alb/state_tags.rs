//! The run record: what a run must remember to be undone after a crash,
//! stored as tags on the listener (or rule) it changes.
//!
//! ELBv2 tag values allow only letters, digits, spaces and `_ . : / = + - @`
//! and at most 256 characters, so the record is a set of small plain-text
//! tags rather than one JSON blob.
//!
//! The record holds the revert's goal (see `engine::goal`): the route
//! before the run and the targets it registers. Later actions get
//! their own keys, each written before its action is sent, each a chunked
//! list (`KEY`, `KEY.1`, ...) so the record stays a handful of tags of the
//! 50 a resource may carry:
//! - `alb-rollout:deregistered`: targets taken out of blue (re-registered
//!   by the revert), coded with their zones (`zones`);
//! - `alb-rollout:rules`: priorities of the rules the run created (a rule
//!   is found by its priority and deleted only if it carries the run's tag).
//!
//! Target lists go through `target_words` / `targets_of_words`: the one
//! place to plug in the compact codec for long lists (`target_codec::encode`
//! gives the values for `KEY`, `KEY.1`, ... and `target_codec::decode` reads
//! them back; its version character tells a coded list from plain words).

use super::model::*;
use super::record_head::{self, Head};
use super::{target_codec, zones};

pub use super::heartbeat::Heartbeat;
use std::collections::BTreeMap;

pub const PREFIX: &str = "alb-rollout:";
/// The step value once the promoted route is written and verified: from
/// then on `rollback` must not restore the original route.
pub const PROMOTED_STEP: &str = "promoted";
/// The step value written just before the promote write: the promotion is
/// not confirmed yet, so `rollback` restores the original route.
pub const PROMOTING_STEP: &str = "promoting";
/// The step value after a promotion that is followed by deregistering
/// blue (`--deregister-blue`): the route is written but the run is not
/// done, so `rollback` re-registers what left blue and restores the route.
pub const DRAINING_BLUE_STEP: &str = "draining-blue";
pub(crate) const RUN: &str = "alb-rollout:run";
const STEP: &str = "alb-rollout:step";
const GREEN: &str = "alb-rollout:green";
const ORIGINAL: &str = "alb-rollout:original";
const REGISTERED: &str = "alb-rollout:registered";
const DEREGISTERED: &str = "alb-rollout:deregistered";
const DEREGISTERED_SET: &str = "alb-rollout:deregistered-set";
const DEREGISTERED_ZONES: &str = "alb-rollout:deregistered-zones";
const RULES: &str = "alb-rollout:rules";
const MAX_VALUE: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub run_id: String,
    pub strategy: String,
    /// Unix seconds when the run recorded itself.
    pub started: u64,
    /// How often the record's lists were rewritten (the head tag's `gGEN`).
    pub generation: u32,
    pub step: String,
    pub green_arn: String,
    /// The route exactly as it was before the run.
    pub original: Forward,
    /// Targets the run registered in green, to deregister on rollback.
    pub registered: Vec<Target>,
    /// Targets the run took out of a group (blue), to register again on
    /// rollback; `None` until the run's first deregistration.
    pub deregistered: Option<Deregistered>,
    /// Priorities of rules the run created (or was about to create) on its
    /// listener, each recorded before its CreateRule is sent; `rollback`
    /// deletes the rule at each only if it carries the run's tag.
    pub rules: Vec<u32>,
}

/// The strategies that only add rules and never write the route itself:
/// their revert (and `rollback`) leaves the route alone.
pub const RULE_ONLY_STRATEGIES: [&str; 2] = ["ab", "dark"];

impl RunRecord {
    /// Whether the run may have written its route (every strategy but the
    /// rule-only ones).
    pub fn moves_route(&self) -> bool {
        !RULE_ONLY_STRATEGIES.contains(&self.strategy.as_str())
    }
}

/// The tag that records the priorities of a run's rules (`alb-rollout:rules`),
/// replacing the earlier value: written whole before each CreateRule.
pub fn rules_tags(priorities: &[u32]) -> BTreeMap<String, String> {
    let mut t = BTreeMap::new();
    let words: Vec<String> = priorities.iter().map(u32::to_string).collect();
    put_chunked(&mut t, RULES, &words);
    t
}

/// The recorded priorities; a damaged word names the tag.
fn rules_of(t: &BTreeMap<String, String>) -> Result<Vec<u32>, String> {
    get_chunked(t, RULES)
        .iter()
        .map(|w| {
            w.parse()
                .map_err(|_| format!("tag {RULES} has {w:?}, not a rule priority"))
        })
        .collect()
}

/// Targets taken out of `group`: `alb-rollout:deregistered` holds the
/// group's ARN, then the targets, as words (`KEY`, `KEY.1`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deregistered {
    pub group: String,
    pub targets: Vec<Target>,
}

/// The tags that record `d` in the record `r` (whose other fields give
/// the head), replacing earlier values: written in one AddTags before each
/// deregistration, so the record lists every target that may have left.
/// The group's ARN is `alb-rollout:deregistered`, the targets are coded
/// (`target_codec`: a blue of 1,000 targets in a few tags) in
/// `alb-rollout:deregistered-set`, `.1`, ..., their zones in
/// `alb-rollout:deregistered-zones` (`zones`), and the head counts the
/// chunks of both: chunks a shorter coding left behind are ignored by the
/// reader, and removed after (`stale_chunks`).
pub fn deregistered_tags(r: &RunRecord, d: &Deregistered) -> BTreeMap<String, String> {
    let mut t = BTreeMap::from([(DEREGISTERED.to_string(), d.group.clone())]);
    let mut sorted = d.targets.clone();
    sorted.sort();
    let set = target_codec::encode(&sorted);
    let zs = zones::encode(&sorted);
    let head = Head {
        chunks: Some((set.len(), zs.len())),
        ..head_of(r)
    };
    t.insert(RUN.to_string(), head.encode());
    for (i, v) in set.into_iter().enumerate() {
        t.insert(chunk_key(DEREGISTERED_SET, i), v);
    }
    for (i, v) in zs.into_iter().enumerate() {
        t.insert(chunk_key(DEREGISTERED_ZONES, i), v);
    }
    t
}

fn head_of(r: &RunRecord) -> Head {
    Head {
        run_id: r.run_id.clone(),
        strategy: r.strategy.clone(),
        started: r.started,
        generation: r.generation,
        chunks: Some((0, 0)),
    }
}

/// Chunks of the deregistered set (or its zones) in `existing` that `new`
/// does not have.
pub fn stale_chunks(existing: &[String], new: &BTreeMap<String, String>) -> Vec<String> {
    existing
        .iter()
        .filter(|k| k.starts_with(DEREGISTERED_SET) || k.starts_with(DEREGISTERED_ZONES))
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect()
}

/// How many tags the deregistered list of `targets` takes (with its key).
pub fn deregistered_tag_count(targets: &[Target]) -> usize {
    let mut sorted = targets.to_vec();
    sorted.sort();
    1 + target_codec::tags_needed(targets) + zones::encode(&sorted).len()
}

fn chunk_key(base: &str, i: usize) -> String {
    match i {
        0 => base.to_string(),
        _ => format!("{base}.{i}"),
    }
}

/// The coded form (as many chunks as the head counts, when it does), or
/// (records of earlier versions) the group ARN followed by the targets as words.
fn deregistered_of(
    t: &BTreeMap<String, String>,
    head: &Head,
) -> Result<Option<Deregistered>, String> {
    let (set, zs) = match head.chunks {
        Some((s, z)) => (Some(s), Some(z)),
        None => (None, None),
    };
    let values = record_head::chunks(t, DEREGISTERED_SET, set)?;
    if !values.is_empty() {
        let group = t
            .get(DEREGISTERED)
            .ok_or_else(|| format!("tag {DEREGISTERED} is missing beside {DEREGISTERED_SET}"))?;
        let mut targets =
            target_codec::decode(&values).map_err(|e| format!("tag {DEREGISTERED_SET}: {e}"))?;
        // A set: read back sorted, whatever order it was written in.
        targets.sort();
        let zone_values = record_head::chunks(t, DEREGISTERED_ZONES, zs)?;
        zones::apply(&mut targets, &zone_values)
            .map_err(|e| format!("tag {DEREGISTERED_ZONES}: {e}"))?;
        return Ok(Some(Deregistered {
            group: group.clone(),
            targets,
        }));
    }
    let words = get_chunked(t, DEREGISTERED);
    Ok(words.split_first().map(|(group, targets)| Deregistered {
        group: group.clone(),
        targets: targets_of_words(targets),
    }))
}

pub fn step_tag(step: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(STEP.to_string(), step.to_string())])
}

/// Tags are few on purpose: ELBv2 caps tags per resource (50 on AWS, 10 in
/// moto) and the user's own tags share that budget. A typical record is 4
/// tags; long values continue in `KEY.1`, `KEY.2`, ...
pub fn encode(r: &RunRecord) -> BTreeMap<String, String> {
    let mut t = BTreeMap::new();
    t.insert(RUN.into(), head_of(r).encode());
    t.insert(STEP.into(), r.step.clone());
    t.insert(GREEN.into(), r.green_arn.clone());
    let shape = match r.original.shape {
        ForwardShape::Single => "single",
        ForwardShape::Weighted => "weighted",
    };
    let sticky = match (
        r.original.stickiness.enabled,
        r.original.stickiness.duration_seconds,
    ) {
        (true, Some(d)) => format!("sticky={d}"),
        (true, None) => "sticky=on".into(),
        // A disabled config can carry a duration; the revert writes it back.
        (false, Some(d)) => format!("sticky=off:{d}"),
        (false, None) => "sticky=off".into(),
    };
    let mut words = vec![shape.to_string(), sticky];
    words.extend(
        r.original
            .groups
            .iter()
            .map(|g| format!("{}={}", g.target_group_arn, g.weight)),
    );
    put_chunked(&mut t, ORIGINAL, &words);
    put_chunked(&mut t, REGISTERED, &target_words(&r.registered));
    if let Some(d) = &r.deregistered {
        t.extend(deregistered_tags(r, d));
    }
    t.extend(rules_tags(&r.rules));
    t
}

/// Pack words into space-separated values of at most `MAX_VALUE` characters
/// under `key`, `key.1`, `key.2`, ...
fn put_chunked(t: &mut BTreeMap<String, String>, key: &str, words: &[String]) {
    let mut chunks: Vec<String> = Vec::new();
    for w in words {
        match chunks.last_mut() {
            Some(cur) if cur.len() + 1 + w.len() <= MAX_VALUE => {
                cur.push(' ');
                cur.push_str(w);
            }
            _ => chunks.push(w.clone()),
        }
    }
    for (i, c) in chunks.into_iter().enumerate() {
        let k = if i == 0 {
            key.to_string()
        } else {
            format!("{key}.{i}")
        };
        t.insert(k, c);
    }
}

fn get_chunked(t: &BTreeMap<String, String>, key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut i = 0;
    while let Some(v) = t.get(&if i == 0 {
        key.to_string()
    } else {
        format!("{key}.{i}")
    }) {
        words.extend(v.split(' ').filter(|w| !w.is_empty()).map(str::to_string));
        i += 1;
    }
    words
}

/// All record keys present in `tags`, for removal at the end of a run.
pub fn record_keys(tags: &BTreeMap<String, String>) -> Vec<String> {
    tags.keys()
        .filter(|k| k.starts_with(PREFIX))
        .cloned()
        .collect()
}

/// Record keys in `existing` that `new` does not have: what a replacing
/// record (`--force` over a leftover one) must remove, or stale
/// `registered` or `KEY.N` chunks would make it read back as another record.
pub fn stale_keys(
    existing: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<String> {
    record_keys(existing)
        .into_iter()
        .filter(|k| !new.contains_key(k))
        .collect()
}

fn parse_original(words: &[String]) -> Result<Forward, String> {
    let bad = |what: &str| format!("tag {ORIGINAL} {what}");
    let shape = match words.first().map(String::as_str) {
        Some("single") => ForwardShape::Single,
        Some("weighted") => ForwardShape::Weighted,
        _ => {
            return Err(bad(
                "is missing or has no shape: the original route is unknown",
            ))
        }
    };
    let stickiness = match words.get(1).and_then(|w| w.strip_prefix("sticky=")) {
        Some("off") => Stickiness::default(),
        Some(off) if off.starts_with("off:") => Stickiness {
            enabled: false,
            duration_seconds: Some(
                off[4..]
                    .parse()
                    .map_err(|_| bad(&format!("has bad stickiness {off:?}")))?,
            ),
        },
        Some("on") => Stickiness {
            enabled: true,
            duration_seconds: None,
        },
        Some(d) => Stickiness {
            enabled: true,
            duration_seconds: Some(
                d.parse()
                    .map_err(|_| bad(&format!("has bad stickiness {d:?}")))?,
            ),
        },
        None => return Err(bad("has no stickiness")),
    };
    let groups = words[2..]
        .iter()
        .map(|w| {
            let (arn, weight) = w
                .rsplit_once('=')
                .ok_or_else(|| bad(&format!("has {w:?}, not ARN=WEIGHT")))?;
            let weight = weight
                .parse()
                .map_err(|_| bad(&format!("has bad weight in {w:?}")))?;
            Ok(WeightedGroup {
                target_group_arn: arn.to_string(),
                weight,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if groups.is_empty() {
        return Err(bad("names no target group: the original route is unknown"));
    }
    Ok(Forward {
        groups,
        stickiness,
        shape,
    })
}

/// Read a record back. `Ok(None)` means no run is recorded; `Err` names the
/// tag that is damaged.
pub fn decode(tags: &BTreeMap<String, String>) -> Result<Option<RunRecord>, String> {
    let Some(run) = tags.get(RUN) else {
        return Ok(None);
    };
    let head = Head::decode(run, RUN)?;
    Ok(Some(RunRecord {
        deregistered: deregistered_of(tags, &head)?,
        run_id: head.run_id,
        strategy: head.strategy,
        started: head.started,
        generation: head.generation,
        step: tags.get(STEP).cloned().unwrap_or_default(),
        green_arn: tags
            .get(GREEN)
            .cloned()
            .ok_or_else(|| format!("tag {GREEN} is missing"))?,
        original: parse_original(&get_chunked(tags, ORIGINAL))?,
        registered: targets_of_words(&get_chunked(tags, REGISTERED)),
        rules: rules_of(tags)?,
    }))
}

/// A target list as tag words, one target a word. The seam for the compact
/// codec: a list of many IPs or instance IDs would use `target_codec` here,
/// and `targets_of_words` would read both forms.
pub fn target_words(targets: &[Target]) -> Vec<String> {
    targets.iter().map(target_word).collect()
}

/// One target as a tag word. An IPv6 address with a port is written
/// `ADDRESS/PORT`: `ADDRESS:PORT` would be ambiguous (`fd00::1:8080` is an
/// address of its own) and tag values cannot hold `[`, `]`.
fn target_word(t: &Target) -> String {
    match t.port {
        Some(p) if is_ipv6(&t.id) => format!("{}/{p}", t.id),
        _ => t.to_string(),
    }
}

fn is_ipv6(id: &str) -> bool {
    id.parse::<std::net::Ipv6Addr>().is_ok()
}

/// The inverse of `target_words`.
pub fn targets_of_words(words: &[String]) -> Vec<Target> {
    words.iter().map(|w| target_of_word(w)).collect()
}

fn target_of_word(w: &str) -> Target {
    if let Some((id, port)) = w.rsplit_once('/') {
        if let (true, Ok(p)) = (is_ipv6(id), port.parse()) {
            return Target {
                id: id.into(),
                port: Some(p),
                az: None,
            };
        }
    }
    parse_target(w)
}

/// `i-0abc`, `10.0.0.1`, `10.0.0.1:8080`, or a Lambda ARN (which has colons
/// but no port).
pub fn parse_target(s: &str) -> Target {
    if !s.starts_with("arn:") {
        if let Some((id, port)) = s.rsplit_once(':') {
            if let Ok(p) = port.parse() {
                if !id.contains(':') {
                    return Target {
                        id: id.into(),
                        port: Some(p),
                        az: None,
                    };
                }
            }
        }
    }
    Target {
        id: s.into(),
        port: None,
        az: None,
    }
}

#[cfg(test)]
#[path = "state_tags_tests.rs"]
mod tests;
