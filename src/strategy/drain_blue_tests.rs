//! Table tests of the full deploy's planner: batch sizes, batches, the
//! actions after the promotion, and the revert of a failure at each of them.

use super::*;
use crate::alb::state_tags::parse_target;
use crate::alb::Forward;
use crate::plan::parse_steps;
use crate::strategy::canary::{plan, CanaryInput, FinalRoute};

fn targets(n: usize) -> Vec<Target> {
    (1..=n)
        .map(|i| parse_target(&format!("10.0.0.{i}:80")))
        .collect()
}

#[test]
fn batch_sizes_parse_or_say_why_not() {
    let ok = [
        ("25%", BatchSize::Percent(25)),
        ("100%", BatchSize::Percent(100)),
        (" 2 ", BatchSize::Count(2)),
        ("1", BatchSize::Count(1)),
    ];
    for (s, want) in ok {
        assert_eq!(parse_batch(s), Ok(want), "{s}");
    }
    for s in ["0", "0%", "101%", "-1", "x", "", "2.5", "%"] {
        assert!(parse_batch(s).is_err(), "{s}");
    }
}

#[test]
fn a_share_is_of_blue_at_the_start_rounded_up_at_least_one() {
    let table = [
        (BatchSize::Percent(25), 4, 1),
        (BatchSize::Percent(25), 5, 2),
        (BatchSize::Percent(1), 3, 1),
        (BatchSize::Percent(100), 7, 7),
        (BatchSize::Percent(50), 0, 1),
        (BatchSize::Count(2), 5, 2),
        (BatchSize::Count(9), 3, 9),
    ];
    for (size, total, want) in table {
        assert_eq!(size.per_batch(total), want, "{size:?} of {total}");
    }
    let b = batches(&targets(5), BatchSize::Count(2));
    assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    assert!(batches(&[], BatchSize::Percent(25)).is_empty());
}

#[test]
fn draining_and_unused_targets_are_not_blue_s_to_take_out() {
    let h = |id: &str, state| TargetHealth {
        target: parse_target(id),
        state,
        reason: None,
    };
    let health = [
        h("10.0.0.1", HealthState::Healthy),
        h("10.0.0.2", HealthState::Draining),
        h("10.0.0.3", HealthState::Unhealthy),
        h("10.0.0.4", HealthState::Unused),
        h("10.0.0.5", HealthState::Initial),
    ];
    let ids: Vec<String> = serving(&health).iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids, ["10.0.0.1", "10.0.0.3", "10.0.0.5"]);
}

fn full_deploy(n: usize, size: BatchSize) -> crate::engine::Plan {
    let original = Forward::single("blue");
    let steps = parse_steps("50,100").unwrap();
    let p = plan(&CanaryInput {
        original: &original,
        blue: "blue",
        green: "green",
        steps: &steps,
        default_bake: Duration::from_secs(30),
        stickiness: None,
        final_route: FinalRoute::KeepBlue,
    });
    let drain = BlueDrain {
        batches: batches(&targets(n), size),
        settle: Duration::from_secs(15),
        check: Duration::from_secs(30),
    };
    p.with_drain(Some(drain)).actions(&[])
}

/// The plan after its promotion, in short words.
fn tail(plan: &crate::engine::Plan) -> Vec<String> {
    let at = plan
        .actions
        .iter()
        .position(|a| {
            a.route_write()
                .is_some_and(|w| matches!(w.purpose, crate::engine::Purpose::Promote { .. }))
        })
        .unwrap();
    plan.actions[at + 1..]
        .iter()
        .map(|a| match a {
            Action::Bake(b) => format!("bake {}s", b.duration.as_secs()),
            Action::Deregister { targets, .. } => format!("deregister {}", targets.len()),
            Action::AwaitDrained { targets, .. } => format!("drained {}", targets.len()),
            Action::Unrecord => "unrecord".into(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn after_the_promotion_settle_then_batches_with_analysis_between() {
    let p = full_deploy(3, BatchSize::Count(2));
    let want = [
        "bake 15s",
        "deregister 2",
        "drained 2",
        "bake 30s",
        "deregister 1",
        "drained 1",
        "unrecord",
    ];
    assert_eq!(tail(&p), want);
    assert_eq!(tail(&full_deploy(0, BatchSize::Count(2))), ["unrecord"]);
}

#[test]
fn a_failure_at_any_point_after_the_promotion_brings_blue_back_healthy_first() {
    let p = full_deploy(4, BatchSize::Percent(50));
    let promote = p
        .actions
        .iter()
        .position(|a| {
            a.route_write()
                .is_some_and(|w| matches!(w.purpose, crate::engine::Purpose::Promote { .. }))
        })
        .unwrap();
    for at in promote + 1..p.actions.len() - 1 {
        {
            use crate::engine::converge::Step;
            let r = crate::engine::sim::route_revert(&p, at, false, &targets(4));
            let gone: usize = p.actions[..at]
                .iter()
                .map(|a| match a {
                    Action::Deregister { targets, .. } => targets.len(),
                    _ => 0,
                })
                .sum();
            let back: usize = r
                .iter()
                .map(|s| match s {
                    Step::Register { targets, .. } => targets.len(),
                    _ => 0,
                })
                .sum();
            assert_eq!(back, gone, "at {at}: {r:?}");
            let first_write = r
                .iter()
                .position(|s| matches!(s, Step::WriteRoute { .. }))
                .unwrap();
            let last_register = r.iter().rposition(|s| matches!(s, Step::Register { .. }));
            assert!(
                last_register.is_none_or(|h| h < first_write),
                "blue is back before the route: at {at}: {r:?}"
            );
        }
    }
}
