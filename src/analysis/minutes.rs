//! Which CloudWatch minutes a step judges next. Pure.
//!
//! Every minute from the step's first whole minute on is judged exactly
//! once: when it has been ingested, whenever that is (CloudWatch may
//! publish two minutes at once, or an older one after a newer), or, if it
//! never is, as a gap. A load balancer that received no request in a minute
//! publishes nothing for it, so a minute still missing when CloudWatch has
//! ingested `GAP_MINUTES` newer ones is judged as a minute without requests
//! ("no data" under `--on-no-data`), never skipped.
//!
//! Minutes are judged in batches of `--metric-period` minutes, oldest
//! first; a batch waits until it is full. A step has baked once the minutes
//! that counted cover its hold and every minute before the newest judged
//! one has been judged (`Judged::settled`).

use crate::provider::{Minute, TrafficStats};
use std::collections::BTreeSet;

const BUCKET: i64 = 60;
/// How many newer ingested minutes make a missing minute a gap: ALB
/// metrics arrive 1-3 minutes late, so a minute missing behind three newer
/// ones had no requests.
pub const GAP_MINUTES: i64 = 3;

/// A batch to judge: its minutes and each target's traffic summed over them.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub minutes: Vec<i64>,
    pub stats: Vec<TrafficStats>,
}

/// The minutes of one step judged so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judged {
    /// Start of the step's first whole minute.
    pub first: i64,
    pub minutes: BTreeSet<i64>,
}

impl Judged {
    pub fn new(first: i64) -> Self {
        Judged {
            first,
            minutes: BTreeSet::new(),
        }
    }

    /// No minute before the newest judged one is still waiting to be judged.
    pub fn settled(&self) -> bool {
        match self.minutes.last() {
            None => true,
            Some(&last) => {
                let span = (last - self.first) / BUCKET + 1;
                usize::try_from(span).is_ok_and(|n| n == self.minutes.len())
            }
        }
    }
}

fn zero() -> TrafficStats {
    TrafficStats {
        requests: 0.0,
        target_5xx: 0.0,
        connection_errors: 0.0,
        avg_response_seconds: None,
    }
}

/// Sum targets' traffic over minutes; response times weighted by requests.
fn sum(minutes: &[&Minute], targets: usize) -> Vec<TrafficStats> {
    (0..targets)
        .map(|i| {
            let mut total = zero();
            let (mut weighted, mut weight) = (0.0, 0.0);
            for s in minutes.iter().filter_map(|m| m.stats.get(i)) {
                total.requests += s.requests;
                total.target_5xx += s.target_5xx;
                total.connection_errors += s.connection_errors;
                if let Some(avg) = s.avg_response_seconds {
                    let w = s.requests.max(1.0);
                    weighted += avg * w;
                    weight += w;
                }
            }
            total.avg_response_seconds = (weight > 0.0).then(|| weighted / weight);
            total
        })
        .collect()
}

/// The batches to judge now, oldest first, from the ingested minutes `each`
/// (oldest first) of `targets` target groups.
pub fn next_batches(each: &[Minute], judged: &Judged, per: u32, targets: usize) -> Vec<Batch> {
    let newest = each.iter().map(|m| m.start).max();
    let fresh = each
        .iter()
        .filter(|m| m.start >= judged.first && !judged.minutes.contains(&m.start));
    let gap = Minute {
        start: 0,
        stats: Vec::new(),
    };
    let mut due: Vec<(i64, &Minute)> = fresh.map(|m| (m.start, m)).collect();
    if let Some(newest) = newest {
        let ingested: BTreeSet<i64> = each.iter().map(|m| m.start).collect();
        let mut m = judged.first;
        while m + GAP_MINUTES * BUCKET <= newest {
            if !ingested.contains(&m) && !judged.minutes.contains(&m) {
                due.push((m, &gap));
            }
            m += BUCKET;
        }
    }
    due.sort_by_key(|d| d.0);
    let per = usize::try_from(per.max(1)).unwrap_or(1);
    due.chunks_exact(per)
        .map(|chunk| Batch {
            minutes: chunk.iter().map(|d| d.0).collect(),
            stats: sum(&chunk.iter().map(|d| d.1).collect::<Vec<_>>(), targets),
        })
        .collect()
}

#[cfg(test)]
#[path = "minutes_tests.rs"]
mod tests;
