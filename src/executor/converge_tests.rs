//! Component tests of the converging revert on the fake, under paused
//! time: one per way the revert of earlier versions stopped half-way
//! (issue 15, section 3). Each failed on the revert derived from the
//! applied actions, under one deadline.

use super::drain_tests::until_calls;
use super::plan_tests::{bake, plan, run_plan};
use super::rolling_tests::{ids, run_rolling};
use super::tests::{config, rig, route, run_on, Rig, TestRun, BLUE_DIM, GREEN_DIM};
use super::*;
use crate::alb::fake::*;
use crate::alb::{Forward, HealthState, LoadBalancerPort, RouteAction, TargetHealth};
use crate::engine::{BakeSpec, Group, Purpose, Role, RouteWrite, RuleSpec};
use crate::plan::Tenths;
use crate::strategy::drain_blue::{batches, BatchSize, BlueDrain};
use std::sync::Arc;

/// A full deploy of one 100% step that drains blue `per` at a time, in
/// batches taken from blue's live read (with their zones, as
/// `full_deploy::plan` takes them).
async fn drain_of_live_on(r: &Rig, per: usize) -> TestRun {
    let live: Vec<Target> = (r.lb.target_health(DEMO_BLUE).await.unwrap().into_iter())
        .map(|h| h.target)
        .collect();
    let mut cfg = config("100", vec![]);
    cfg.plan = cfg.plan.with_drain(Some(BlueDrain {
        batches: batches(&live, BatchSize::Count(per)),
        settle: Duration::from_secs(15),
        check: Duration::from_secs(30),
    }));
    cfg
}

/// Green fails once `n` batches of blue are gone.
fn green_fails_after_batches(r: &Rig, n: usize) {
    let (lb, traffic) = (r.lb.clone(), r.traffic.clone());
    tokio::spawn(async move {
        until_calls(&lb, "DeregisterTargets", n).await;
        traffic.set(GREEN_DIM, 100.0, 50.0);
    });
}

#[tokio::test(start_paused = true)]
async fn long_health_waits_still_send_the_route_write() {
    // Six of blue's eight targets left in three batches; the two that
    // stayed stop answering, and the six registered again take eight
    // minutes to pass their checks: longer than the five minutes the
    // whole revert had before, all spent before the route write.
    let r = rig();
    r.lb.clear_targets(DEMO_BLUE);
    for i in 1..=8 {
        r.lb.set_health(DEMO_BLUE, &format!("10.0.3.{i}"), HealthState::Healthy);
    }
    let mut cfg = drain_of_live_on(&r, 2).await;
    cfg.health_timeout = Duration::from_secs(900);
    let (lb, traffic) = (r.lb.clone(), r.traffic.clone());
    tokio::spawn(async move {
        until_calls(&lb, "DeregisterTargets", 3).await;
        traffic.set(GREEN_DIM, 100.0, 50.0);
        lb.set_register_state(HealthState::Initial);
        for h in lb.targets_of(DEMO_BLUE) {
            lb.set_health(DEMO_BLUE, &h.target.id, HealthState::Unhealthy);
        }
        until_calls(&lb, "RegisterTargets", 1).await;
        tokio::time::sleep(Duration::from_secs(480)).await;
        for h in lb.targets_of(DEMO_BLUE) {
            if h.state == HealthState::Initial {
                lb.set_health(DEMO_BLUE, &h.target.id, HealthState::Healthy);
            }
        }
    });
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    assert_eq!(r.lb.targets_of(DEMO_BLUE).len(), 8, "every target back");
    let waited = report.detection_to_revert_seconds.unwrap();
    assert!(waited >= 480.0, "the route waited for blue: {waited}");
}

#[tokio::test(start_paused = true)]
async fn one_stopped_blue_instance_of_thirty_does_not_block_the_route_write() {
    let r = rig();
    r.lb.clear_targets(DEMO_BLUE);
    for i in 1..=30 {
        r.lb.set_health(DEMO_BLUE, &format!("10.0.3.{i}"), HealthState::Healthy);
    }
    let cfg = drain_of_live_on(&r, 10).await;
    // One of the first batch was stopped meanwhile: it never passes again.
    let stopped = r.lb.target_health(DEMO_BLUE).await.unwrap()[0]
        .target
        .id
        .clone();
    r.lb.set_stuck(&stopped, HealthState::Unhealthy);
    green_fails_after_batches(&r, 1);
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    assert_eq!(
        r.lb.targets_of(DEMO_BLUE).len(),
        30,
        "the stopped one is registered too"
    );
}

#[tokio::test(start_paused = true)]
async fn an_ip_target_outside_the_vpc_comes_back_with_its_zone_all() {
    let r = rig();
    r.lb.clear_targets(DEMO_BLUE);
    let outside = Target {
        az: Some("all".into()),
        ..Target::new("192.168.9.4", Some(8080))
    };
    r.lb.set_outside_vpc(&outside.id);
    r.lb.add_target(DEMO_BLUE, outside.clone(), HealthState::Healthy);
    r.lb.set_health(DEMO_BLUE, "10.0.3.1", HealthState::Healthy);
    let cfg = drain_of_live_on(&r, 1).await;
    let (lb, traffic) = (r.lb.clone(), r.traffic.clone());
    let seen = Arc::new(std::sync::Mutex::new(None));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        until_calls(&lb, "DeregisterTargets", 1).await;
        // The record names the target with its zone, for `rollback`.
        let rec = crate::alb::state_tags::decode(&lb.tags_of(DEMO_LISTENER)).unwrap();
        *seen2.lock().unwrap() = rec.and_then(|r| r.deregistered);
        traffic.set(GREEN_DIM, 100.0, 50.0);
    });
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let back: Vec<TargetHealth> = r.lb.targets_of(DEMO_BLUE);
    let again = back
        .iter()
        .find(|h| h.target == outside)
        .expect("registered again");
    assert_eq!(again.target.az.as_deref(), Some("all"));
    let recorded = seen.lock().unwrap().clone().expect("recorded");
    let first = recorded.targets.iter().find(|t| **t == outside);
    assert_eq!(
        first.and_then(|t| t.az.as_deref()),
        Some("all"),
        "{recorded:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_rolling_revert_is_not_blocked_by_the_unhealthy_target_that_triggered_it() {
    let r = rig();
    let (lb, traffic) = (r.lb.clone(), r.traffic.clone());
    tokio::spawn(async move {
        // Round 2 is in: a target of round 1 turns unhealthy and the
        // group's errors fail the check.
        until_calls(&lb, "DeregisterTargets", 2).await;
        lb.set_health(DEMO_BLUE, "10.0.1.11", HealthState::Unhealthy);
        traffic.set(BLUE_DIM, 100.0, 40.0);
    });
    // --max-unavailable 0: the forward floor is the whole group.
    let (report, _) = run_rolling(&r, 0).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(ids(&r), ["10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4"]);
    assert!(r.lb.tags_of(DEMO_BLUE).is_empty(), "record removed");
}

#[tokio::test(start_paused = true)]
async fn a_rule_runs_revert_does_not_create_again_the_rule_it_deleted() {
    let r = rig();
    let spec = RuleSpec {
        listener_arn: DEMO_LISTENER.into(),
        priority: 5,
        conditions: vec![],
        forward: Forward::single(DEMO_GREEN),
        carry: Default::default(),
    };
    let step = RouteWrite {
        from: Forward::single(DEMO_BLUE),
        to: Forward::weighted(&[(DEMO_BLUE, 50), (DEMO_GREEN, 50)]),
        purpose: Purpose::Step {
            index: 0,
            of: 1,
            percent: Tenths(500),
        },
    };
    // A preview rule, held and deleted, then a step that fails its check.
    let traffic = r.traffic.clone();
    let lb = r.lb.clone();
    tokio::spawn(async move {
        until_calls(&lb, "DeleteRule", 1).await;
        traffic.set(GREEN_DIM, 100.0, 50.0);
    });
    let p = plan(vec![
        Action::Record,
        Action::AwaitHealthy {
            group: Group {
                arn: DEMO_GREEN.into(),
                role: Role::Green,
            },
            targets: vec![],
        },
        Action::CreateRule(spec.clone()),
        Action::Bake(BakeSpec {
            step: 0,
            percent: Tenths(0),
            duration: Duration::from_secs(60),
        }),
        Action::DeleteRule(spec),
        Action::WriteRoute(step),
        bake(),
        Action::Unrecord,
    ]);
    let report = run_plan(&r, p).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let creates = r.lb.calls().iter().filter(|c| c.op == "CreateRule").count();
    assert_eq!(creates, 1, "only the run's own create");
    assert_eq!(
        r.lb.rules(DEMO_LISTENER).await.unwrap().len(),
        1,
        "only the default"
    );
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
}

#[tokio::test(start_paused = true)]
async fn a_throttled_heartbeat_does_not_delay_a_sigterm_revert() {
    let r = rig();
    let (lb, cancel) = (r.lb.clone(), r.cancel.clone());
    tokio::spawn(async move {
        // The record and the first step's tag are written; from now on
        // every AddTags is throttled for two minutes.
        tokio::time::sleep(Duration::from_secs(5)).await;
        lb.set_op_lag("AddTags", Duration::from_secs(120));
        // A beat is due at 30 s; the signal comes while it hangs.
        tokio::time::sleep(Duration::from_secs(30)).await;
        cancel.cancel("received SIGTERM");
    });
    let report = run_on(&r, r.lb.clone(), config("10:10m,100", vec![])).await;
    let end = Instant::now();
    assert_eq!(report.exit_code, 130, "{report:?}");
    let signal = r.cancel.at().expect("cancelled");
    assert!(
        end - signal <= Duration::from_secs(8),
        "the revert ended {:?} after the signal",
        end - signal
    );
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    let beats = (r.lb.calls().iter()).filter(|c| c.op == "AddTags").count();
    assert!(
        beats >= 3,
        "the beat was sent (record, step, beat): {beats}"
    );
}
