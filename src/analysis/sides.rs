//! A run whose routes are on several load balancers is judged as one:
//! CloudWatch is asked for every load balancer's green and blue in the
//! same `GetMetricData` call (dimensions `TargetGroup` + `LoadBalancer`
//! per pair, a target group serving one load balancer), then each side is
//! summed here, pure: requests, target 5xx and connection errors add up;
//! a response time cannot be added, so a side's is its slowest load
//! balancer's (a slow green behind a quiet load balancer is not hidden by
//! a busy one).

use super::collect::Subjects;
use crate::provider::{Arrival, MetricTarget, Minute, TrafficStats};

/// The query's targets: green, blue (if judged against), then each other
/// load balancer's green and blue.
pub fn targets(subj: &Subjects) -> Vec<MetricTarget> {
    let mut out: Vec<MetricTarget> = std::iter::once(subj.green.clone())
        .chain(subj.blue.clone())
        .collect();
    for o in &subj.other_lbs {
        out.push(o.green.clone());
        out.extend(subj.blue.is_some().then(|| o.blue.clone()));
    }
    out
}

/// Each query target's side (0 green, 1 blue), in `targets` order.
pub fn sides(subj: &Subjects) -> Vec<usize> {
    let pair: &[usize] = match subj.blue.is_some() {
        true => &[0, 1],
        false => &[0],
    };
    (0..=subj.other_lbs.len())
        .flat_map(|_| pair.iter().copied())
        .collect()
}

/// The answer with each side's targets summed: one entry per side.
pub fn fold(a: Arrival, sides: &[usize]) -> Arrival {
    let n = sides.iter().max().map_or(0, |m| m + 1);
    match a {
        Arrival::Arrived(mut t) if sides.len() > n => {
            t.stats = fold_stats(&t.stats, sides, n);
            t.each = (t.each.into_iter())
                .map(|m| Minute {
                    start: m.start,
                    stats: fold_stats(&m.stats, sides, n),
                })
                .collect();
            Arrival::Arrived(t)
        }
        other => other,
    }
}

/// Sums per side; the slowest average response time of a side's targets.
pub fn fold_stats(stats: &[TrafficStats], sides: &[usize], n: usize) -> Vec<TrafficStats> {
    let zero = TrafficStats {
        requests: 0.0,
        target_5xx: 0.0,
        connection_errors: 0.0,
        avg_response_seconds: None,
    };
    let mut out = vec![zero; n];
    for (s, &side) in stats.iter().zip(sides) {
        let o = &mut out[side];
        o.requests += s.requests;
        o.target_5xx += s.target_5xx;
        o.connection_errors += s.connection_errors;
        o.avg_response_seconds = match (o.avg_response_seconds, s.avg_response_seconds) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    out
}

#[cfg(test)]
#[path = "sides_tests.rs"]
mod tests;
