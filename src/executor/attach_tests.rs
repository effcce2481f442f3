//! Component tests of a first deploy: a green that no listener or rule
//! forwards to reads `unused` (`Target.NotInUse`) on the fake as on AWS,
//! so the run attaches it at weight 0 first, waits for its health, and a
//! revert takes the weight-0 entry away again. `ab`/`dark` put green in use
//! with their own rule at weight 0. Paused time, the fake load balancer.

use super::tests::{config, run_on, Rig, GREEN_DIM};
use super::*;
use crate::alb::fake::*;
use crate::alb::{
    Condition, Forward, HealthState, LoadBalancerPort, RouteAction, RouteRef, Target,
};
use crate::engine::Action;
use crate::provider::fake::FakeTraffic;
use std::sync::Arc;

/// The demo as a first deploy: nothing forwards to green yet.
fn detached() -> Rig {
    let traffic = Arc::new(FakeTraffic::default());
    traffic.set(super::tests::BLUE_DIM, 1000.0, 0.0);
    traffic.set(GREEN_DIM, 100.0, 0.0);
    Rig {
        lb: Arc::new(FakeLoadBalancer::demo()),
        traffic,
        cancel: Cancel::new(),
    }
}

fn route() -> RouteRef {
    RouteRef::new(DEMO_LISTENER, None)
}

fn modify_listener_calls(r: &Rig) -> usize {
    (r.lb.mutating_calls().iter())
        .filter(|c| c.op == "ModifyListener")
        .count()
}

#[tokio::test(start_paused = true)]
async fn the_fake_reports_a_detached_green_unused_whatever_its_targets_answer() {
    let r = detached();
    let h = r.lb.target_health(DEMO_GREEN).await.unwrap();
    assert_eq!(h[0].state, HealthState::Unused);
    assert_eq!(h[0].reason.as_deref(), Some("Target.NotInUse"));
    let g = r.lb.target_group(DEMO_GREEN).await.unwrap();
    assert!(g.load_balancer_arns.is_empty(), "{g:?}");
    // Without the attach, the run waits --health-timeout for nothing.
    let mut cfg = config("50,100", vec![]);
    cfg.health_timeout = Duration::from_secs(60);
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let why = report.reason.as_ref().unwrap().message().to_string();
    assert!(why.contains("1 unused"), "{why}");
}

#[tokio::test(start_paused = true)]
async fn a_fresh_green_is_attached_at_weight_zero_then_promoted() {
    let r = detached();
    let mut cfg = config("50,100", vec![]);
    cfg.plan = cfg.plan.with_attach(false);
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let f = r.lb.route(&route());
    assert_eq!(f.as_forward().unwrap().percent_of(DEMO_GREEN), 100.0);
    // attach, step 1, step 2, promotion
    assert_eq!(modify_listener_calls(&r), 4);
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty(), "run record removed");
}

#[tokio::test(start_paused = true)]
async fn a_failed_fresh_green_is_reverted_with_its_weight_zero_entry_gone() {
    let r = detached();
    r.traffic.set(GREEN_DIM, 100.0, 50.0);
    let mut cfg = config("50,100", vec![]);
    cfg.plan = cfg.plan.with_attach(false);
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE)),
        "the original, field for field: one group, its plain shape"
    );
    let h = r.lb.target_health(DEMO_GREEN).await.unwrap();
    assert_eq!(h[0].state, HealthState::Unused, "green detached again");
}

/// The executor's invariant lets weight 0 onto a group with no healthy
/// target (the attach), never more: a green that never gets healthy is
/// attached, waited for, and reverted before any step is written.
#[tokio::test(start_paused = true)]
async fn weight_zero_passes_the_health_gate_and_any_more_does_not() {
    let r = detached();
    r.lb.set_health(DEMO_GREEN, "10.0.0.2", HealthState::Unhealthy);
    let mut cfg = config("50,100", vec![]);
    cfg.health_timeout = Duration::from_secs(60);
    cfg.plan = cfg.plan.with_attach(false);
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(modify_listener_calls(&r), 2, "the attach and its revert");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );

    // A step straight onto the unhealthy green is refused by the gate.
    let r = detached();
    r.lb.set_health(DEMO_GREEN, "10.0.0.2", HealthState::Unhealthy);
    let cfg = config("50,100", vec![]).plan.with_attach(false);
    let mut plan = cfg.actions(&[]);
    plan.actions
        .retain(|a| !matches!(a, Action::AwaitHealthy { .. }));
    let (cfg, _) = config("50,100", vec![]).split();
    let mut out = crate::report::Silent;
    let src = Sources {
        lb: r.lb.clone(),
        traffic: Some(r.traffic.clone()),
        probe: None,
        prometheus: None,
        judge_minutes: 1,
        commands: Default::default(),
        shadow: None,
    };
    let report = Executor::new(cfg, plan, src, r.cancel.clone(), &mut out)
        .run()
        .await;
    let why = report.reason.as_ref().unwrap().message().to_string();
    assert!(why.contains("no healthy target"), "{why}");
    assert_eq!(
        modify_listener_calls(&r),
        2,
        "attach sent, step refused, revert"
    );
}

fn rule_run(in_use: bool) -> crate::engine::Plan {
    crate::strategy::ab::plan(&crate::strategy::ab::RuleRunInput {
        strategy: crate::strategy::ab::AB,
        route: &crate::alb::RouteRef::new(DEMO_LISTENER, None),
        others: &[],
        original: &Forward::single(DEMO_BLUE),
        blue: DEMO_BLUE,
        green: DEMO_GREEN,
        priority: 7,
        conditions: vec![Condition {
            field: "http-header".into(),
            key: Some("X-Variant".into()),
            values: vec!["b".into()],
            regex_values: vec![],
        }],
        duration: Duration::from_secs(120),
        keep: true,
        leading: &[],
        green_in_use: in_use,
    })
}

async fn run_rules(r: &Rig, plan: crate::engine::Plan) -> crate::report::RunReport {
    let (cfg, _) = config("100", vec![]).split();
    let mut out = crate::report::Silent;
    let src = Sources {
        lb: r.lb.clone(),
        traffic: Some(r.traffic.clone()),
        probe: None,
        prometheus: None,
        judge_minutes: 1,
        commands: Default::default(),
        shadow: None,
    };
    Executor::new(cfg, plan, src, r.cancel.clone(), &mut out)
        .run()
        .await
}

#[tokio::test(start_paused = true)]
async fn an_ab_rule_puts_a_fresh_green_in_use_at_weight_zero_then_sends_it_the_segment() {
    let r = detached();
    let report = run_rules(&r, rule_run(false)).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let rules = r.lb.rules(DEMO_LISTENER).await.unwrap();
    let kept = rules.iter().find(|x| x.priority == "7").expect("kept rule");
    assert_eq!(
        kept.action,
        RouteAction::Forward(Forward::single(DEMO_GREEN))
    );
    let ops: Vec<&str> = (r.lb.mutating_calls().iter())
        .map(|c| c.op)
        .filter(|op| *op != "AddTags" && *op != "RemoveTags")
        .collect();
    assert_eq!(ops, ["CreateRule", "ModifyRule"]);
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE)),
        "the route is never written"
    );
}

#[tokio::test(start_paused = true)]
async fn a_fresh_green_that_fails_under_its_rule_leaves_no_rule_and_the_route_untouched() {
    let r = detached();
    r.lb.set_health(DEMO_GREEN, "10.0.0.2", HealthState::Unhealthy);
    let report = run_rules(&r, rule_run(false)).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let rules = r.lb.rules(DEMO_LISTENER).await.unwrap();
    assert_eq!(rules.len(), 1, "only the default: {rules:?}");
    assert!(
        !(r.lb.mutating_calls().iter()).any(|c| c.op == "ModifyRule"),
        "the segment never reached green"
    );
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
}

const BLUE_IDS: [&str; 4] = ["10.0.0.1", "10.0.0.11", "10.0.0.12", "10.0.0.13"];

/// A full deploy (`--deregister-blue 50%`) with `--final-route green-only`
/// on the usual rig (green in use), four healthy blue targets.
fn green_only_full_deploy() -> (Rig, super::tests::TestRun) {
    use crate::strategy::canary::{plan, CanaryInput, FinalRoute};
    use crate::strategy::drain_blue::{batches, BatchSize, BlueDrain};
    let r = super::tests::rig();
    for id in BLUE_IDS {
        r.lb.set_health(DEMO_BLUE, id, HealthState::Healthy);
    }
    let mut cfg = config("100", vec![]);
    let steps = crate::plan::parse_steps("100").unwrap();
    let original = Forward::single(DEMO_BLUE);
    let targets: Vec<Target> = (BLUE_IDS.iter())
        .map(|id| crate::alb::state_tags::parse_target(id))
        .collect();
    cfg.plan = plan(&CanaryInput {
        original: &original,
        blue: DEMO_BLUE,
        green: DEMO_GREEN,
        steps: &steps,
        default_bake: Duration::from_secs(60),
        stickiness: None,
        final_route: FinalRoute::GreenOnly,
    })
    .with_drain(Some(BlueDrain {
        batches: batches(&targets, BatchSize::Percent(50)),
        settle: Duration::from_secs(15),
        check: Duration::from_secs(30),
    }));
    (r, cfg)
}

#[tokio::test(start_paused = true)]
async fn a_green_only_full_deploy_takes_blue_out_of_the_route_after_its_last_batch() {
    let (r, cfg) = green_only_full_deploy();
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_GREEN))
    );
    assert!(r.lb.targets_of(DEMO_BLUE).is_empty(), "blue drained");
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty(), "record removed");
    let ops: Vec<&str> = r.lb.mutating_calls().iter().map(|c| c.op).collect();
    assert_eq!(
        ops[ops.len() - 4..],
        [
            "DeregisterTargets",
            "AddTags",
            "ModifyListener",
            "RemoveTags"
        ],
        "the last batch, promoted marked, blue's weight-0 entry out, the record: {ops:?}"
    );
}

/// Blue is still in the route (at weight 0) while its batches leave, so
/// the targets a revert registers again are health-checked and the route
/// goes back; with blue out of the route they would read `unused` forever.
#[tokio::test(start_paused = true)]
async fn a_failure_during_a_green_only_full_deploy_brings_blue_back_healthy() {
    let (r, cfg) = green_only_full_deploy();
    let (lb, traffic) = (r.lb.clone(), r.traffic.clone());
    tokio::spawn(async move {
        while !(lb.calls().iter()).any(|c| c.op == "DeregisterTargets") {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        traffic.set(GREEN_DIM, 100.0, 50.0);
    });
    let report = run_on(&r, r.lb.clone(), cfg).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    let blue = r.lb.target_health(DEMO_BLUE).await.unwrap();
    assert_eq!(blue.len(), 4, "every target back");
    assert!(
        blue.iter().all(|h| h.state == HealthState::Healthy),
        "{blue:?}"
    );
}
