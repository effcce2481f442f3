//! Which priority a new managed rule (`ab`, `dark`) takes on a listener, and
//! the rules-per-load-balancer quota, decided from the listener's rules alone.
//!
//! ALB evaluates rules from the lowest priority number to the highest, the
//! default rule last. With no `--priority`, the rule takes the lowest free
//! number: the earliest place it can be evaluated without moving a rule this
//! tool did not create (those keep their priorities bit for bit). Rules with a
//! lower number still run first, and a request they match never reaches the
//! new rule; `rules_before` lists them so preflight can say so.
//!
//! Sources: RulePriority is 1..=50000 (botocore elbv2 model); a priority in
//! use is `PriorityInUse`; "Rules per Application Load Balancer (excluding
//! default rules)" is 100 by default and adjustable (ALB quotas page), and
//! beyond it CreateRule answers `TooManyRules`. The quota counts the whole
//! load balancer; this check sees one listener, so it catches the common case
//! and AWS's answer covers the rest.

use crate::alb::Rule;

pub const MIN_PRIORITY: u32 = 1;
pub const MAX_PRIORITY: u32 = 50_000;
/// The default "rules per Application Load Balancer" quota, default rules excluded.
pub const RULES_PER_ALB_DEFAULT: usize = 100;

/// `choose_priority_within` at the default quota of 100 rules.
pub fn choose_priority(existing: &[Rule], requested: Option<u32>) -> Result<u32, String> {
    choose_priority_within(existing, requested, RULES_PER_ALB_DEFAULT)
}

/// The priority for a new rule next to `existing` (the listener's rules,
/// default included or not): `requested` if it is in range and free, else the
/// lowest free one. `quota` is the account's rules-per-load-balancer quota.
pub fn choose_priority_within(
    existing: &[Rule],
    requested: Option<u32>,
    quota: usize,
) -> Result<u32, String> {
    let numbered: Vec<(u32, &Rule)> = existing
        .iter()
        .filter(|r| !r.is_default)
        .filter_map(|r| r.priority.parse::<u32>().ok().map(|p| (p, r)))
        .collect();
    let count = existing.iter().filter(|r| !r.is_default).count();
    if count >= quota {
        return Err(format!(
            "the listener already has {count} rules besides its default, and ALB allows {quota} \
             per load balancer: remove a rule (`alb-rollout routes list` shows this tool's) or \
             raise the \"Rules per Application Load Balancer\" quota in Service Quotas"
        ));
    }
    match requested {
        Some(p) if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&p) => Err(format!(
            "--priority {p} is out of range: ALB rule priorities are {MIN_PRIORITY} to \
             {MAX_PRIORITY} (lower is evaluated first)"
        )),
        Some(p) => match numbered.iter().find(|(q, _)| *q == p) {
            Some((_, r)) => Err(format!(
                "--priority {p} is taken by rule {}; pick a free priority or leave out \
                 --priority to take the lowest free one",
                r.arn
            )),
            None => Ok(p),
        },
        None => (MIN_PRIORITY..=MAX_PRIORITY)
            .find(|p| !numbered.iter().any(|(q, _)| q == p))
            .ok_or_else(|| {
                format!("every priority from {MIN_PRIORITY} to {MAX_PRIORITY} is taken on this listener")
            }),
    }
}

/// The rules ALB evaluates before one at `priority`, lowest number first: a
/// request any of them matches never reaches it.
pub fn rules_before(existing: &[Rule], priority: u32) -> Vec<&Rule> {
    let mut before: Vec<(u32, &Rule)> = existing
        .iter()
        .filter(|r| !r.is_default)
        .filter_map(|r| r.priority.parse::<u32>().ok().map(|p| (p, r)))
        .filter(|(p, _)| *p < priority)
        .collect();
    before.sort_by_key(|(p, _)| *p);
    before.into_iter().map(|(_, r)| r).collect()
}
