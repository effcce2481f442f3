//! What a route does, in the domain's words: the forward action alb-rollout
//! shifts (groups, weights, group stickiness and the shape it was written
//! in), the authenticate steps that may run before it, and the other
//! actions (redirect, fixed-response) it refuses to touch.

use serde::Serialize;

use super::model::arn_resource;

/// One target group in a forward action with its weight (0..=999).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeightedGroup {
    pub target_group_arn: String,
    pub weight: u16,
}

/// Group stickiness of a forward action, exactly as ELBv2 reports it: a
/// disabled config may still carry a duration, and a revert writes it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Stickiness {
    pub enabled: bool,
    pub duration_seconds: Option<i32>,
}

/// How the forward was written, so a revert restores the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardShape {
    /// `Forward { TargetGroupArn }`: one group, weight 1, no stickiness.
    Single,
    /// `Forward { ForwardConfig { TargetGroups, TargetGroupStickinessConfig } }`,
    /// one group or more.
    Weighted,
}

/// A forward action: where the route sends its traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forward {
    pub groups: Vec<WeightedGroup>,
    pub stickiness: Stickiness,
    pub shape: ForwardShape,
}

impl Forward {
    pub fn single(target_group_arn: &str) -> Self {
        Forward {
            groups: vec![WeightedGroup {
                target_group_arn: target_group_arn.to_string(),
                weight: 1,
            }],
            stickiness: Stickiness::default(),
            shape: ForwardShape::Single,
        }
    }

    /// A weighted forward without stickiness, from (ARN, weight) pairs.
    pub fn weighted(groups: &[(&str, u16)]) -> Self {
        Forward {
            groups: groups
                .iter()
                .map(|(arn, weight)| WeightedGroup {
                    target_group_arn: arn.to_string(),
                    weight: *weight,
                })
                .collect(),
            stickiness: Stickiness::default(),
            shape: ForwardShape::Weighted,
        }
    }

    /// `name weight` for each group, for progress lines.
    pub fn weights_text(&self) -> String {
        self.groups
            .iter()
            .map(|g| format!("{} {}", arn_resource(&g.target_group_arn), g.weight))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn weight_of(&self, target_group_arn: &str) -> Option<u16> {
        self.groups
            .iter()
            .find(|g| g.target_group_arn == target_group_arn)
            .map(|g| g.weight)
    }

    pub fn total_weight(&self) -> u32 {
        self.groups.iter().map(|g| u32::from(g.weight)).sum()
    }

    /// Share of traffic (0.0..=100.0) a group receives under this action.
    pub fn percent_of(&self, target_group_arn: &str) -> f64 {
        let total = self.total_weight();
        match self.weight_of(target_group_arn) {
            Some(w) if total > 0 => f64::from(w) * 100.0 / f64::from(total),
            _ => 0.0,
        }
    }

    /// True when ELBv2 answers a plain `TargetGroupArn` forward and this one
    /// with the same echo: one group at weight 1, stickiness off and no
    /// duration. Those two writes cannot be told apart by any later read, so
    /// the plain shape stands for both.
    pub fn is_plain_echo(&self) -> bool {
        self.groups.len() == 1
            && self.groups[0].weight == 1
            && self.stickiness == Stickiness::default()
    }

    /// The shape ELBv2's echo of this forward will read back as.
    pub fn echo_shape(&self) -> ForwardShape {
        if self.is_plain_echo() {
            ForwardShape::Single
        } else {
            ForwardShape::Weighted
        }
    }

    /// True when a read-back of `other` proves `self` is in place: the same
    /// groups with the same weights (weight-0 groups included), the same
    /// stickiness (enabled and duration) and the same shape as ELBv2 echoes
    /// it. Only the order of the groups is ignored: it does not change the
    /// split and ELBv2 does not promise to keep it.
    pub fn same_routing(&self, other: &Forward) -> bool {
        fn norm(f: &Forward) -> Vec<(&str, u16)> {
            let mut g: Vec<(&str, u16)> = f
                .groups
                .iter()
                .map(|g| (g.target_group_arn.as_str(), g.weight))
                .collect();
            g.sort_unstable();
            g
        }
        self.stickiness == other.stickiness
            && self.echo_shape() == other.echo_shape()
            && norm(self) == norm(other)
    }
}

/// A step that runs before the forward (`authenticate-oidc`,
/// `authenticate-cognito`, `jwt-validation`). alb-rollout never rewrites
/// one: the AWS adapter sends back the live action as ELBv2 returned it, and
/// copies it into every rule it creates (`alb::rule_sdk`), so this is only
/// the view for messages, read-backs and the fake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeadingAction {
    pub action_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i32>,
}

/// The action types alb-rollout carries through unchanged before a forward.
/// Others (future types the SDK may not model fully) are refused rather than
/// risk writing back a lossy copy. `jwt-validation` (ALB, 2025) is modelled
/// in full by the SDK in Cargo.lock (`JwtValidationActionConfig`).
pub const LEADING_TYPES: &[&str] = &[
    "authenticate-oidc",
    "authenticate-cognito",
    "jwt-validation",
];

/// The leading action type whose config holds a secret ELBv2 never returns.
pub const OIDC: &str = "authenticate-oidc";

/// True when any of `leading` needs the OIDC client secret to be copied
/// into a new rule (CreateRule cannot say `UseExistingClientSecret`).
pub fn needs_client_secret(leading: &[LeadingAction]) -> bool {
    leading.iter().any(|l| l.action_type == OIDC)
}

/// `authenticate-oidc, jwt-validation` for messages; `none` when empty.
pub fn leading_text(leading: &[LeadingAction]) -> String {
    if leading.is_empty() {
        return "none".to_string();
    }
    let names: Vec<&str> = leading.iter().map(|l| l.action_type.as_str()).collect();
    names.join(", ")
}

/// What a route does. Only forwards can be shifted; anything else is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum RouteAction {
    Forward(Forward),
    /// redirect, fixed-response, or an unsupported step before the forward.
    Other {
        action_type: String,
    },
}

impl RouteAction {
    pub fn as_forward(&self) -> Option<&Forward> {
        match self {
            RouteAction::Forward(f) => Some(f),
            RouteAction::Other { .. } => None,
        }
    }

    pub fn type_name(&self) -> &str {
        match self {
            RouteAction::Forward(_) => "forward",
            RouteAction::Other { action_type } => action_type,
        }
    }
}
