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

use super::model::Target;
use super::state_tags::PREFIX;
use super::target_codec;
use std::collections::BTreeMap;

const RUN: &str = "alb-rollout:run";
const STEP: &str = "alb-rollout:step";
const ORIGINAL: &str = "alb-rollout:targets";
const ROUNDS: &str = "alb-rollout:rounds";

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
}

fn key(base: &str, i: usize) -> String {
    match i {
        0 => base.to_string(),
        _ => format!("{base}.{i}"),
    }
}

pub fn encode(r: &GroupRecord) -> BTreeMap<String, String> {
    let mut t = BTreeMap::from([
        (
            RUN.to_string(),
            format!("{} {} {}", r.run_id, r.strategy, r.started),
        ),
        (STEP.to_string(), r.step.clone()),
        (
            ROUNDS.to_string(),
            format!("{} {}", r.batch, r.max_unavailable),
        ),
    ]);
    for (i, v) in target_codec::encode(&r.original).into_iter().enumerate() {
        t.insert(key(ORIGINAL, i), v);
    }
    t
}

/// Whether the record fits on `group` beside its `other` tags (not the
/// run's own): refused at preflight, naming the numbers.
pub fn check_fit(original: &[Target], other: usize, group: &str) -> Result<(), String> {
    target_codec::check_fit(original, other + FIXED_TAGS, group)
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
    let mut parts = run.split(' ');
    let (Some(run_id), Some(strategy), Some(started)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "tag {RUN} is not `RUN-ID STRATEGY STARTED`: {run:?}"
        ));
    };
    let bad_rounds = || format!("tag {ROUNDS} is not `BATCH MAX-UNAVAILABLE`: {rounds:?}");
    let (batch, unavailable) = rounds.split_once(' ').ok_or_else(bad_rounds)?;
    let values: Vec<&String> = (0..).map_while(|i| tags.get(&key(ORIGINAL, i))).collect();
    let mut original = target_codec::decode(&values).map_err(|e| format!("tag {ORIGINAL}: {e}"))?;
    // A set: the codec keeps its own order, callers get a sorted one.
    original.sort();
    Ok(Some(GroupRecord {
        run_id: run_id.to_string(),
        strategy: strategy.to_string(),
        started: started.parse().unwrap_or(0),
        step: tags.get(STEP).cloned().unwrap_or_default(),
        batch: batch.parse().map_err(|_| bad_rounds())?,
        max_unavailable: unavailable.parse().map_err(|_| bad_rounds())?,
        original,
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
