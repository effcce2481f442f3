//! A rolling plan on the fake, under paused time: the executor runs a
//! group-scoped plan with its record on the group, keeps the capacity
//! floor, and a failure reverts the group to its exact original targets.

use super::tests::{config, rig, Rig, BLUE_DIM};
use super::*;
use crate::alb::fake::*;
use crate::alb::{HealthState, LoadBalancerPort};
use crate::report::Silent;
use crate::strategy::drain_blue::BatchSize;
use crate::strategy::rolling::{self, RollingInput, MAX_TARGETS_PER_GROUP};

fn ips(from: u8, n: u8) -> Vec<Target> {
    (from..from + n)
        .map(|i| Target {
            id: format!("10.0.1.{i}"),
            port: None,
            az: None,
        })
        .collect()
}

/// Blue holds four healthy old targets; the run replaces them by four new
/// ones in rounds of two, one old target leaving early per round.
pub(super) async fn run_rolling(r: &Rig, unavailable: usize) -> (RunReport, Vec<Target>) {
    r.lb.clear_targets(DEMO_BLUE);
    for t in ips(1, 4) {
        r.lb.set_health(DEMO_BLUE, &t.id, HealthState::Healthy);
    }
    let live = r.lb.target_health(DEMO_BLUE).await.unwrap();
    let (add, remove) = (ips(11, 4), ips(1, 4));
    let p = rolling::plan(&RollingInput {
        group: DEMO_BLUE,
        live: &live,
        add: &add,
        remove: &remove,
        batch: BatchSize::Count(2),
        max_unavailable: unavailable,
        check: Duration::from_secs(60),
        limit: MAX_TARGETS_PER_GROUP,
        limit_why: rolling::GROUP_LIMIT_WHY,
    })
    .unwrap();
    let mut cfg = config("100", vec![]);
    cfg.scope = Scope::Group(GroupScope {
        arn: DEMO_BLUE.into(),
        original: p.original.clone(),
        batch: p.per,
        max_unavailable: unavailable,
        floor: p.floor,
    });
    cfg.subjects.green_arn = DEMO_BLUE.into();
    cfg.subjects.green = cfg.subjects.blue.take().unwrap();
    let plan = Plan {
        strategy: "rolling",
        original: crate::alb::Forward::single(DEMO_BLUE),
        blue: DEMO_BLUE.into(),
        green: DEMO_BLUE.into(),
        abort: crate::engine::AbortMode::Flip,
        actions: p.actions(),
    };
    let src = Sources {
        lb: r.lb.clone(),
        traffic: Some(r.traffic.clone()),
        probe: None,
        prometheus: None,
        judge_minutes: 1,
        commands: Default::default(),
        shadow: None,
    };
    let mut out = Silent;
    let report = Executor::new(cfg.cfg, plan, src, r.cancel.clone(), &mut out)
        .run()
        .await;
    (report, add)
}

pub(super) fn ids(r: &Rig) -> Vec<String> {
    let mut v: Vec<String> =
        r.lb.targets_of(DEMO_BLUE)
            .into_iter()
            .map(|h| h.target.id)
            .collect();
    v.sort();
    v
}

#[tokio::test(start_paused = true)]
async fn a_good_rolling_run_replaces_the_group_and_removes_its_record() {
    let r = rig();
    r.traffic.set(BLUE_DIM, 100.0, 0.0);
    let (report, add) = run_rolling(&r, 1).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let want: Vec<String> = add.iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids(&r), want);
    assert!(r.lb.tags_of(DEMO_BLUE).is_empty(), "record removed");
    assert!(
        r.lb.tags_of(DEMO_LISTENER).is_empty(),
        "nothing on the listener"
    );
    let ops: Vec<&str> = r.lb.mutating_calls().into_iter().map(|c| c.op).collect();
    let count = |op: &str| ops.iter().filter(|o| **o == op).count();
    assert_eq!(
        (count("RegisterTargets"), count("DeregisterTargets")),
        (2, 4)
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_round_reverts_the_group_to_its_exact_original() {
    let r = rig();
    r.traffic.set(BLUE_DIM, 100.0, 40.0);
    let (report, _) = run_rolling(&r, 1).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(ids(&r), ["10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4"]);
    assert!(r
        .lb
        .targets_of(DEMO_BLUE)
        .iter()
        .all(|h| h.state == HealthState::Healthy));
    assert!(r.lb.tags_of(DEMO_BLUE).is_empty(), "record removed");
}

#[tokio::test(start_paused = true)]
async fn new_targets_that_never_get_healthy_stop_the_run_before_old_ones_leave() {
    let r = rig();
    r.lb.set_register_state(HealthState::Unhealthy);
    let (report, _) = run_rolling(&r, 0).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(ids(&r), ["10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4"]);
    let ops: Vec<&str> = r.lb.mutating_calls().into_iter().map(|c| c.op).collect();
    // Register the first round's new targets, then (they never get
    // healthy) deregister them again: no old target ever left.
    let moves: Vec<&str> = ops.into_iter().filter(|o| o.ends_with("Targets")).collect();
    assert_eq!(moves, ["RegisterTargets", "DeregisterTargets"]);
}

#[tokio::test(start_paused = true)]
async fn a_cancel_brings_the_original_back_while_half_of_it_stays_healthy() {
    let r = rig();
    r.traffic.set(BLUE_DIM, 100.0, 0.0);
    let (lb, cancel) = (r.lb.clone(), r.cancel.clone());
    tokio::spawn(async move {
        // In round 1's analysis: from now on a registered target stays
        // `initial` (real health checks take longer than the CI's window).
        tokio::time::sleep(Duration::from_secs(10)).await;
        lb.set_register_state(HealthState::Initial);
        cancel.cancel("received SIGTERM");
    });
    let (report, _) = run_rolling(&r, 1).await;
    assert_eq!(report.exit_code, 130, "{report:?}");
    let signal = r.cancel.at().expect("cancelled");
    assert!(
        signal.elapsed() <= Duration::from_secs(8),
        "within --revert-timeout"
    );
    assert_eq!(ids(&r), ["10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4"]);
    // Half of the original (the round not yet replaced) served throughout:
    // the new targets left only once the originals were back.
    let healthy = (r.lb.targets_of(DEMO_BLUE).iter())
        .filter(|h| h.state == HealthState::Healthy)
        .count();
    assert_eq!(healthy, 2, "{:?}", r.lb.targets_of(DEMO_BLUE));
    assert!(r.lb.tags_of(DEMO_BLUE).is_empty(), "record removed");
}
