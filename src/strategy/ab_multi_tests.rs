//! `ab` and `dark` over two routes: the plan's shape (each rule action on
//! every route's rule, the first route's first), each rule on its own
//! listener with its own conditions, and the revert's convergence from a
//! failure at every position (before and after its send, as a `kill -9`
//! there and `rollback` would find it): no rule of the run on either
//! listener, the routes never written.

use super::*;
use crate::alb::state_tags::{RunRecord, FOLLOWS_STEP};
use crate::engine::converge::{self, Context, Step};
use crate::engine::goal::Goal;
use crate::engine::sim::{record_at, World};

const L1: &str = "arn:l1";
const L2: &str = "arn:l2";

fn header() -> Vec<Condition> {
    vec![Condition {
        field: "http-header".into(),
        key: Some("X-Variant".into()),
        values: vec!["b".into()],
        ..Default::default()
    }]
}

fn second(priority: u32) -> RouteRule {
    RouteRule {
        route: RouteRef::new(L2, None),
        original: Forward::single("blue"),
        priority,
        conditions: header(),
        leading: vec![],
    }
}

fn planned(strategy: &'static str, in_use: bool, keep: bool, p2: u32) -> Plan {
    plan(&RuleRunInput {
        strategy,
        route: &RouteRef::new(L1, None),
        others: &[second(p2)],
        original: &Forward::single("blue"),
        blue: "blue",
        green: "green",
        priority: 7,
        conditions: header(),
        duration: Duration::from_secs(60),
        keep,
        leading: &[],
        green_in_use: in_use,
    })
}

fn kind(a: &Action) -> String {
    let on = |r: &RuleSpec| format!("{} {}", r.listener_arn, r.priority);
    match a {
        Action::Record => "record".into(),
        Action::AwaitHealthy { .. } => "await-healthy".into(),
        Action::CreateRule(r) => format!("create {}", on(r)),
        Action::WriteRule(w) => format!("write {}", on(&w.rule)),
        Action::DeleteRule(r) => format!("delete {}", on(r)),
        Action::Bake(_) => "bake".into(),
        Action::Unrecord => "unrecord".into(),
        other => format!("{other:?}"),
    }
}

#[test]
fn every_rule_action_is_done_on_each_routes_rule_the_first_routes_first() {
    let p = planned(DARK, false, false, 3);
    let got: Vec<String> = p.actions.iter().map(kind).collect();
    let want = [
        "record",
        "create arn:l1 7",
        "create arn:l2 3",
        "await-healthy",
        "write arn:l1 7",
        "write arn:l2 3",
        "bake",
        "delete arn:l1 7",
        "delete arn:l2 3",
        "unrecord",
    ];
    assert_eq!(got, want);
    assert!(p.actions.iter().all(|a| a.route_write().is_none()));
    let in_use = planned(AB, true, true, 3);
    let got: Vec<String> = in_use.actions.iter().map(kind).collect();
    let want = [
        "record",
        "await-healthy",
        "create arn:l1 7",
        "create arn:l2 3",
        "bake",
        "unrecord",
    ];
    assert_eq!(got, want, "--keep keeps both rules");
    let Action::CreateRule(r2) = &in_use.actions[3] else {
        panic!()
    };
    assert_eq!(r2.carry.from, Some(RouteRef::new(L2, None)));
    assert_eq!(r2.forward, Forward::single("green"));
    assert_eq!(
        in_use.others(),
        vec![(RouteRef::new(L2, None), Forward::single("blue"))],
        "the record names the second route"
    );
}

/// The records a run has written when action `at` fails: the first
/// route's, and the second route's with the priorities of its rules
/// recorded so far (each before its CreateRule).
fn records(p: &Plan, at: usize) -> (RunRecord, RunRecord) {
    let mut first = record_at(&p.actions, at, &p.original, "green", p.strategy);
    let on = |l: &str| -> Vec<u32> {
        (p.actions[..=at].iter())
            .filter_map(|a| match a {
                Action::CreateRule(r) if r.listener_arn == l => Some(r.priority),
                _ => None,
            })
            .collect()
    };
    first.rules = on(L1);
    first.routes = vec![RouteRef::new(L2, None)];
    let other = RunRecord {
        step: FOLLOWS_STEP.into(),
        rules: on(L2),
        routes: vec![RouteRef::new(L1, None)],
        ..first.clone()
    };
    (first, other)
}

#[test]
fn a_failure_at_every_position_ends_with_no_rule_on_either_listener() {
    // The same priority on both listeners too: a rule is named by its
    // listener and priority, never the priority alone.
    for (strategy, in_use, keep, p2) in [
        (AB, true, false, 3),
        (DARK, false, false, 7),
        (DARK, false, true, 3),
        (AB, false, false, 7),
    ] {
        let p = planned(strategy, in_use, keep, p2);
        for at in 1..p.actions.len() - 1 {
            for sent in [false, true] {
                let mut w = World::new(
                    p.original.clone(),
                    &[("blue", vec![crate::alb::Target::new("10.0.1.1", None)])],
                );
                w.listener = Some(L1.into());
                let upto = (at + usize::from(sent)).min(p.actions.len());
                p.actions[..upto].iter().for_each(|a| w.forward(a));
                let (first, other) = records(&p, at);
                let goal = Goal::of_route_record(&first)
                    .with_others(&first, &[(RouteRef::new(L2, None), other)]);
                let steps = w.converge(&goal, Context::default());
                let case = format!("{strategy} in_use={in_use} keep={keep} at {at} sent={sent}");
                assert!(w.rules.is_empty(), "{case}: left {:?}", w.rules);
                assert!(
                    steps.iter().all(|s| matches!(s, Step::DeleteRule(_))),
                    "{case}: {steps:?}"
                );
                let snap = w.snapshot(&goal);
                assert!(converge::differences(&goal, &snap).is_empty(), "{case}");
            }
        }
    }
}

#[test]
fn a_rule_on_another_listener_at_a_recorded_priority_is_not_the_runs() {
    let p = planned(AB, true, false, 7);
    let mut w = World::new(p.original.clone(), &[]);
    w.listener = Some(L1.into());
    p.actions[..4].iter().for_each(|a| w.forward(a));
    // Only the first route's record: the second rule is not in the goal,
    // even at the first rule's priority.
    let (first, _) = records(&p, 3);
    let goal = Goal::of_route_record(&first);
    w.converge(&goal, Context::default());
    assert_eq!(w.rules, vec![(L2.to_string(), 7, true)]);
}
