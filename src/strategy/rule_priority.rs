//! Which priority a new managed rule (`ab`, `dark`, the preview rule) takes
//! on a listener, and the rules-per-load-balancer quota, decided from the
//! listener's rules alone.
//!
//! ALB evaluates rules from the lowest priority number to the highest, the
//! default rule last, and the first rule that matches wins. So where a new
//! rule goes decides which requests it can see:
//! - A rule that splits the listener's DEFAULT action must only see requests
//!   that would have reached the default action: it is evaluated after every
//!   other rule. With no `--priority` it takes the highest free priority
//!   (`choose_last`). Were it first, a request with its header for
//!   `/admin/*` or another host would go to green instead of that rule's
//!   service.
//! - A rule that splits ONE rule's traffic (the preview of a `--rule`
//!   canary) carries that rule's conditions and goes just before it: the
//!   highest free priority below that rule's (`choose_before`); none free
//!   is refused, naming the rule.
//! - An explicit `--priority` is the user's choice and is kept when free;
//!   the rules it now comes before, whose requests with the header it takes
//!   to green, are listed by `rules_shadowed` so preflight can warn.
//!
//! Rules this tool did not create keep their priorities bit for bit.
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

/// `choose_last_within` at the default quota of 100 rules.
pub fn choose_last(existing: &[Rule], requested: Option<u32>) -> Result<u32, String> {
    choose_last_within(existing, requested, RULES_PER_ALB_DEFAULT)
}

fn numbered(existing: &[Rule]) -> Vec<(u32, &Rule)> {
    existing
        .iter()
        .filter(|r| !r.is_default)
        .filter_map(|r| r.priority.parse::<u32>().ok().map(|p| (p, r)))
        .collect()
}

fn check_quota(existing: &[Rule], quota: usize) -> Result<(), String> {
    let count = existing.iter().filter(|r| !r.is_default).count();
    if count >= quota {
        return Err(format!(
            "the listener already has {count} rules besides its default, and ALB allows {quota} \
             per load balancer: remove a rule (`alb-rollout routes list` shows this tool's) or \
             raise the \"Rules per Application Load Balancer\" quota in Service Quotas"
        ));
    }
    Ok(())
}

/// The priority for a rule splitting the default action, next to
/// `existing` (the listener's rules, default included or not): `requested`
/// if it is in range and free, else the highest free one, so the rule is
/// evaluated after every other rule. `quota` is the account's
/// rules-per-load-balancer quota.
pub fn choose_last_within(
    existing: &[Rule],
    requested: Option<u32>,
    quota: usize,
) -> Result<u32, String> {
    check_quota(existing, quota)?;
    let numbered = numbered(existing);
    let taken = |p: u32| numbered.iter().find(|(q, _)| *q == p).map(|(_, r)| *r);
    match requested {
        Some(p) if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&p) => Err(format!(
            "--priority {p} is out of range: ALB rule priorities are {MIN_PRIORITY} to \
             {MAX_PRIORITY} (lower is evaluated first)"
        )),
        Some(p) => match taken(p) {
            Some(r) => Err(format!(
                "--priority {p} is taken by rule {}; pick a free priority or leave out \
                 --priority to take the highest free one (evaluated after every other rule)",
                r.arn
            )),
            None => Ok(p),
        },
        None => (MIN_PRIORITY..=MAX_PRIORITY)
            .rev()
            .find(|p| taken(*p).is_none())
            .ok_or_else(|| {
                format!("every priority from {MIN_PRIORITY} to {MAX_PRIORITY} is taken on this listener")
            }),
    }
}

/// The priority for a rule splitting `rule_arn`'s traffic: the highest
/// free one below that rule's, so it is evaluated just before it and after
/// every rule that was evaluated before it.
pub fn choose_before(existing: &[Rule], rule_arn: &str) -> Result<u32, String> {
    check_quota(existing, RULES_PER_ALB_DEFAULT)?;
    let numbered = numbered(existing);
    let Some((own, _)) = numbered.iter().find(|(_, r)| r.arn == rule_arn) else {
        return Err(format!(
            "rule {rule_arn} is not among the listener's numbered rules"
        ));
    };
    (MIN_PRIORITY..*own)
        .rev()
        .find(|p| !numbered.iter().any(|(q, _)| q == p))
        .ok_or_else(|| {
            format!(
                "no free priority just before rule {rule_arn} (priority {own}): every priority \
                 from {MIN_PRIORITY} to {} is taken, so a rule splitting its traffic could not be \
                 evaluated before it; free one below {own} or move the rule to a higher number",
                own - 1
            )
        })
}

/// The rules ALB evaluates after one at `priority`, lowest number first: a
/// request the new rule matches never reaches them, so whichever of their
/// requests also match it go to green instead.
pub fn rules_shadowed(existing: &[Rule], priority: u32) -> Vec<&Rule> {
    let mut after: Vec<(u32, &Rule)> = numbered(existing)
        .into_iter()
        .filter(|(p, _)| *p > priority)
        .collect();
    after.sort_by_key(|(p, _)| *p);
    after.into_iter().map(|(_, r)| r).collect()
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
