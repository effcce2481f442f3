//! The blue-green planner as a table: input (`--bake`, `--keep-blue`,
//! `--register`, final route) to the run's actions, and the one-write
//! revert from any point after the switch.

use super::*;
use crate::engine::{AbortMode, Action, Purpose};
use crate::strategy::drain_blue::{batches, BatchSize};

fn kind(a: &Action) -> String {
    match a {
        Action::Record => "record".into(),
        Action::Register { targets, .. } => format!("register {}", targets.len()),
        Action::AwaitHealthy { targets, .. } => format!("await-healthy {}", targets.len()),
        Action::WriteRoute(w) => match &w.purpose {
            Purpose::Step { index, of, percent } => {
                format!("switch {}/{of} {percent}", index + 1)
            }
            Purpose::Promote { .. } => "promote".into(),
            other => format!("write {other:?}"),
        },
        Action::Bake(b) => format!("bake {}s", b.duration.as_secs()),
        Action::Deregister { targets, .. } => format!("deregister {}", targets.len()),
        Action::AwaitDrained { targets, .. } => format!("drained {}", targets.len()),
        Action::Unrecord => "unrecord".into(),
        other => format!("{other:?}"),
    }
}

fn target(id: &str) -> Target {
    Target {
        id: id.into(),
        port: None,
        az: None,
    }
}

fn bg(bake: u64, keep: u64, final_route: FinalRoute) -> BlueGreenPlan {
    plan(&BlueGreenInput {
        original: &Forward::single("blue"),
        blue: "blue",
        green: "green",
        bake: Duration::from_secs(bake),
        keep_blue: Duration::from_secs(keep),
        final_route,
    })
}

#[test]
fn blue_green_plans_its_actions() {
    let two = vec![target("10.0.0.7"), target("10.0.0.8")];
    let cases: Vec<(u64, u64, Vec<Target>, Vec<&str>)> = vec![
        (
            300,
            0,
            vec![],
            vec![
                "record",
                "await-healthy 0",
                "switch 1/1 100%",
                "bake 300s",
                "promote",
                "unrecord",
            ],
        ),
        (
            60,
            600,
            two.clone(),
            vec![
                "record",
                "register 2",
                "await-healthy 2",
                "switch 1/1 100%",
                "bake 60s",
                "bake 600s",
                "promote",
                "unrecord",
            ],
        ),
        (
            0,
            30,
            vec![],
            vec![
                "record",
                "await-healthy 0",
                "switch 1/1 100%",
                "bake 0s",
                "bake 30s",
                "promote",
                "unrecord",
            ],
        ),
    ];
    for (bake, keep, register, want) in cases {
        let p = bg(bake, keep, FinalRoute::KeepBlue);
        let actions = p.actions(&register);
        let got: Vec<String> = actions.actions.iter().map(kind).collect();
        assert_eq!(got, want, "bake {bake} keep {keep}");
        assert_eq!(actions.strategy, STRATEGY);
        assert_eq!(actions.abort, AbortMode::Flip);
        assert_eq!(actions.registered(), register);
        assert_eq!(actions.total_bake(), Duration::from_secs(bake + keep));
        let holds: Vec<u64> = p.holds().iter().map(Duration::as_secs).collect();
        assert_eq!(holds.iter().sum::<u64>(), bake + keep);
    }
}

#[test]
fn the_switch_is_one_write_to_all_green_with_blue_at_zero() {
    let p = bg(300, 60, FinalRoute::KeepBlue);
    let actions = p.actions(&[]);
    let writes: Vec<_> = actions
        .actions
        .iter()
        .filter_map(Action::route_write)
        .collect();
    assert_eq!(writes.len(), 2, "the switch and the promotion");
    assert_eq!(writes[0].from, Forward::single("blue"));
    assert_eq!(writes[0].to, *p.switched());
    assert_eq!(p.switched().weight_of("blue"), Some(0));
    assert_eq!(p.switched().percent_of("green"), 100.0);
    // keep-blue: the promotion writes what the switch wrote (it only marks).
    assert_eq!(writes[1].from, writes[0].to);
    assert!(writes[1].to.same_routing(&writes[0].to));
}

#[test]
fn green_only_drops_blue_at_the_promotion() {
    let p = bg(300, 0, FinalRoute::GreenOnly);
    let actions = p.actions(&[]);
    let promote = actions
        .actions
        .iter()
        .rev()
        .find_map(Action::route_write)
        .unwrap();
    assert_eq!(promote.to, Forward::single("green"));
    assert_eq!(
        p.switched().weight_of("blue"),
        Some(0),
        "blue stays one write away until the promotion"
    );
}

#[test]
fn a_failure_anywhere_after_the_switch_reverts_with_one_write() {
    let p = bg(300, 60, FinalRoute::KeepBlue).actions(&[target("10.0.0.7")]);
    let promote_at = p
        .actions
        .iter()
        .position(
            |a| matches!(a.route_write(), Some(w) if matches!(w.purpose, Purpose::Promote { .. })),
        )
        .unwrap();
    let switch_at = p
        .actions
        .iter()
        .position(|a| a.route_write().is_some())
        .unwrap();
    for failed_at in switch_at + 1..promote_at {
        let revert = sim_revert(&p, failed_at);
        let writes: Vec<&Forward> = revert.iter().filter_map(written).collect();
        assert_eq!(
            writes,
            [&Forward::single("blue")],
            "at {failed_at}: {revert:?}"
        );
        assert!(
            revert.iter().any(|s| matches!(s, Step::Deregister { .. })),
            "the registered target leaves again"
        );
    }
}

fn drain(blue: usize, size: BatchSize) -> Option<BlueDrain> {
    let targets: Vec<Target> = (1..=blue).map(|i| target(&format!("10.0.1.{i}"))).collect();
    Some(BlueDrain {
        batches: batches(&targets, size),
        settle: Duration::from_secs(15),
        check: Duration::from_secs(30),
    })
}

#[test]
fn with_deregister_blue_the_batches_follow_the_keep_blue_window() {
    let cases: Vec<(u64, Option<BlueDrain>, Vec<&str>)> = vec![
        (
            600,
            drain(3, BatchSize::Count(2)),
            vec![
                "record",
                "await-healthy 0",
                "switch 1/1 100%",
                "bake 60s",
                "bake 600s",
                "promote",
                "bake 15s",
                "deregister 2",
                "drained 2",
                "bake 30s",
                "deregister 1",
                "drained 1",
                "unrecord",
            ],
        ),
        (
            0,
            drain(4, BatchSize::Percent(50)),
            vec![
                "record",
                "await-healthy 0",
                "switch 1/1 100%",
                "bake 60s",
                "promote",
                "bake 15s",
                "deregister 2",
                "drained 2",
                "bake 30s",
                "deregister 2",
                "drained 2",
                "unrecord",
            ],
        ),
        (
            600,
            drain(0, BatchSize::Count(1)),
            vec![
                "record",
                "await-healthy 0",
                "switch 1/1 100%",
                "bake 60s",
                "bake 600s",
                "promote",
                "unrecord",
            ],
        ),
        (
            600,
            None,
            vec![
                "record",
                "await-healthy 0",
                "switch 1/1 100%",
                "bake 60s",
                "bake 600s",
                "promote",
                "unrecord",
            ],
        ),
    ];
    for (keep, d, want) in cases {
        let p = bg(60, keep, FinalRoute::KeepBlue).with_drain(d.clone());
        assert_eq!(p.switch.drain, d);
        let actions = p.actions(&[]);
        let got: Vec<String> = actions.actions.iter().map(kind).collect();
        assert_eq!(got, want, "keep {keep} drain {d:?}");
        assert_eq!(actions.strategy, STRATEGY);
    }
}

#[test]
fn a_failure_during_the_batches_registers_blue_back_and_switches_back() {
    let p = bg(60, 600, FinalRoute::KeepBlue)
        .with_drain(drain(3, BatchSize::Count(1)))
        .actions(&[]);
    let first = p
        .actions
        .iter()
        .position(|a| matches!(a, Action::Deregister { .. }))
        .unwrap();
    for failed_at in first + 1..p.actions.len() - 1 {
        let revert = sim_revert(&p, failed_at);
        let gone: usize = p.actions[..failed_at]
            .iter()
            .map(|a| match a {
                Action::Deregister { targets, .. } => targets.len(),
                _ => 0,
            })
            .sum();
        let back: usize = revert
            .iter()
            .map(|s| match s {
                Step::Register { targets, .. } => targets.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(back, gone, "at {failed_at}: {revert:?}");
        let writes: Vec<&Forward> = revert.iter().filter_map(written).collect();
        assert_eq!(
            writes,
            [&Forward::single("blue")],
            "at {failed_at}: {revert:?}"
        );
    }
}

use crate::engine::converge::Step;

/// The convergence after a failure at `at` (nothing of it sent), blue
/// with three targets before the run.
fn sim_revert(p: &crate::engine::Plan, at: usize) -> Vec<Step> {
    let blue: Vec<Target> = (1..=3).map(|i| target(&format!("10.0.1.{i}"))).collect();
    crate::engine::sim::route_revert(p, at, false, &blue)
}

fn written(s: &Step) -> Option<&Forward> {
    match s {
        Step::WriteRoute { to, .. } => Some(to),
        _ => None,
    }
}
