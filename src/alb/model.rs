//! Value types for listeners, rules, target groups and target health, as
//! alb-rollout reasons about them. The route types (forward, stickiness,
//! shapes, leading actions) live in `route` and are re-exported here.

use serde::Serialize;
use std::fmt;

pub use super::route::*;

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

/// A rule condition in display form, e.g. `path-pattern` = [`/api/*`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Condition {
    pub field: String,
    /// For http-header, the header name; for query-string, unused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub values: Vec<String>,
    /// Regular expressions (ALB regex matching, 2025: `RegexValues` of
    /// host-header, path-pattern and http-header), matched besides `values`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regex_values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub arn: String,
    /// `"default"` or a number, as ELBv2 reports it.
    pub priority: String,
    pub is_default: bool,
    pub conditions: Vec<Condition>,
    /// Authenticate steps before the forward; kept as they are by every write.
    pub leading: Vec<LeadingAction>,
    pub action: RouteAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    pub arn: String,
    pub load_balancer_arn: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    /// Authenticate steps before the default forward; never changed.
    pub leading: Vec<LeadingAction>,
    pub default_action: RouteAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    pub vpc_id: Option<String>,
    pub lb_type: Option<String>,
    /// `DNSName`: what a hook reaches the load balancer at.
    pub dns_name: Option<String>,
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
/// an optional port (absent for Lambda, or to use the group's port) and the
/// Availability Zone ELBv2 reports for it (`all` for an IP outside the VPC
/// that every zone sends to; none for instances). The zone is carried so a
/// target taken out can be registered again exactly: an IP outside the VPC
/// is refused without it.
///
/// A target is identified by its ID and port, as ELBv2 identifies it in a
/// group: two values that differ only in the zone are the same target
/// (equality, order and hashing ignore `az`).
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    #[serde(rename = "availability_zone", skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
}

impl Target {
    pub fn new(id: &str, port: Option<i32>) -> Self {
        Target {
            id: id.to_string(),
            port,
            az: None,
        }
    }

    fn key(&self) -> (&str, Option<i32>) {
        (&self.id, self.port)
    }
}

impl PartialEq for Target {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Target {}

impl std::hash::Hash for Target {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl PartialOrd for Target {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Target {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// Targets for a message: all of a few, the first ones and a count of many
/// (a rolling round can move a hundred).
pub fn list_targets(targets: &[Target]) -> String {
    const SHOWN: usize = 4;
    let words: Vec<String> = targets.iter().take(SHOWN).map(Target::to_string).collect();
    match targets.len() {
        n if n <= SHOWN => words.join(", "),
        n => format!("{} targets ({}, ...)", n, words.join(", ")),
    }
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
