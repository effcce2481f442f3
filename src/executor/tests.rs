//! Component tests: whole canary runs on the fake load balancer and scripted
//! metrics, under paused time, so a half-hour canary runs in milliseconds.

use super::*;
use crate::alb::fake::*;
use crate::alb::{Forward, HealthState, LoadBalancerPort, RouteAction, RouteRef};
use crate::analysis::NoDataPolicy;
use crate::plan::parse_steps;
use crate::provider::fake::FakeTraffic;
use crate::provider::MetricTarget;
use crate::report::Silent;
use crate::strategy::canary::{plan, CanaryInput, CanaryPlan, FinalRoute};
use std::sync::Arc;

pub(super) const BLUE_DIM: &str = "targetgroup/blue/b1";
pub(super) const GREEN_DIM: &str = "targetgroup/green/g1";

pub(super) struct Rig {
    pub(super) lb: Arc<FakeLoadBalancer>,
    pub(super) traffic: Arc<FakeTraffic>,
    pub(super) cancel: Cancel,
}

pub(super) fn rig() -> Rig {
    let traffic = Arc::new(FakeTraffic::default());
    traffic.set(BLUE_DIM, 1000.0, 0.0);
    traffic.set(GREEN_DIM, 100.0, 0.0);
    // Green in use already (a rule of the load balancer forwards to it, as
    // after an earlier deploy): these runs need no attach. A green nothing
    // forwards to is `attach_tests`' subject.
    let lb = FakeLoadBalancer::demo();
    lb.attach(DEMO_GREEN, DEMO_LB);
    Rig {
        lb: Arc::new(lb),
        traffic,
        cancel: Cancel::new(),
    }
}

impl Rig {
    /// `plan` run with `cfg` on the rig's load balancer and traffic (no
    /// probe, Prometheus, commands or shadow), output silent.
    pub(super) async fn run(&self, cfg: RunConfig, plan: Plan) -> RunReport {
        let src = Sources {
            lb: self.lb.clone(),
            traffic: Some(self.traffic.clone()),
            probe: None,
            prometheus: None,
            judge_minutes: 1,
            commands: Default::default(),
            shadow: None,
        };
        let mut out = Silent;
        Executor::new(cfg, plan, src, self.cancel.clone(), &mut out)
            .run()
            .await
    }
}

/// A canary for the component tests: the executor's settings, the
/// canary's plan and the targets it registers, each open to a test's
/// changes before `split` hands the executor its settings and actions.
pub(super) struct TestRun {
    pub(super) cfg: RunConfig,
    pub(super) plan: CanaryPlan,
    pub(super) register: Vec<Target>,
}

impl TestRun {
    pub(super) fn split(self) -> (RunConfig, Plan) {
        let actions = self.plan.actions(&self.register);
        (self.cfg, actions)
    }
}

impl std::ops::Deref for TestRun {
    type Target = RunConfig;
    fn deref(&self) -> &RunConfig {
        &self.cfg
    }
}

impl std::ops::DerefMut for TestRun {
    fn deref_mut(&mut self) -> &mut RunConfig {
        &mut self.cfg
    }
}

pub(super) fn config(steps: &str, register: Vec<Target>) -> TestRun {
    let original = Forward::single(DEMO_BLUE);
    let steps = parse_steps(steps).unwrap();
    let plan = plan(&CanaryInput {
        original: &original,
        blue: DEMO_BLUE,
        green: DEMO_GREEN,
        steps: &steps,
        default_bake: Duration::from_secs(60),
        stickiness: None,
        final_route: FinalRoute::KeepBlue,
    });
    let cfg = RunConfig {
        run_id: "r-test".into(),
        scope: Scope::Route(RouteRef::new(DEMO_LISTENER, None)),
        interval: Duration::from_secs(30),
        health_timeout: Duration::from_secs(300),
        drain_timeout: Duration::from_secs(600),
        health_poll: Duration::from_secs(5),
        thresholds: Thresholds {
            max_error_rate: 0.01,
            min_requests: 10,
            ..Default::default()
        },
        tracker: BakeTracker::new(1, NoDataPolicy::Fail, Duration::from_secs(600)),
        revert_timeout: Duration::from_secs(8),
        subjects: Subjects {
            green_arn: DEMO_GREEN.into(),
            green: MetricTarget {
                target_group: GREEN_DIM.into(),
                load_balancer: "app/demo/1".into(),
            },
            blue: Some(MetricTarget {
                target_group: BLUE_DIM.into(),
                load_balancer: "app/demo/1".into(),
            }),
            other_lbs: vec![],
        },
        started_unix: 0,
        apply: ApplyPolicy::default(),
        settle: Duration::from_secs(15),
        in_place: None,
    };
    TestRun {
        cfg,
        plan,
        register,
    }
}

async fn run(r: &Rig, cfg: TestRun) -> RunReport {
    run_on(r, r.lb.clone(), cfg).await
}

/// Run on `lb` (the rig's fake, or a port wrapped around it).
pub(super) async fn run_on(r: &Rig, lb: Arc<dyn LoadBalancerPort>, run: TestRun) -> RunReport {
    let src = Sources {
        lb,
        traffic: Some(r.traffic.clone()),
        probe: None,
        prometheus: None,
        judge_minutes: 1,
        commands: Default::default(),
        shadow: None,
    };
    let mut out = Silent;
    let (cfg, actions) = run.split();
    Executor::new(cfg, actions, src, r.cancel.clone(), &mut out)
        .run()
        .await
}

pub(super) fn route() -> RouteRef {
    RouteRef::new(DEMO_LISTENER, None)
}

#[tokio::test(start_paused = true)]
async fn a_good_green_is_promoted_with_blue_kept_at_zero() {
    let r = rig();
    let t0 = Instant::now();
    let report = run(&r, config("5:10m,25:10m,50:10m,100", vec![])).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    assert_eq!(report.exit_code, 0);
    assert!(
        t0.elapsed() >= Duration::from_secs(1800),
        "a 30-minute canary ran its full bake"
    );
    let f = r.lb.route(&route());
    assert_eq!(f.as_forward().unwrap().percent_of(DEMO_GREEN), 100.0);
    assert_eq!(f.as_forward().unwrap().weight_of(DEMO_BLUE), Some(0));
    assert_eq!(report.steps.len(), 4);
    // Checks every 30 s; the first waits for CloudWatch's first minute, then
    // the step holds until 10 judged minutes cover its bake.
    let first = &report.steps[0].intervals;
    assert_eq!(first[0].verdict, crate::analysis::Verdict::Waiting);
    assert_eq!(first.len(), 21);
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty(), "run record removed");
}

#[tokio::test(start_paused = true)]
async fn a_bad_green_is_reverted_to_the_exact_original() {
    let r = rig();
    let traffic = r.traffic.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(700)).await;
        traffic.set(GREEN_DIM, 100.0, 30.0);
    });
    let report = run(&r, config("5:10m,25:10m,100", vec![])).await;
    assert_eq!(report.result, "reverted");
    assert_eq!(report.exit_code, 1);
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE)),
        "single forward stays single"
    );
    let failed = report.failed_check.expect("failed check recorded");
    assert!(
        failed.summary().contains("green 30.00% of 100 requests"),
        "{}",
        failed.summary()
    );
    assert_eq!(report.steps.len(), 2, "failed during step 2");
    assert!(report.detection_to_revert_seconds.is_some());
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty());
}

#[tokio::test(start_paused = true)]
async fn cancel_mid_bake_reverts_with_130_and_few_calls() {
    let r = rig();
    let cancel = r.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(90)).await;
        cancel.cancel("received SIGTERM");
    });
    let before = Instant::now();
    let report = run(&r, config("10:10m,100", vec![])).await;
    assert_eq!(report.exit_code, 130);
    assert_eq!(report.result, "cancelled");
    assert!(
        before.elapsed() < Duration::from_secs(91),
        "no more waiting after the cancel"
    );
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    let after_cancel: Vec<_> =
        r.lb.mutating_calls()
            .into_iter()
            .rev()
            .take(2)
            .map(|c| c.op)
            .collect();
    assert_eq!(after_cancel, vec!["RemoveTags", "ModifyListener"]);
}

#[tokio::test(start_paused = true)]
async fn registers_waits_for_health_and_deregisters_on_revert() {
    let r = rig();
    r.lb.clear_targets(DEMO_GREEN);
    r.lb.set_register_state(HealthState::Initial);
    let lb = r.lb.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(20)).await;
        lb.set_health(DEMO_GREEN, "10.0.0.7", HealthState::Healthy);
        tokio::time::sleep(Duration::from_secs(60)).await;
        lb.set_health(DEMO_GREEN, "10.0.0.7", HealthState::Unhealthy);
    });
    let target = Target {
        id: "10.0.0.7".into(),
        port: None,
        az: None,
    };
    let report = run(&r, config("10:5m,100", vec![target])).await;
    assert_eq!(report.result, "reverted");
    assert!(report.reason.unwrap().message().contains("unhealthy"));
    assert!(
        r.lb.targets_of(DEMO_GREEN).is_empty(),
        "registered target removed again"
    );
}

#[tokio::test(start_paused = true)]
async fn never_shifts_to_a_green_without_healthy_targets() {
    let r = rig();
    r.lb.set_health(DEMO_GREEN, "10.0.0.2", HealthState::Unhealthy);
    let mut cfg = config("10:5m,100", vec![]);
    cfg.health_timeout = Duration::from_secs(60);
    let report = run(&r, cfg).await;
    assert_eq!(report.exit_code, 1);
    assert!(report
        .reason
        .unwrap()
        .message()
        .contains("did not become healthy"));
    let writes: Vec<_> =
        r.lb.mutating_calls()
            .into_iter()
            .filter(|c| c.op == "ModifyListener")
            .collect();
    assert_eq!(writes, vec![], "no step was written, so nothing to revert");
}

#[tokio::test(start_paused = true)]
async fn no_data_policies_decide_the_outcome() {
    for (policy, want) in [
        (NoDataPolicy::Fail, "reverted"),
        (NoDataPolicy::Pass, "promoted"),
        (NoDataPolicy::Pause, "reverted"),
    ] {
        let r = rig();
        r.traffic.set_no_data(GREEN_DIM);
        let mut cfg = config("10:2m,100", vec![]);
        cfg.tracker = BakeTracker::new(1, policy, Duration::from_secs(300));
        let report = run(&r, cfg).await;
        assert_eq!(report.result, want, "{policy:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_unverifiable_shift_reverts() {
    let r = rig();
    r.lb.set_stale_reads(50);
    let report = run(&r, config("10:1m,100", vec![])).await;
    assert_eq!(report.result, "reverted");
    assert!(report
        .reason
        .unwrap()
        .message()
        .contains("could not be verified"));
}

#[tokio::test(start_paused = true)]
async fn a_revert_that_cannot_be_written_is_incomplete_with_the_fix() {
    let r = rig();
    r.traffic.set(GREEN_DIM, 100.0, 50.0);
    let lb = r.lb.clone();
    tokio::spawn(async move {
        // After the first shift landed, writes start being refused.
        tokio::time::sleep(Duration::from_secs(5)).await;
        lb.fail_next(
            "ModifyListener",
            100,
            crate::alb::AlbErrorKind::AccessDenied,
        );
    });
    let report = run(&r, config("10:1m,100", vec![])).await;
    assert_eq!(report.exit_code, 3, "{report:?}");
    assert!(report
        .left_behind
        .unwrap()
        .contains("alb-rollout rollback --listener"));
    assert_eq!(
        r.lb.route(&route())
            .as_forward()
            .unwrap()
            .weight_of(DEMO_GREEN),
        Some(100),
        "the step is still live"
    );
}

#[tokio::test(start_paused = true)]
async fn a_first_write_that_is_refused_leaves_nothing_to_undo() {
    let r = rig();
    r.lb.fail_next(
        "ModifyListener",
        100,
        crate::alb::AlbErrorKind::AccessDenied,
    );
    let report = run(&r, config("10:1m,100", vec![])).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert!(report.reason.unwrap().message().contains("ModifyListener"));
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
}

#[tokio::test(start_paused = true)]
async fn a_run_whose_record_was_overwritten_changes_nothing() {
    let r = rig();
    let lb = r.lb.clone();
    tokio::spawn(async move {
        // Another run writes its record while this one settles.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut other = crate::alb::state_tags::decode(&lb.tags_of(DEMO_LISTENER))
            .unwrap()
            .unwrap();
        other.run_id = "r-other".into();
        lb.add_tags(DEMO_LISTENER, &crate::alb::state_tags::encode(&other))
            .await
            .unwrap();
    });
    let report = run(&r, config("10:1m,100", vec![])).await;
    assert_eq!(report.result, "not-started");
    assert!(report.reason.unwrap().message().contains("r-other"));
    let writes: Vec<_> = r.lb.mutating_calls().into_iter().map(|c| c.op).collect();
    assert_eq!(
        writes,
        vec!["AddTags", "AddTags"],
        "no route change, and the winner's record is left alone"
    );
}

#[tokio::test(start_paused = true)]
async fn a_route_changed_by_someone_else_mid_run_stops_the_run() {
    let r = rig();
    let lb = r.lb.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(90)).await;
        lb.force_route(
            &route(),
            RouteAction::Forward(Forward::weighted(&[(DEMO_BLUE, 1), (DEMO_GREEN, 1)])),
        );
    });
    let report = run(&r, config("10:2m,50:2m,100", vec![])).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let why = report.reason.unwrap().message().to_string();
    assert!(
        why.contains("changed outside alb-rollout during step 1"),
        "{why}"
    );
    assert_eq!(report.steps.len(), 1, "step 2 was never written");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
}

#[tokio::test(start_paused = true)]
async fn a_route_changed_while_waiting_for_health_stops_before_the_first_write() {
    let r = rig();
    r.lb.set_health(DEMO_GREEN, "10.0.0.2", HealthState::Unhealthy);
    let lb = r.lb.clone();
    let theirs = RouteAction::Forward(Forward::weighted(&[(DEMO_BLUE, 1), (DEMO_GREEN, 1)]));
    let t = theirs.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(20)).await;
        lb.force_route(&route(), t);
        tokio::time::sleep(Duration::from_secs(10)).await;
        lb.set_health(DEMO_GREEN, "10.0.0.2", HealthState::Healthy);
    });
    let report = run(&r, config("10:2m,100", vec![])).await;
    assert_eq!(report.exit_code, 1, "{report:?}");
    let why = report.reason.unwrap().message().to_string();
    assert!(
        why.contains("changed outside alb-rollout before its first step"),
        "{why}"
    );
    let writes: Vec<_> =
        r.lb.mutating_calls()
            .into_iter()
            .filter(|c| c.op == "ModifyListener")
            .collect();
    assert_eq!(
        writes,
        vec![],
        "their change is neither overwritten nor reverted"
    );
    assert_eq!(r.lb.route(&route()), theirs);
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty(), "record removed");
}

#[path = "lag_tests.rs"]
mod lag;
