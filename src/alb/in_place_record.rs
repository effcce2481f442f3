//! The in-place part of a group run's record (`rolling --in-place`): which
//! of the group's original targets the run deploys to, in which batches,
//! and how many batches' deploys have started. `rollback --undo` undoes
//! exactly those, newest first, after a `kill -9`.
//!
//! The batches are not stored target by target: the planner cuts them from
//! the in-place targets in the group record's own order (sorted), so the
//! batch size, the count started and which originals are in place say it
//! all. `alb-rollout:in-place` is `PER STARTED`; `alb-rollout:in-place-set`
//! (only when the run deploys to some of the group's targets, not all) is a
//! bitmap over the sorted originals in hex: 1,000 targets in 250
//! characters, one tag.

use super::model::Target;
use std::collections::BTreeMap;

pub const IN_PLACE: &str = "alb-rollout:in-place";
pub const IN_PLACE_SET: &str = "alb-rollout:in-place-set";

/// What the record says of an in-place run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InPlace {
    /// The batches in the order the run takes them.
    pub batches: Vec<Vec<Target>>,
    /// How many of them (from the first) had their deploy started.
    pub started: usize,
}

impl InPlace {
    /// The batches whose deploy started, newest first: what an undo undoes.
    pub fn started_newest_first(&self) -> Vec<Vec<Target>> {
        let n = self.started.min(self.batches.len());
        self.batches[..n].iter().rev().cloned().collect()
    }
}

/// How many tags the in-place part takes, for the fit check.
pub fn tags_needed(original: &[Target], targets: &[Target]) -> usize {
    match targets.len() == original.len() {
        true => 1,
        false => 2,
    }
}

/// The batches of `targets` (a subset of `original`), cut as the record
/// can name them: in sorted order, `per` each.
pub fn cut(targets: &[Target], per: usize) -> Vec<Vec<Target>> {
    let mut sorted = targets.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted.chunks(per.max(1)).map(<[Target]>::to_vec).collect()
}

/// The tags of the in-place part, against the record's `original`.
pub fn encode(original: &[Target], p: &InPlace) -> BTreeMap<String, String> {
    let per = p.batches.first().map_or(1, Vec::len);
    let mut out = BTreeMap::from([(IN_PLACE.to_string(), format!("{per} {}", p.started))]);
    let all: Vec<&Target> = p.batches.iter().flatten().collect();
    if all.len() != original.len() {
        let mut sorted = original.to_vec();
        sorted.sort();
        let bits: Vec<bool> = sorted.iter().map(|t| all.contains(&t)).collect();
        out.insert(IN_PLACE_SET.to_string(), hex(&bits));
    }
    out
}

/// The tag that says how many batches' deploys have started.
pub fn started_tag(p: &InPlace) -> BTreeMap<String, String> {
    let per = p.batches.first().map_or(1, Vec::len);
    BTreeMap::from([(IN_PLACE.to_string(), format!("{per} {}", p.started))])
}

fn hex(bits: &[bool]) -> String {
    bits.chunks(4)
        .map(|c| {
            let v = c
                .iter()
                .enumerate()
                .fold(0u32, |v, (i, b)| v | (u32::from(*b) << (3 - i)));
            char::from_digit(v, 16).unwrap_or('0')
        })
        .collect()
}

/// The in-place part, or `Ok(None)` for a run that is not in place.
/// `original` is the record's, sorted.
pub fn decode(
    tags: &BTreeMap<String, String>,
    original: &[Target],
) -> Result<Option<InPlace>, String> {
    let Some(v) = tags.get(IN_PLACE) else {
        return Ok(None);
    };
    let bad = || format!("tag {IN_PLACE} is not `PER STARTED`: {v:?}");
    let (per, started) = v.split_once(' ').ok_or_else(bad)?;
    let per: usize = per.parse().map_err(|_| bad())?;
    let started: usize = started.parse().map_err(|_| bad())?;
    let targets: Vec<Target> = match tags.get(IN_PLACE_SET) {
        None => original.to_vec(),
        Some(set) => {
            let wrong = || {
                format!(
                    "tag {IN_PLACE_SET} is not a bitmap of the record's {} targets",
                    original.len()
                )
            };
            if set.len() != original.len().div_ceil(4) {
                return Err(wrong());
            }
            let mut bits = vec![];
            for c in set.chars() {
                let d = c.to_digit(16).ok_or_else(wrong)?;
                bits.extend((0..4).map(|i| d & (1 << (3 - i)) != 0));
            }
            (original.iter().zip(bits))
                .filter(|(_, b)| *b)
                .map(|(t, _)| t.clone())
                .collect()
        }
    };
    if per == 0 {
        return Err(bad());
    }
    let batches = cut(&targets, per);
    if started > batches.len() {
        return Err(format!(
            "tag {IN_PLACE} says {started} batches started, of {}",
            batches.len()
        ));
    }
    Ok(Some(InPlace { batches, started }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::state_tags::parse_target;

    fn ts(n: usize) -> Vec<Target> {
        (0..n)
            .map(|i| parse_target(&format!("10.0.{}.{}:80", i / 200, i % 200 + 1)))
            .collect()
    }

    #[test]
    fn every_target_in_place_takes_one_tag_and_reads_back_its_batches() {
        let original = ts(5);
        let p = InPlace {
            batches: cut(&original, 2),
            started: 2,
        };
        let tags = encode(&original, &p);
        assert_eq!(tags.len(), 1);
        assert_eq!(decode(&tags, &original), Ok(Some(p.clone())));
        assert_eq!(
            p.started_newest_first(),
            vec![p.batches[1].clone(), p.batches[0].clone()]
        );
    }

    #[test]
    fn some_targets_in_place_of_a_full_group_fit_one_more_tag() {
        let mut original = ts(1000);
        original.sort();
        let some: Vec<Target> = original.iter().step_by(3).cloned().collect();
        let p = InPlace {
            batches: cut(&some, 50),
            started: 1,
        };
        let tags = encode(&original, &p);
        assert!(
            tags[IN_PLACE_SET].len() <= 255,
            "{}",
            tags[IN_PLACE_SET].len()
        );
        assert_eq!(decode(&tags, &original), Ok(Some(p)));
    }

    #[test]
    fn a_damaged_in_place_record_is_refused_naming_the_tag() {
        let original = ts(4);
        let no = BTreeMap::new();
        assert_eq!(decode(&no, &original), Ok(None));
        for (k, v) in [
            (IN_PLACE, "2"),
            (IN_PLACE, "0 1"),
            (IN_PLACE, "2 3"),
            (IN_PLACE_SET, "fff"),
        ] {
            let mut tags = BTreeMap::from([(IN_PLACE.to_string(), "2 1".to_string())]);
            tags.insert(k.into(), v.into());
            let e = decode(&tags, &original).unwrap_err();
            assert!(e.contains(k), "{k}={v}: {e}");
        }
    }
}
