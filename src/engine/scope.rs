//! What a run owns and records itself on: a route (the listener's default
//! action or a rule, for every strategy that moves weights) or one target
//! group (`rolling`, which has no route). The executor asks the scope
//! where the record lives, whether a group serves traffic, and which
//! `rollback` command undoes the run.

use crate::alb::{RouteRef, Target};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Route(RouteRef),
    Group(GroupScope),
}

/// A run inside one target group: its record (`alb::group_record`) and
/// the capacity floor the executor keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupScope {
    pub arn: String,
    /// The group's targets before the run (the record's content).
    pub original: Vec<Target>,
    pub batch: usize,
    pub max_unavailable: usize,
    /// No deregistration may leave fewer healthy targets than this.
    pub floor: usize,
}

impl Scope {
    /// The ARN that carries the run record and heartbeat.
    pub fn owner_arn(&self) -> &str {
        match self {
            Scope::Route(r) => r.owner_arn(),
            Scope::Group(g) => &g.arn,
        }
    }

    pub fn route(&self) -> Option<&RouteRef> {
        match self {
            Scope::Route(r) => Some(r),
            Scope::Group(_) => None,
        }
    }

    /// The listener, for reports; empty for a group run.
    pub fn listener_arn(&self) -> &str {
        self.route().map(RouteRef::listener_arn).unwrap_or("")
    }

    pub fn rule_arn(&self) -> Option<&str> {
        match self {
            Scope::Route(RouteRef::Rule { rule_arn, .. }) => Some(rule_arn),
            _ => None,
        }
    }

    pub fn group(&self) -> Option<&GroupScope> {
        match self {
            Scope::Group(g) => Some(g),
            Scope::Route(_) => None,
        }
    }

    /// The command that undoes a run that could not undo itself.
    pub fn rollback_command(&self) -> String {
        match self {
            Scope::Route(r) => {
                let rule = self
                    .rule_arn()
                    .map(|a| format!(" --rule {a}"))
                    .unwrap_or_default();
                format!("alb-rollout rollback --listener {}{rule}", r.listener_arn())
            }
            Scope::Group(g) => format!("alb-rollout rollback --target-group {}", g.arn),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Route(r) => write!(f, "{r}"),
            Scope::Group(g) => write!(f, "target group {}", g.arn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_commands_name_what_to_restore() {
        let rule = Scope::Route(RouteRef::new("L", Some("R")));
        assert_eq!(
            rule.rollback_command(),
            "alb-rollout rollback --listener L --rule R"
        );
        assert_eq!(rule.owner_arn(), "R");
        let g = Scope::Group(GroupScope {
            arn: "TG".into(),
            original: vec![],
            batch: 1,
            max_unavailable: 0,
            floor: 1,
        });
        assert_eq!(
            g.rollback_command(),
            "alb-rollout rollback --target-group TG"
        );
        assert_eq!((g.owner_arn(), g.listener_arn()), ("TG", ""));
        assert_eq!(g.to_string(), "target group TG");
    }
}
