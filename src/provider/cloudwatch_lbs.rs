//! CloudWatch over target groups on several load balancers (a multi-route
//! run): which load balancers one query names, and which minutes count as
//! ingested when each load balancer publishes its own.

use super::cloudwatch::{by_timestamp, RawAnswer};
use super::MetricTarget;
use std::collections::BTreeMap;

/// The minutes known ingested: with one load balancer, those its own
/// `RequestCount` has; with several, those up to the newest minute every
/// one of them has (CloudWatch ingests each load balancer's minutes in
/// order, so a quiet load balancer's silence in an earlier minute is real).
pub(super) fn ingested(raw: &RawAnswer) -> BTreeMap<i64, f64> {
    let mut all = by_timestamp(&raw.load_balancer);
    if raw.other_load_balancers.is_empty() {
        return all;
    }
    let mut upto = all.keys().next_back().copied();
    for s in &raw.other_load_balancers {
        let each = by_timestamp(s);
        upto = upto.min(each.keys().next_back().copied());
        all.extend(each);
    }
    match upto {
        Some(u) => all.into_iter().filter(|(t, _)| *t <= u).collect(),
        None => BTreeMap::new(),
    }
}

/// The distinct load balancers of the targets, first one first.
pub fn load_balancers(targets: &[MetricTarget]) -> Vec<&str> {
    let mut out: Vec<&str> = vec![];
    for t in targets {
        if !out.contains(&t.load_balancer.as_str()) {
            out.push(&t.load_balancer);
        }
    }
    out
}
