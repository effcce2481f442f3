//! The rule planners as a table: `--keep`, strategy and duration to the
//! run's actions, and the revert's convergence from a failure at every
//! position: the rule deleted if it is there, never created again, the
//! route never written.

use super::*;
use crate::strategy::rules::{conditions, parse_matches};

fn kind(a: &Action) -> String {
    match a {
        Action::Record => "record".into(),
        Action::AwaitHealthy { group, .. } => format!("await-healthy {}", group.arn),
        Action::CreateRule(r) => format!("create-rule {}", r.priority),
        Action::DeleteRule(r) => format!("delete-rule {}", r.priority),
        Action::WriteRule(w) => format!("write-rule {}", w.rule.priority),
        Action::Bake(b) => format!("bake {}s", b.duration.as_secs()),
        Action::Unrecord => "unrecord".into(),
        other => format!("{other:?}"),
    }
}

fn input(
    strategy: &'static str,
    keep: bool,
    secs: u64,
) -> (Forward, Vec<Condition>, bool, u64, &'static str) {
    let m = parse_matches(&["header:X-Variant=b".to_string()]).unwrap();
    (
        Forward::single("blue"),
        conditions(&m),
        keep,
        secs,
        strategy,
    )
}

fn planned(strategy: &'static str, keep: bool, secs: u64) -> Plan {
    let (original, conditions, keep, secs, strategy) = input(strategy, keep, secs);
    plan(&RuleRunInput {
        strategy,
        route: &crate::alb::RouteRef::new("L", None),
        others: &[],
        original: &original,
        blue: "blue",
        green: "green",
        priority: 7,
        conditions,
        duration: Duration::from_secs(secs),
        keep,
        leading: &[],
        green_in_use: true,
    })
}

fn planned_detached(strategy: &'static str, keep: bool) -> Plan {
    let (original, conditions, keep, secs, strategy) = input(strategy, keep, 60);
    plan(&RuleRunInput {
        strategy,
        route: &crate::alb::RouteRef::new("L", None),
        others: &[],
        original: &original,
        blue: "blue",
        green: "green",
        priority: 7,
        conditions,
        duration: Duration::from_secs(secs),
        keep,
        leading: &[],
        green_in_use: false,
    })
}

#[test]
fn a_green_nothing_forwards_to_is_put_in_use_by_its_rule_at_weight_zero_first() {
    for strategy in [AB, DARK] {
        let p = planned_detached(strategy, false);
        let got: Vec<String> = p.actions.iter().map(kind).collect();
        assert_eq!(
            got,
            vec![
                "record",
                "create-rule 7",
                "await-healthy green",
                "write-rule 7",
                "bake 60s",
                "delete-rule 7",
                "unrecord"
            ],
            "{strategy}"
        );
        let Action::CreateRule(r) = &p.actions[1] else {
            panic!("{:?}", p.actions)
        };
        assert_eq!(
            r.forward.weight_of("green"),
            Some(0),
            "no request to green yet"
        );
        assert_eq!(
            r.forward.percent_of("blue"),
            100.0,
            "the segment stays on blue"
        );
        let Action::WriteRule(w) = &p.actions[3] else {
            panic!("{:?}", p.actions)
        };
        assert_eq!((&w.rule, &w.to), (r, &Forward::single("green")));
        assert!(p.actions.iter().all(|a| a.route_write().is_none()));
        // A failure anywhere after the create deletes the rule, weight-0
        // entry and all; the route is never written.
        for at in 1..5 {
            let blue = [crate::alb::Target::new("10.0.1.1", None)];
            let revert: Vec<String> = crate::engine::sim::route_revert(&p, at, true, &blue)
                .iter()
                .map(|s| match s {
                    crate::engine::converge::Step::DeleteRule(r) => {
                        format!("delete-rule {}", r.priority)
                    }
                    other => format!("{other:?}"),
                })
                .collect();
            assert_eq!(revert, vec!["delete-rule 7"], "{strategy} at {at}");
        }
    }
}

#[test]
fn the_rule_carries_the_default_actions_login_before_its_forward() {
    let m = parse_matches(&["header:X-Variant=b".to_string()]).unwrap();
    let login = [LeadingAction {
        action_type: "authenticate-oidc".into(),
        order: Some(1),
    }];
    let spec = rule(&RuleRunInput {
        strategy: AB,
        route: &crate::alb::RouteRef::new("L", None),
        others: &[],
        original: &Forward::single("blue"),
        blue: "blue",
        green: "green",
        priority: 50_000,
        conditions: conditions(&m),
        duration: Duration::from_secs(60),
        keep: false,
        leading: &login,
        green_in_use: true,
    });
    assert_eq!(spec.carry.from, Some(RouteRef::new("L", None)));
    assert_eq!(spec.carry.leading, login);
    assert_eq!(spec.forward, Forward::single("green"));
}

#[test]
fn rule_runs_plan_their_actions() {
    let cases: Vec<(&str, bool, u64, Vec<&str>)> = vec![
        (
            AB,
            false,
            600,
            vec![
                "record",
                "await-healthy green",
                "create-rule 7",
                "bake 600s",
                "delete-rule 7",
                "unrecord",
            ],
        ),
        (
            AB,
            true,
            60,
            vec![
                "record",
                "await-healthy green",
                "create-rule 7",
                "bake 60s",
                "unrecord",
            ],
        ),
        (
            DARK,
            false,
            30,
            vec![
                "record",
                "await-healthy green",
                "create-rule 7",
                "bake 30s",
                "delete-rule 7",
                "unrecord",
            ],
        ),
        (
            DARK,
            true,
            30,
            vec![
                "record",
                "await-healthy green",
                "create-rule 7",
                "bake 30s",
                "unrecord",
            ],
        ),
    ];
    for (strategy, keep, secs, want) in cases {
        let p = planned(strategy, keep, secs);
        let got: Vec<String> = p.actions.iter().map(kind).collect();
        assert_eq!(got, want, "{strategy} keep={keep}");
        assert_eq!(p.strategy, strategy);
        assert_eq!(
            p.original,
            Forward::single("blue"),
            "the route is only named"
        );
        assert!(
            p.actions.iter().all(|a| a.route_write().is_none()),
            "never writes the route"
        );
    }
}

#[test]
fn the_rule_forwards_the_segment_to_green_alone() {
    let p = planned(AB, false, 60);
    let Action::CreateRule(r) = &p.actions[2] else {
        panic!("{:?}", p.actions)
    };
    assert_eq!(r.listener_arn, "L");
    assert_eq!(r.forward, Forward::single("green"));
    assert_eq!(r.conditions[0].field, "http-header");
    assert_eq!(r.conditions[0].key.as_deref(), Some("X-Variant"));
    assert_eq!(r.conditions[0].values, vec!["b"]);
}

#[test]
fn a_failure_anywhere_deletes_the_rule_only_if_it_was_created() {
    for keep in [false, true] {
        let p = planned(AB, keep, 60);
        for at in 1..p.actions.len() {
            let applied = &p.actions[..=at];
            let blue = [crate::alb::Target::new("10.0.1.1", None)];
            let revert: Vec<String> = crate::engine::sim::route_revert(&p, at, true, &blue)
                .iter()
                .map(|s| match s {
                    crate::engine::converge::Step::DeleteRule(r) => {
                        format!("delete-rule {}", r.priority)
                    }
                    other => format!("{other:?}"),
                })
                .collect();
            let created = applied.iter().any(|a| matches!(a, Action::CreateRule(_)));
            let deleted = applied.iter().any(|a| matches!(a, Action::DeleteRule(_)));
            // Deleted as planned, then failed (e.g. at Unrecord): nothing
            // to do; the rule is never created again.
            let want: Vec<&str> = match (created, deleted) {
                (true, false) => vec!["delete-rule 7"],
                _ => vec![],
            };
            assert_eq!(
                revert,
                want,
                "keep={keep}, failed at {}",
                kind(&p.actions[at])
            );
        }
    }
}
