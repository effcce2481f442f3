//! The dry run's calls for the writes that attach a group at weight 0
//! (AWS health-checks only a group a listener or rule forwards to) or take
//! blue's weight-0 entry out after the full deploy's last batch, and for
//! the rewrite of a rule that `ab` or `dark` created with green at weight 0.

use super::{call, drift_call, rule_text, write_call, PlannedCall};
use crate::alb::RouteRef;
use crate::engine::{Purpose, RouteWrite, RuleSpec, RuleWrite};

/// The attach (green added at weight 0: AWS health-checks only a group a
/// listener or rule forwards to) or the full deploy's detach (blue's
/// weight-0 entry removed after its last batch): the drift check, then the
/// write and its read-back. No share rises, so no health is read first.
pub(super) fn weight_zero_calls(route: &RouteRef, w: &RouteWrite) -> Vec<PlannedCall> {
    let (expected, why) = match w.purpose {
        Purpose::Attach => (
            "the original read at preflight",
            "attach green at weight 0 first: no listener or rule of the load balancer forwards to it, so AWS does not health-check it (its targets read unused, Target.NotInUse); no request moves",
        ),
        _ => (
            "what the promotion wrote",
            "blue's last batch is gone: its weight-0 entry leaves the route (--final-route green-only)",
        ),
    };
    let mut write = write_call(route, &w.to);
    write.detail = format!("{why}: {}", write.detail);
    vec![drift_call(route, expected), write]
}

/// The rule found by its priority and tag, read as created, green's health
/// (its share rises), the write with its read-back.
pub(super) fn rule_write_calls(w: &RuleWrite) -> Vec<PlannedCall> {
    let r = &w.rule;
    let to = RuleSpec {
        forward: w.to.clone(),
        ..r.clone()
    };
    let green = (w.to.groups.iter())
        .find(|g| w.to.percent_of(&g.target_group_arn) > r.forward.percent_of(&g.target_group_arn))
        .map(|g| g.target_group_arn.as_str())
        .unwrap_or_default();
    vec![
        call(
            "DescribeRules",
            &r.listener_arn,
            format!(
                "find {} and check it still forwards as created",
                rule_text(r)
            ),
        ),
        call(
            "DescribeTags",
            &r.listener_arn,
            "rewrite it only if this run created it".into(),
        ),
        call(
            "DescribeTargetHealth",
            green,
            "green must have a healthy target before the rule sends it requests".into(),
        ),
        call(
            "ModifyRule",
            &r.listener_arn,
            format!("{}; then DescribeRules to verify", rule_text(&to)),
        ),
    ]
}
