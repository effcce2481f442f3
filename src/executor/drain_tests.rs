//! Component tests of the full deploy (`--deregister-blue`) on the fake,
//! under paused time: blue's batches with their record updates and marks,
//! a failure during the batches (blue back and healthy before the route
//! moves), and a run killed during the batches undone by `rollback`.

use super::tests::{config, rig, route, run_on, Rig, TestRun, GREEN_DIM};
use super::*;
use crate::alb::fake::*;
use crate::alb::state_tags;
use crate::alb::{Forward, HealthState, RouteAction};
use crate::strategy::drain_blue::{batches, BatchSize, BlueDrain};
use std::sync::{Arc, Mutex};

const BLUE_IDS: [&str; 4] = ["10.0.0.1", "10.0.0.11", "10.0.0.12", "10.0.0.13"];

/// The rig with four healthy blue targets, and a run that drains them two
/// at a time after a canary of one 100% step.
fn full_deploy() -> (Rig, TestRun) {
    let r = rig();
    for id in BLUE_IDS {
        r.lb.set_health(DEMO_BLUE, id, HealthState::Healthy);
    }
    let mut cfg = config("100", vec![]);
    let targets: Vec<Target> = BLUE_IDS
        .iter()
        .map(|id| state_tags::parse_target(id))
        .collect();
    cfg.plan = cfg.plan.with_drain(Some(BlueDrain {
        batches: batches(&targets, BatchSize::Percent(50)),
        settle: Duration::from_secs(15),
        check: Duration::from_secs(30),
    }));
    (r, cfg)
}

fn ops(r: &Rig) -> Vec<String> {
    r.lb.calls()
        .into_iter()
        .filter(|c| MUTATING_OPS.contains(&c.op))
        .map(|c| match c.op {
            "RegisterTargets" | "DeregisterTargets" => format!("{} {}", c.op, c.resource),
            op => op.to_string(),
        })
        .collect()
}

/// Wait (in paused time) until the fake has seen `n` calls of `op`.
pub(super) async fn until_calls(lb: &FakeLoadBalancer, op: &str, n: usize) {
    while lb.calls().iter().filter(|c| c.op == op).count() < n {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_good_green_ends_with_blue_empty_and_the_record_gone() {
    let (r, cfg) = full_deploy();
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    assert!(r.lb.targets_of(DEMO_BLUE).is_empty(), "blue drained");
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty(), "record removed");
    let ops = ops(&r);
    let dereg = format!("DeregisterTargets {DEMO_BLUE}");
    let n = ops.iter().filter(|o| **o == dereg).count();
    assert_eq!(n, 2, "two batches: {ops:?}");
    // Each deregistration is recorded first; the run marks itself
    // promoted only after the last batch, just before the record goes.
    for (i, o) in ops.iter().enumerate() {
        if *o == dereg {
            assert_eq!(ops[i - 1], "AddTags", "{ops:?}");
        }
    }
    let last_dereg = ops.iter().rposition(|o| *o == dereg).unwrap();
    assert_eq!(&ops[last_dereg + 1..], ["AddTags", "RemoveTags"], "{ops:?}");
}

#[tokio::test(start_paused = true)]
async fn a_failure_between_batches_brings_half_of_blue_back_healthy_before_the_route() {
    let (r, cfg) = full_deploy();
    let lb = r.lb.clone();
    let traffic = r.traffic.clone();
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    // After the first batch green fails and the two targets left in blue
    // stop answering; the two taken out come back as `initial` and turn
    // healthy 20 s later: the route must wait for half of blue.
    tokio::spawn(async move {
        until_calls(&lb, "DeregisterTargets", 1).await;
        traffic.set(GREEN_DIM, 100.0, 50.0);
        lb.set_register_state(HealthState::Initial);
        for h in lb.targets_of(DEMO_BLUE) {
            lb.set_health(DEMO_BLUE, &h.target.id, HealthState::Unhealthy);
        }
        until_calls(&lb, "RegisterTargets", 1).await;
        tokio::time::sleep(Duration::from_secs(20)).await;
        *seen2.lock().unwrap() = Some(lb.route(&route()));
        for id in BLUE_IDS {
            lb.set_health(DEMO_BLUE, id, HealthState::Healthy);
        }
    });
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let before_healthy = seen.lock().unwrap().clone().expect("re-registered");
    let promoted = before_healthy.as_forward().unwrap().percent_of(DEMO_GREEN);
    assert_eq!(promoted, 100.0, "no traffic back before blue is healthy");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    assert_eq!(r.lb.targets_of(DEMO_BLUE).len(), 4, "every target back");
    let ops = ops(&r);
    let dereg = format!("DeregisterTargets {DEMO_BLUE}");
    assert_eq!(ops.iter().filter(|o| **o == dereg).count(), 1, "{ops:?}");
    let back = ops.iter().position(|o| o.starts_with("RegisterTargets"));
    let write = ops.iter().rposition(|o| o == "ModifyListener");
    assert!(back < write, "{ops:?}");
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty(), "record removed");
}

#[tokio::test(start_paused = true)]
async fn a_run_killed_during_the_batches_is_undone_exactly_by_rollback() {
    let (r, cfg) = full_deploy();
    let original = r.lb.route(&route());
    let lb = r.lb.clone();
    tokio::select! {
        _ = run_on(&r, r.lb.clone(), cfg) => panic!("the run ended before the kill"),
        // kill -9 right after the first batch was sent.
        _ = until_calls(&lb, "DeregisterTargets", 1) => {}
    }
    let tags = r.lb.tags_of(DEMO_LISTENER);
    let record = state_tags::decode(&tags).unwrap().expect("recorded");
    assert_eq!(record.step, state_tags::DRAINING_BLUE_STEP);
    let d = record.deregistered.clone().expect("the batch is recorded");
    assert_eq!(d.group, DEMO_BLUE);
    assert_eq!(d.targets.len(), 2);
    assert_eq!(r.lb.targets_of(DEMO_BLUE).len(), 2);
    let keys = state_tags::record_keys(&tags);
    crate::app::rollback::restore(r.lb.as_ref(), &route(), &record, &keys)
        .await
        .unwrap();
    assert_eq!(r.lb.route(&route()), original);
    let mut ids: Vec<String> =
        r.lb.targets_of(DEMO_BLUE)
            .into_iter()
            .map(|h| h.target.id)
            .collect();
    ids.sort();
    assert_eq!(ids, BLUE_IDS);
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_refused_deregistration_reverts_and_blue_keeps_every_target() {
    let (r, cfg) = full_deploy();
    // Recorded, then refused: the revert registers targets that never
    // left, which changes nothing, then restores the route.
    r.lb.fail_next(
        "DeregisterTargets",
        1,
        crate::alb::AlbErrorKind::AccessDenied,
    );
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(r.lb.targets_of(DEMO_BLUE).len(), 4);
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty(), "record removed");
}
