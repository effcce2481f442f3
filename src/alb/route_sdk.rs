//! Pure translation between an ELBv2 action list and the domain's route:
//! reading a forward in its exact shape, writing it back bit for bit, and
//! replacing only the forward in a list that has authenticate steps before
//! it. No I/O, so every shape is unit-tested (`route_sdk_tests.rs`).
//!
//! # What ELBv2 echoes, and the shape rule
//!
//! Sources: the real `DescribeListeners` output quoted in
//! getmoto/moto#4716 (a plain forward comes back as `TargetGroupArn` plus
//! `ForwardConfig { TargetGroups: [{arn, Weight: 1}],
//! TargetGroupStickinessConfig: { Enabled: false } }`); the ELBv2 API and
//! CloudFormation references (`TargetGroupArn` and a one-group
//! `ForwardConfig` name the same group; weights 0..999; stickiness duration
//! 1..604800 s, required when enabled); moto PRs #4956 and #9174 (checked
//! against AWS: a missing stickiness config is echoed `Enabled: false`, a
//! missing weight is 1); hashicorp/terraform-provider-aws#35671 (a one-group
//! `ForwardConfig` keeps its stickiness, and AWS fills in `TargetGroupArn`
//! for it too, so Terraform must fall back on the user's config to tell the
//! two writes apart).
//!
//! So a plain forward and a one-group `ForwardConfig` at weight 1 without
//! stickiness (and without a duration) produce the same echo: nothing AWS
//! returns can tell them apart, and writing either gives that same echo
//! back. The rule: a forward with `TargetGroupArn` whose `ForwardConfig` is
//! absent, or is exactly that one group at weight 1 (or no weight) with
//! stickiness off and no duration, is `ForwardShape::Single`; anything else
//! (another weight, stickiness on, a duration, more groups) is `Weighted`
//! and is written back as a `ForwardConfig` with every group, weight and the
//! stickiness config as read.

use super::model::*;
use aws_sdk_elasticloadbalancingv2::types as sdk;

fn type_name(a: &sdk::Action) -> String {
    a.r#type()
        .map(|t| t.as_str().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

fn is_forward(a: &sdk::Action) -> bool {
    a.r#type() == Some(&sdk::ActionTypeEnum::Forward)
}

/// The list in the order ELBv2 performs it: by `Order`, ties (and a single
/// action without one) in list order.
fn by_order(actions: &[sdk::Action]) -> Vec<&sdk::Action> {
    let mut sorted: Vec<&sdk::Action> = actions.iter().collect();
    sorted.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    sorted
}

/// The domain view of an action list: a forward, optionally after
/// authenticate steps, maps to `Forward`; anything else (redirect,
/// fixed-response, an unsupported step before the forward) is named so
/// callers can refuse it.
pub fn route_action_from_sdk(actions: &[sdk::Action]) -> RouteAction {
    let sorted = by_order(actions);
    let Some((last, before)) = sorted.split_last() else {
        return RouteAction::Other {
            action_type: "none".to_string(),
        };
    };
    if let Some(other) = before
        .iter()
        .find(|a| !LEADING_TYPES.contains(&type_name(a).as_str()))
    {
        return RouteAction::Other {
            action_type: type_name(other),
        };
    }
    if !is_forward(last) {
        return RouteAction::Other {
            action_type: type_name(last),
        };
    }
    RouteAction::Forward(forward_from_sdk(last))
}

/// The steps before the terminal action, for messages and the fake.
pub fn leading_from_sdk(actions: &[sdk::Action]) -> Vec<LeadingAction> {
    let sorted = by_order(actions);
    let n = sorted.len().saturating_sub(1);
    sorted[..n]
        .iter()
        .map(|a| LeadingAction {
            action_type: type_name(a),
            order: a.order(),
        })
        .collect()
}

fn clamp_weight(w: i32) -> u16 {
    w.clamp(0, i32::from(u16::MAX)) as u16
}

/// Read one forward action exactly; see the module comment for the rule.
pub fn forward_from_sdk(action: &sdk::Action) -> Forward {
    let config = action.forward_config();
    let groups: Vec<WeightedGroup> = config
        .map(|c| {
            c.target_groups()
                .iter()
                .filter_map(|t| {
                    Some(WeightedGroup {
                        target_group_arn: t.target_group_arn()?.to_string(),
                        weight: clamp_weight(t.weight().unwrap_or(1)),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let stickiness = config
        .and_then(|c| c.target_group_stickiness_config())
        .map(|s| Stickiness {
            enabled: s.enabled().unwrap_or(false),
            duration_seconds: s.duration_seconds(),
        })
        .unwrap_or_default();
    let weighted = Forward {
        groups,
        stickiness,
        shape: ForwardShape::Weighted,
    };
    match action.target_group_arn() {
        Some(arn) if weighted.groups.is_empty() => Forward::single(arn),
        Some(arn) if weighted.is_plain_echo() && weighted.groups[0].target_group_arn == arn => {
            Forward::single(arn)
        }
        _ => weighted,
    }
}

/// The SDK action that writes `forward` in the shape it has, every group,
/// weight and stickiness field included.
pub fn forward_to_sdk(forward: &Forward) -> sdk::Action {
    let builder = sdk::Action::builder().r#type(sdk::ActionTypeEnum::Forward);
    if forward.shape == ForwardShape::Single && forward.is_plain_echo() {
        return builder
            .target_group_arn(&forward.groups[0].target_group_arn)
            .build();
    }
    let mut config = sdk::ForwardActionConfig::builder();
    for g in &forward.groups {
        config = config.target_groups(
            sdk::TargetGroupTuple::builder()
                .target_group_arn(&g.target_group_arn)
                .weight(i32::from(g.weight))
                .build(),
        );
    }
    let sticky = sdk::TargetGroupStickinessConfig::builder()
        .enabled(forward.stickiness.enabled)
        .set_duration_seconds(forward.stickiness.duration_seconds)
        .build();
    builder
        .forward_config(config.target_group_stickiness_config(sticky).build())
        .build()
}

/// A non-forward action as it must be sent back unchanged. ELBv2 never
/// returns an OIDC client secret (the Terraform provider notes "the LB API
/// currently provides no way to read the ClientSecret"), and a modify without
/// one must say `UseExistingClientSecret`, or the write is refused.
fn resend(action: &sdk::Action) -> sdk::Action {
    let mut a = action.clone();
    if let Some(oidc) = a.authenticate_oidc_config.as_mut() {
        if oidc.client_secret.is_none() {
            oidc.use_existing_client_secret = Some(true);
        }
    }
    a
}

/// The action list to write so that only the forward changes: every other
/// action keeps its place, `Order` and config, and the new forward takes the
/// old forward's `Order`. Refuses a list that has no forward to replace (it
/// changed under us), rather than overwrite a redirect or fixed-response.
pub fn splice_forward(
    current: &[sdk::Action],
    forward: &Forward,
) -> Result<Vec<sdk::Action>, String> {
    if let RouteAction::Other { action_type } = route_action_from_sdk(current) {
        return Err(format!(
            "the route now has a {action_type} action where a forward was expected; nothing was written"
        ));
    }
    Ok(current
        .iter()
        .map(|a| {
            if is_forward(a) {
                let mut f = forward_to_sdk(forward);
                f.order = a.order();
                f
            } else {
                resend(a)
            }
        })
        .collect())
}

#[cfg(test)]
#[path = "route_sdk_tests.rs"]
mod tests;
