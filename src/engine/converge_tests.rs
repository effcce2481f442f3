//! The convergence from every state a run can stop in: a failure (before
//! or after its send) at every position of every plan, then the revert the
//! live run makes (flip, gradual, after a cancel) and the `rollback` after
//! a `kill -9` there (from the record read back). Each must end at the
//! goal, in the convergence's order, and a second convergence is a no-op.

use super::*;
use crate::alb::{Forward, HealthState, Target};
use crate::engine::action::{Action, BakeSpec, Group, Purpose, Role, RouteWrite, RuleSpec};
use crate::engine::goal::Goal;
use crate::engine::sim::{record_at, World};
use crate::plan::Tenths;
use std::time::Duration;

const BLUE: &str = "tg/blue";
const GREEN: &str = "tg/green";

fn ips(net: u8, n: usize) -> Vec<Target> {
    (1..=n)
        .map(|i| Target::new(&format!("10.0.{net}.{i}"), Some(80)))
        .collect()
}

fn g(arn: &str) -> Group {
    let role = if arn == GREEN {
        Role::Green
    } else {
        Role::Blue
    };
    Group {
        arn: arn.into(),
        role,
    }
}

fn bake() -> Action {
    Action::Bake(BakeSpec {
        step: 0,
        percent: Tenths(100),
        duration: Duration::from_secs(60),
    })
}

fn write(from: &Forward, to: &Forward, purpose: Purpose) -> Action {
    Action::WriteRoute(RouteWrite {
        from: from.clone(),
        to: to.clone(),
        purpose,
    })
}

fn step(i: usize, pct: u16) -> Purpose {
    Purpose::Step {
        index: i,
        of: 2,
        percent: Tenths(pct * 10),
    }
}

/// A canary of two steps, then (with `final_route`) the promotion and,
/// with `drain`, blue's targets leaving in batches of ten.
fn canary(final_route: Forward, drain: &[Target]) -> Vec<Action> {
    let (s1, s2) = (
        Forward::weighted(&[(BLUE, 90), (GREEN, 10)]),
        Forward::weighted(&[(BLUE, 50), (GREEN, 50)]),
    );
    let mut a = vec![
        Action::Record,
        Action::Register {
            group: g(GREEN),
            targets: ips(2, 2),
        },
        Action::AwaitHealthy {
            group: g(GREEN),
            targets: ips(2, 2),
        },
        write(&Forward::single(BLUE), &s1, step(0, 10)),
        bake(),
        write(&s1, &s2, step(1, 50)),
        bake(),
        write(&s2, &final_route, Purpose::Promote { after_steps: 2 }),
    ];
    for batch in drain.chunks(10) {
        a.push(bake());
        a.push(Action::Deregister {
            group: g(BLUE),
            targets: batch.to_vec(),
        });
        a.push(Action::AwaitDrained {
            group: g(BLUE),
            targets: batch.to_vec(),
        });
    }
    a.push(Action::Unrecord);
    a
}

fn rule(p: u32) -> RuleSpec {
    RuleSpec {
        listener_arn: "L".into(),
        priority: p,
        conditions: vec![],
        forward: Forward::single(GREEN),
        carry: Default::default(),
    }
}

fn ab() -> Vec<Action> {
    vec![
        Action::Record,
        Action::AwaitHealthy {
            group: g(GREEN),
            targets: vec![],
        },
        Action::CreateRule(rule(7)),
        bake(),
        Action::DeleteRule(rule(7)),
        Action::Unrecord,
    ]
}

/// The run's stages up to `at` (what a gradual abort steps back through).
fn stages(actions: &[Action], at: usize) -> Vec<Forward> {
    let mut s = vec![Forward::single(BLUE)];
    s.extend(
        actions[..at]
            .iter()
            .filter_map(Action::route_write)
            .map(|w| w.to.clone()),
    );
    s
}

fn contexts(actions: &[Action], at: usize) -> Vec<(&'static str, Context)> {
    vec![
        ("flip", Context::default()),
        (
            "gradual",
            Context {
                stages: stages(actions, at),
                ..Context::default()
            },
        ),
        (
            "cancelled",
            Context {
                cancelled: true,
                ..Context::default()
            },
        ),
    ]
}

/// The convergence's order, checked on the steps it took: nothing is
/// removed before everything is added, and a removal follows a settle
/// after the last change of traffic.
fn check_order(taken: &[Step], case: &str) {
    let last_add = taken
        .iter()
        .rposition(|s| matches!(s, Step::Register { .. }));
    let first_remove = taken
        .iter()
        .position(|s| matches!(s, Step::Deregister { .. }));
    if let (Some(a), Some(r)) = (last_add, first_remove) {
        assert!(a < r, "{case}: add before remove: {taken:?}");
    }
    if let Some(r) = first_remove {
        let moved = taken[..r].iter().rposition(|s| {
            matches!(
                s,
                Step::WriteRoute { .. } | Step::Attach { .. } | Step::DeleteRule(_)
            )
        });
        let settled = taken[..r].iter().rposition(|s| *s == Step::Settle);
        if moved.is_some() {
            assert!(settled > moved, "{case}: settle before removing: {taken:?}");
        }
    }
}

fn route_world(blue: Vec<Target>) -> World {
    World::new(Forward::single(BLUE), &[(BLUE, blue), (GREEN, vec![])])
}

/// Every position, sent or not, every context, then `rollback`.
fn every_stop(
    name: &str,
    actions: &[Action],
    strategy: &str,
    blue: Vec<Target>,
    broken: &[Target],
) {
    for at in 0..actions.len() {
        for sent in [false, true] {
            let mut w = route_world(blue.clone());
            w.broken = broken.to_vec();
            actions[..at].iter().for_each(|a| w.forward(a));
            if sent {
                w.forward(&actions[at]);
            }
            let goal = Goal::of_route_record(&record_at(
                actions,
                at,
                &Forward::single(BLUE),
                GREEN,
                strategy,
            ));
            for (how, ctx) in contexts(actions, at) {
                let case = format!(
                    "{name}: failed at {at} ({:?}), sent {sent}, {how}",
                    actions[at]
                );
                let mut live = w.clone();
                let taken = live.converge(&goal, ctx);
                assert_eq!(
                    differences(&goal, &live.snapshot(&goal)),
                    Vec::<String>::new(),
                    "{case}: {taken:?}"
                );
                assert!(
                    live.converge(&goal, Context::default()).is_empty(),
                    "{case}: twice is a no-op"
                );
                check_order(&taken, &case);
            }
            // `kill -9` there: `rollback` from the record alone (a flip).
            let mut dead = w.clone();
            dead.converge(&goal, Context::default());
            assert!(
                differences(&goal, &dead.snapshot(&goal)).is_empty(),
                "{name}: rollback at {at}"
            );
        }
    }
}

#[test]
fn a_canary_converges_from_every_position() {
    let promoted = Forward::weighted(&[(BLUE, 0), (GREEN, 100)]);
    every_stop("canary", &canary(promoted, &[]), "canary", ips(1, 2), &[]);
}

#[test]
fn a_full_deploy_to_green_only_converges_from_every_position_with_a_broken_blue_target() {
    let blue = ips(1, 30);
    let broken = vec![blue[4].clone()];
    every_stop(
        "full deploy",
        &canary(Forward::single(GREEN), &blue),
        "canary",
        blue,
        &broken,
    );
}

#[test]
fn a_rule_run_converges_from_every_position_and_never_creates_a_rule() {
    let actions = ab();
    every_stop("ab", &actions, "ab", ips(1, 2), &[]);
    for at in 0..actions.len() {
        let mut w = route_world(ips(1, 2));
        actions[..=at].iter().for_each(|a| w.forward(a));
        let goal = Goal::of_route_record(&record_at(
            &actions,
            at,
            &Forward::single(BLUE),
            GREEN,
            "ab",
        ));
        let taken = w.converge(&goal, Context::default());
        assert!(
            taken.iter().all(|s| matches!(s, Step::DeleteRule(_))),
            "at {at}: {taken:?}"
        );
        assert_eq!(
            w.route,
            Forward::single(BLUE),
            "a rule run never writes the route"
        );
    }
}

#[test]
fn a_rolling_run_converges_to_its_exact_original_from_every_position() {
    let (old, new) = (ips(1, 4), ips(2, 4));
    let mut actions = vec![Action::Record];
    for (o, n) in old.chunks(2).zip(new.chunks(2)) {
        actions.push(Action::Register {
            group: g(BLUE),
            targets: n.to_vec(),
        });
        actions.push(Action::AwaitHealthy {
            group: g(BLUE),
            targets: n.to_vec(),
        });
        actions.push(Action::Deregister {
            group: g(BLUE),
            targets: o.to_vec(),
        });
        actions.push(Action::AwaitDrained {
            group: g(BLUE),
            targets: o.to_vec(),
        });
        actions.push(bake());
    }
    actions.push(Action::Unrecord);
    let goal = Goal::of_group(BLUE, &old);
    for at in 0..actions.len() {
        for broken in [vec![], vec![new[0].clone()]] {
            let mut w = route_world(old.clone());
            w.broken = broken.clone();
            actions[..=at].iter().for_each(|a| w.forward(a));
            let taken = w.converge(&goal, Context::default());
            let mut left: Vec<Target> = w.health[BLUE].iter().map(|h| h.target.clone()).collect();
            left.sort();
            assert_eq!(left, old, "at {at}, broken {broken:?}: {taken:?}");
            check_order(&taken, &format!("rolling at {at}"));
        }
    }
}

#[test]
fn traffic_leaves_green_once_half_of_blue_is_healthy_not_every_target() {
    let blue = ips(1, 30);
    let mut w = World::new(
        Forward::single(GREEN),
        &[(BLUE, vec![]), (GREEN, ips(2, 2))],
    );
    w.broken = vec![blue[0].clone()];
    let mut rec = record_at(
        &canary(Forward::single(GREEN), &blue),
        20,
        &Forward::single(BLUE),
        GREEN,
        "canary",
    );
    rec.deregistered.as_mut().unwrap().targets = blue.clone();
    let goal = Goal::of_route_record(&rec);
    let taken = w.converge(&goal, Context::default());
    let kinds: Vec<&str> = taken
        .iter()
        .map(|s| match s {
            Step::Register { .. } => "register",
            Step::Attach { .. } => "attach",
            Step::AwaitFloor {
                floor: 15, of: 30, ..
            } => "await 15 of 30",
            Step::WriteRoute { restore: true, .. } => "restore",
            Step::Settle => "settle",
            Step::Deregister { .. } => "deregister",
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "register",
            "attach",
            "await 15 of 30",
            "restore",
            "settle",
            "deregister"
        ]
    );
    assert_eq!(floor(1), 1);
    assert_eq!(floor(0), 1);
    assert_eq!(floor(3), 2);
}

#[test]
fn after_a_cancel_the_route_goes_first_and_one_healthy_target_is_enough() {
    let blue = ips(1, 4);
    let mut w = World::new(
        Forward::single(GREEN),
        &[(BLUE, blue[..1].to_vec()), (GREEN, ips(2, 2))],
    );
    w.forward(&Action::WriteRoute(RouteWrite {
        from: Forward::single(GREEN),
        to: Forward::weighted(&[(BLUE, 0), (GREEN, 100)]),
        purpose: Purpose::Promote { after_steps: 1 },
    }));
    w.health.get_mut(BLUE).unwrap()[0].state = HealthState::Healthy;
    let mut rec = record_at(
        &canary(Forward::single(GREEN), &blue),
        20,
        &Forward::single(BLUE),
        GREEN,
        "canary",
    );
    rec.deregistered.as_mut().unwrap().targets = blue[1..].to_vec();
    let goal = Goal::of_route_record(&rec);
    let first = plan(
        &goal,
        &w.snapshot(&goal),
        &Context {
            cancelled: true,
            ..Context::default()
        },
    );
    assert!(
        matches!(first.first(), Some(Step::WriteRoute { restore: true, .. })),
        "{first:?}"
    );
    let calm = plan(&goal, &w.snapshot(&goal), &Context::default());
    assert!(
        matches!(calm.first(), Some(Step::Register { .. })),
        "{calm:?}"
    );
}
