//! The record of a run that works inside one target group (`rolling`),
//! stored as tags on that group: enough for `rollback --target-group` to
//! restore the group's exact original targets after a `kill -9`.
//!
//! Written whole before the first change. It keeps the original target
//! set (through `target_codec`: exact and checksummed, 1,000 targets in a
//! few tags) rather than what each round added and removed: the original
//! is one list where those would be two, so the record of a 1,000-target
//! group still fits beside the user's tags, and restoring "exactly the
//! original" is then a set difference against the group's live targets.
//! The run key, step and heartbeat are the same tags as a route's record
//! (`state_tags`), so `status` and the lock read both alike.

use super::in_place_record::{self, InPlace};
use super::model::Target;
use super::record_head::{self, Head};
use super::state_tags::PREFIX;
use super::{target_codec, zones};
use std::collections::BTreeMap;

const RUN: &str = "alb-rollout:run";
const STEP: &str = "alb-rollout:step";
const ORIGINAL: &str = "alb-rollout:targets";
const ROUNDS: &str = "alb-rollout:rounds";
const ZONES: &str = "alb-rollout:zones";

/// Tags the record takes besides the original targets: run, step, rounds
/// and the heartbeat.
pub const FIXED_TAGS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub run_id: String,
    pub strategy: String,
    /// Unix seconds when the run recorded itself.
    pub started: u64,
    pub step: String,
    /// Targets per round and `--max-unavailable`: how `rollback` paces
    /// its restore so it keeps the run's bounds.
    pub batch: usize,
    pub max_unavailable: usize,
    /// The group's targets before the run: a set, read back sorted.
    pub original: Vec<Target>,
    /// `rolling --in-place`: its batches and how many have started.
    pub in_place: Option<InPlace>,
}

fn key(base: &str, i: usize) -> String {
    match i {
        0 => base.to_string(),
        _ => format!("{base}.{i}"),
    }
}

/// The record's tags: the head counts the chunks of the coded set and of
/// its zones (`record_head`), so a `--force` over a longer leftover
/// record, killed before the leftover's chunks were removed, still reads.
pub fn encode(r: &GroupRecord) -> BTreeMap<String, String> {
    let mut sorted = r.original.clone();
    sorted.sort();
    let (set, zs) = (target_codec::encode(&sorted), zones::encode(&sorted));
    let head = Head {
        run_id: r.run_id.clone(),
        strategy: r.strategy.clone(),
        started: r.started,
        generation: 0,
        chunks: Some((set.len(), zs.len())),
    };
    let mut t = BTreeMap::from([
        (RUN.to_string(), head.encode()),
        (STEP.to_string(), r.step.clone()),
        (
            ROUNDS.to_string(),
            format!("{} {}", r.batch, r.max_unavailable),
        ),
    ]);
    for (i, v) in set.into_iter().enumerate() {
        t.insert(key(ORIGINAL, i), v);
    }
    for (i, v) in zs.into_iter().enumerate() {
        t.insert(key(ZONES, i), v);
    }
    if let Some(p) = &r.in_place {
        t.extend(in_place_record::encode(&sorted, p));
    }
    t
}

/// Whether the record fits on `group` beside its `other` tags (not the
/// run's own): refused at preflight, naming the numbers.
pub fn check_fit(original: &[Target], other: usize, group: &str) -> Result<(), String> {
    let mut sorted = original.to_vec();
    sorted.sort();
    let zones = zones::encode(&sorted).len();
    target_codec::check_fit(original, other + FIXED_TAGS + zones, group)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The user's tags on a resource: all but the tool's.
pub fn others(tags: &BTreeMap<String, String>) -> usize {
    tags.keys().filter(|k| !k.starts_with(PREFIX)).count()
}

/// Read the record back. `Ok(None)`: no group run recorded here; `Err`
/// names what is damaged.
pub fn decode(tags: &BTreeMap<String, String>) -> Result<Option<GroupRecord>, String> {
    let (Some(run), Some(rounds)) = (tags.get(RUN), tags.get(ROUNDS)) else {
        return Ok(None);
    };
    let head = Head::decode(run, RUN)?;
    let (set, zs) = match head.chunks {
        Some((s, z)) => (Some(s), Some(z)),
        None => (None, None),
    };
    let bad_rounds = || format!("tag {ROUNDS} is not `BATCH MAX-UNAVAILABLE`: {rounds:?}");
    let (batch, unavailable) = rounds.split_once(' ').ok_or_else(bad_rounds)?;
    let values = record_head::chunks(tags, ORIGINAL, set)?;
    let mut original = target_codec::decode(&values).map_err(|e| format!("tag {ORIGINAL}: {e}"))?;
    // A set: the codec keeps its own order, callers get a sorted one.
    original.sort();
    let zone_values = record_head::chunks(tags, ZONES, zs)?;
    zones::apply(&mut original, &zone_values).map_err(|e| format!("tag {ZONES}: {e}"))?;
    let in_place = in_place_record::decode(tags, &original)?;
    Ok(Some(GroupRecord {
        run_id: head.run_id,
        strategy: head.strategy,
        started: head.started,
        step: tags.get(STEP).cloned().unwrap_or_default(),
        batch: batch.parse().map_err(|_| bad_rounds())?,
        max_unavailable: unavailable.parse().map_err(|_| bad_rounds())?,
        original,
        in_place,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::state_tags::parse_target;

    fn record(n: usize) -> GroupRecord {
        GroupRecord {
            run_id: "r-1".into(),
            strategy: "rolling".into(),
            started: 1_700_000_000,
            step: "round 2/10".into(),
            batch: 100,
            max_unavailable: 100,
            original: (0..n)
                .map(|i| parse_target(&format!("i-0{:016x}:8080", i * 7919 + 13)))
                .collect(),
            in_place: None,
        }
    }

    #[test]
    fn round_trips_exactly_up_to_a_full_group_as_a_sorted_set() {
        for n in [1, 2, 50, 1000] {
            let mut r = record(n);
            // As DescribeTargetHealth lists them: in no particular order.
            r.original.reverse();
            r.original.rotate_left(n / 3);
            let tags = encode(&r);
            r.original.sort();
            assert_eq!(decode(&tags), Ok(Some(r)), "{n}");
            assert!(tags.len() <= 50, "{n}: {}", tags.len());
        }
    }

    #[test]
    fn a_route_record_or_no_record_is_not_a_group_record() {
        assert_eq!(decode(&BTreeMap::new()), Ok(None));
        let route = BTreeMap::from([(RUN.to_string(), "r-1 canary 1".to_string())]);
        assert_eq!(decode(&route), Ok(None));
    }

    #[test]
    fn zones_come_back_and_a_record_torn_after_a_longer_leftover_still_reads() {
        let mut r = record(3);
        r.original[1].az = Some("all".into());
        let tags = encode(&r);
        let back = decode(&tags).unwrap().unwrap();
        let mut want = r.original.clone();
        want.sort();
        let zones = |v: &[Target]| v.iter().map(|t| t.az.clone()).collect::<Vec<_>>();
        assert_eq!(zones(&back.original), zones(&want));
        // `--force` over a leftover 1,000-target record, killed between the
        // AddTags of the new one and the RemoveTags of the old chunks.
        let mut torn = encode(&record(1000));
        torn.extend(encode(&record(3)));
        assert_eq!(decode(&torn).unwrap().unwrap().original.len(), 3);
    }

    #[test]
    fn a_record_of_an_earlier_version_still_reads() {
        let mut tags = encode(&record(3));
        tags.insert(RUN.into(), "r-1 rolling 1700000000".into());
        assert_eq!(decode(&tags).unwrap().unwrap().original.len(), 3);
    }

    #[test]
    fn a_torn_record_is_refused_naming_the_tag() {
        let mut tags = encode(&record(1000));
        tags.remove(&key(ORIGINAL, 1));
        let e = decode(&tags).unwrap_err();
        assert!(e.contains(ORIGINAL), "{e}");
        let mut tags = encode(&record(3));
        tags.insert(ROUNDS.into(), "x".into());
        assert!(decode(&tags).unwrap_err().contains(ROUNDS));
    }

    #[test]
    fn the_fit_check_counts_the_users_tags_and_the_runs_own() {
        let r = record(1000);
        let needed = target_codec::tags_needed(&r.original);
        let room = 50 - FIXED_TAGS - needed;
        assert!(check_fit(&r.original, room, "tg").is_ok());
        let e = check_fit(&r.original, room + 1, "tg").unwrap_err();
        assert!(e.contains("tg"), "{e}");
    }
}
