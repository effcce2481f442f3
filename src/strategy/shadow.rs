//! The `shadow` planner: the dark launch's rule plan (`strategy::ab`) with
//! the hold replaced by the replay-and-judge action. The rule matches only
//! the header the replay sends, so no user reaches green; it is deleted
//! at the end, and a revert or `rollback` deletes it too (the engine's
//! convergence: no rule tagged by the run).
//!
//! ```text
//! Record, AwaitHealthy green, CreateRule, Shadow, DeleteRule, Unrecord
//! Record, CreateRule (green at 0), AwaitHealthy green, WriteRule, Shadow, DeleteRule, Unrecord
//! ```

use super::ab::{plan as rule_plan, RuleRunInput};
use crate::engine::{Action, Plan, ShadowSpec};

pub const SHADOW: &str = "shadow";

/// The header only the replay sends; its value is the run's ID.
pub const HEADER: &str = "X-Alb-Rollout-Shadow";

pub fn plan(input: &RuleRunInput, spec: ShadowSpec) -> Plan {
    let mut p = rule_plan(input);
    p.strategy = SHADOW;
    for a in p.actions.iter_mut() {
        if matches!(a, Action::Bake(_)) {
            *a = Action::Shadow(spec.clone());
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::Forward;
    use crate::analysis::NoDataPolicy;
    use crate::shadow::judge::Bounds;
    use crate::strategy::rules::{conditions, Match};
    use std::time::Duration;

    fn spec() -> ShadowSpec {
        ShadowSpec {
            header: HEADER.into(),
            value: "r-1".into(),
            elb: "app/lb/1".into(),
            port: 80,
            blue: "blue".into(),
            priority: 0,
            since: Duration::from_secs(900),
            methods: vec!["GET".into()],
            sample_bp: 10_000,
            rate_milli: 20_000,
            duration: Duration::from_secs(600),
            bounds: Bounds {
                max_mismatch_bp: 500,
                max_latency_ratio_pct: 200,
            },
            on_no_data: NoDataPolicy::Fail,
            replay_auth: false,
        }
    }

    fn kinds(p: &Plan) -> Vec<&'static str> {
        (p.actions.iter())
            .map(|a| match a {
                Action::Record => "record",
                Action::AwaitHealthy { .. } => "healthy",
                Action::CreateRule(_) => "create-rule",
                Action::WriteRule(_) => "write-rule",
                Action::Shadow(_) => "shadow",
                Action::DeleteRule(_) => "delete-rule",
                Action::Unrecord => "unrecord",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn the_rule_plan_with_the_replay_in_its_hold() {
        let original = Forward::single("blue");
        let route = crate::alb::RouteRef::new("l", None);
        let input = |in_use| RuleRunInput {
            strategy: SHADOW,
            route: &route,
            others: &[],
            original: &original,
            blue: "blue",
            green: "green",
            priority: 7,
            conditions: conditions(&[Match::Header {
                name: HEADER.into(),
                value: "r-1".into(),
            }]),
            duration: Duration::from_secs(30),
            keep: false,
            leading: &[],
            green_in_use: in_use,
        };
        let p = plan(&input(true), spec());
        assert_eq!(p.strategy, "shadow");
        assert_eq!(
            kinds(&p),
            [
                "record",
                "healthy",
                "create-rule",
                "shadow",
                "delete-rule",
                "unrecord"
            ]
        );
        let fresh = plan(&input(false), spec());
        assert_eq!(
            kinds(&fresh),
            [
                "record",
                "create-rule",
                "healthy",
                "write-rule",
                "shadow",
                "delete-rule",
                "unrecord"
            ]
        );
        assert!(fresh.actions.contains(&Action::Shadow(spec())));
    }
}
