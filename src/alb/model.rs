//! Value types for listeners, rules, forward actions, target groups and
//! target health, as alb-rollout reasons about them.

use serde::Serialize;
use std::fmt;

/// The largest weight ELBv2 accepts for one target group in a forward action.
pub const MAX_WEIGHT: u16 = 999;
/// ELBv2 allows at most this many target groups in one forward action.
pub const MAX_GROUPS_PER_FORWARD: usize = 5;

/// Which forward action a run changes: a listener's default action or one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RouteRef {
    ListenerDefault {
        listener_arn: String,
    },
    Rule {
        listener_arn: String,
        rule_arn: String,
    },
}

impl RouteRef {
    pub fn new(listener_arn: &str, rule_arn: Option<&str>) -> Self {
        match rule_arn {
            Some(rule) => RouteRef::Rule {
                listener_arn: listener_arn.to_string(),
                rule_arn: rule.to_string(),
            },
            None => RouteRef::ListenerDefault {
                listener_arn: listener_arn.to_string(),
            },
        }
    }

    pub fn listener_arn(&self) -> &str {
        match self {
            RouteRef::ListenerDefault { listener_arn } | RouteRef::Rule { listener_arn, .. } => {
                listener_arn
            }
        }
    }

    /// The ARN that carries the run record tags: the rule when a rule is
    /// shifted (so two runs on two rules of one listener do not collide),
    /// the listener otherwise.
    pub fn owner_arn(&self) -> &str {
        match self {
            RouteRef::ListenerDefault { listener_arn } => listener_arn,
            RouteRef::Rule { rule_arn, .. } => rule_arn,
        }
    }
}

impl fmt::Display for RouteRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteRef::ListenerDefault { listener_arn } => {
                write!(f, "default action of listener {listener_arn}")
            }
            RouteRef::Rule { rule_arn, .. } => write!(f, "rule {rule_arn}"),
        }
    }
}

/// One target group in a forward action with its weight (0..=999).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeightedGroup {
    pub target_group_arn: String,
    pub weight: u16,
}

/// Group stickiness of a weighted forward action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Stickiness {
    pub enabled: bool,
    pub duration_seconds: Option<i32>,
}

/// How the forward was written, so a revert restores the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardShape {
    /// `Forward { TargetGroupArn }`: one group, no weights.
    Single,
    /// `Forward { ForwardConfig { TargetGroups: [...] } }`.
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

    /// True when both describe the same traffic split and stickiness. The
    /// shape is ignored: ELBv2 may echo a single-group forward as weighted.
    pub fn same_routing(&self, other: &Forward) -> bool {
        let norm = |f: &Forward| {
            let mut g: Vec<(String, u16)> = f
                .groups
                .iter()
                .map(|g| (g.target_group_arn.clone(), g.weight))
                .collect();
            g.sort();
            g
        };
        let sticky_eq = self.stickiness.enabled == other.stickiness.enabled
            && (!self.stickiness.enabled
                || self.stickiness.duration_seconds == other.stickiness.duration_seconds);
        let single_eq = self.groups.len() == 1
            && other.groups.len() == 1
            && self.groups[0].target_group_arn == other.groups[0].target_group_arn;
        sticky_eq && (single_eq || norm(self) == norm(other))
    }
}

/// What a route does. Only forwards can be shifted; anything else is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum RouteAction {
    Forward(Forward),
    /// redirect, fixed-response, authenticate-oidc, authenticate-cognito, ...
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

/// A rule condition in display form, e.g. `path-pattern` = [`/api/*`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub field: String,
    /// For http-header, the header name; for query-string, unused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub arn: String,
    /// `"default"` or a number, as ELBv2 reports it.
    pub priority: String,
    pub is_default: bool,
    pub conditions: Vec<Condition>,
    pub action: RouteAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    pub arn: String,
    pub load_balancer_arn: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub default_action: RouteAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    pub vpc_id: Option<String>,
    pub lb_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub vpc_id: Option<String>,
    pub target_type: String,
    pub load_balancer_arns: Vec<String>,
}

/// A target: an instance ID, an IP address, a Lambda ARN or an ALB ARN, with
/// an optional port (absent for Lambda, or to use the group's port).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Target {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.id),
            None => write!(f, "{}", self.id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthState {
    Initial,
    Healthy,
    Unhealthy,
    UnhealthyDraining,
    Unused,
    Draining,
    Unavailable,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Initial => "initial",
            HealthState::Healthy => "healthy",
            HealthState::Unhealthy => "unhealthy",
            HealthState::UnhealthyDraining => "unhealthy.draining",
            HealthState::Unused => "unused",
            HealthState::Draining => "draining",
            HealthState::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetHealth {
    pub target: Target,
    pub state: HealthState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Counts of targets per health state in one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct HealthCounts {
    pub healthy: usize,
    pub unhealthy: usize,
    pub initial: usize,
    pub draining: usize,
    pub unused: usize,
    pub unavailable: usize,
}

impl HealthCounts {
    pub fn of(healths: &[TargetHealth]) -> Self {
        let mut c = HealthCounts::default();
        for h in healths {
            match h.state {
                HealthState::Healthy => c.healthy += 1,
                HealthState::Unhealthy | HealthState::UnhealthyDraining => c.unhealthy += 1,
                HealthState::Initial => c.initial += 1,
                HealthState::Draining => c.draining += 1,
                HealthState::Unused => c.unused += 1,
                HealthState::Unavailable => c.unavailable += 1,
            }
        }
        c
    }

    /// Targets that take or will take traffic (draining ones are leaving).
    pub fn serving_total(&self) -> usize {
        self.healthy + self.unhealthy + self.initial + self.unused + self.unavailable
    }
}

impl fmt::Display for HealthCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} healthy", self.healthy)?;
        for (n, label) in [
            (self.unhealthy, "unhealthy"),
            (self.initial, "initial"),
            (self.draining, "draining"),
            (self.unused, "unused"),
            (self.unavailable, "unavailable"),
        ] {
            if n > 0 {
                write!(f, ", {n} {label}")?;
            }
        }
        Ok(())
    }
}

/// The short form of an ARN used in messages and CloudWatch dimensions:
/// `targetgroup/name/id`, `app/name/id`, `listener/app/name/id/id`.
pub fn arn_resource(arn: &str) -> &str {
    match arn.split_once(":loadbalancer/") {
        Some((_, rest)) => rest,
        None => arn.rsplit(':').next().unwrap_or(arn),
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
