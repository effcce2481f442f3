//! The revert's budgets, on the fake under paused time: a cancel bounds the
//! revert from the moment of the signal, even when a metrics read hangs or a
//! write was in flight; a revert after a failed check keeps retrying.

use super::scripted::Scripted;
use super::tests::{config, rig, route, Rig, TestRun, BLUE_DIM, GREEN_DIM};
use super::*;
use crate::alb::fake::*;
use crate::alb::{AlbErrorKind, Forward, LoadBalancerPort, RouteAction};
use crate::provider::{Arrival, MetricTarget, ProviderError, TrafficQuery, TrafficSource};
use crate::report::Silent;
use async_trait::async_trait;
use std::sync::Arc;

/// CloudWatch stuck in SDK retries: every read takes a minute.
struct HangingTraffic;

#[async_trait]
impl TrafficSource for HangingTraffic {
    async fn traffic(
        &self,
        targets: &[MetricTarget],
        _query: TrafficQuery,
    ) -> Result<Arrival, ProviderError> {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Err(ProviderError {
            transient: false,
            provider: "cloudwatch",
            message: format!("timed out reading {} targets", targets.len()),
        })
    }
}

async fn run_with(
    r: &Rig,
    lb: Arc<dyn LoadBalancerPort>,
    traffic: Arc<dyn TrafficSource>,
    cfg: TestRun,
) -> RunReport {
    let src = Sources {
        lb,
        traffic: Some(traffic),
        probe: None,
        prometheus: None,
        judge_minutes: 1,
        commands: Default::default(),
        shadow: None,
    };
    let mut out = Silent;
    let (cfg, actions) = cfg.split();
    Executor::new(cfg, actions, src, r.cancel.clone(), &mut out)
        .run()
        .await
}

fn cancel_at(r: &Rig, at: Duration) {
    let c = r.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(at).await;
        c.cancel("received SIGTERM");
    });
}

fn blue_only() -> RouteAction {
    RouteAction::Forward(Forward::single(DEMO_BLUE))
}

#[tokio::test(start_paused = true)]
async fn a_hung_metrics_read_is_abandoned_and_the_revert_fits_the_budget() {
    let r = rig();
    r.lb.set_lag(Duration::from_millis(500));
    // The first check starts about 30 s in and would hang until about 90 s.
    cancel_at(&r, Duration::from_secs(45));
    let t0 = Instant::now();
    let report = run_with(
        &r,
        r.lb.clone(),
        Arc::new(HangingTraffic),
        config("10:10m,100", vec![]),
    )
    .await;
    assert_eq!(report.exit_code, 130, "{report:?}");
    assert_eq!(r.lb.route(&route()), blue_only());
    let after_signal = t0.elapsed() - Duration::from_secs(45);
    assert!(
        after_signal <= Duration::from_secs(8),
        "reverted {after_signal:?} after the signal"
    );
}

#[tokio::test(start_paused = true)]
async fn the_revert_budget_counts_from_the_signal_not_from_when_it_was_noticed() {
    let r = rig();
    r.lb.set_lag(Duration::from_secs(1));
    // The first route write stays in flight 7 s (calls counted on a dry
    // run), and the signal arrives 1 s into it.
    let probe = Arc::new(Scripted::new(rig().lb));
    let first_write = {
        let rr = Rig {
            lb: probe.inner.clone(),
            traffic: r.traffic.clone(),
            cancel: Cancel::new(),
        };
        run_with(
            &rr,
            probe.clone(),
            r.traffic.clone(),
            config("10:1m,100", vec![]),
        )
        .await;
        probe.writes()[0].0
    };
    let lb = Arc::new(Scripted::new(r.lb.clone()).hold(first_write, Duration::from_secs(7)));
    let t0 = Instant::now();
    let (c, watched) = (r.cancel.clone(), lb.clone());
    tokio::spawn(async move {
        while watched.writes().is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        c.cancel("received SIGTERM");
    });
    let report = run_with(&r, lb, r.traffic.clone(), config("10:1m,100", vec![])).await;
    let signal = r.cancel.at().expect("cancelled") - t0;
    let after_signal = t0.elapsed() - signal;
    assert!(
        after_signal <= Duration::from_secs(8),
        "the run ended {after_signal:?} after the signal: {report:?}"
    );
    assert_eq!(
        report.exit_code, 3,
        "no time left to verify: say so and exit"
    );
    assert!(report.left_behind.unwrap().contains("alb-rollout rollback"));
}

#[tokio::test(start_paused = true)]
async fn a_revert_after_a_failed_check_keeps_retrying_past_the_revert_timeout() {
    let r = rig();
    r.traffic.set(GREEN_DIM, 100.0, 50.0);
    let lb = r.lb.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        lb.fail_next("ModifyListener", 30, AlbErrorKind::Transient);
    });
    let report = run_with(
        &r,
        r.lb.clone(),
        r.traffic.clone(),
        config("10:1m,100", vec![]),
    )
    .await;
    assert_eq!(report.exit_code, 1, "{report:?}");
    assert_eq!(r.lb.route(&route()), blue_only());
    let took = report.detection_to_revert_seconds.unwrap();
    assert!(
        took > 8.0,
        "throttled for longer than --revert-timeout: {took}"
    );
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_signal_cuts_a_retrying_revert_to_the_cancel_budget() {
    let r = rig();
    r.traffic.set(GREEN_DIM, 100.0, 50.0);
    r.traffic.set(BLUE_DIM, 1000.0, 0.0);
    let lb = r.lb.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        lb.fail_next("ModifyListener", 100_000, AlbErrorKind::Transient);
    });
    // The check fails at about 31 s; the revert is still retrying at 60 s.
    cancel_at(&r, Duration::from_secs(60));
    let t0 = Instant::now();
    let report = run_with(
        &r,
        r.lb.clone(),
        r.traffic.clone(),
        config("10:1m,100", vec![]),
    )
    .await;
    assert_eq!(report.exit_code, 3, "{report:?}");
    let after_signal = t0.elapsed() - Duration::from_secs(60);
    assert!(
        after_signal <= Duration::from_secs(8),
        "ended {after_signal:?} after the signal"
    );
}

#[tokio::test(start_paused = true)]
async fn the_run_beats_every_interval_even_while_a_read_hangs() {
    let r = rig();
    let fake = r.lb.clone();
    let gaps = tokio::spawn(async move {
        // Sample the heartbeat each second of a run whose every check
        // hangs a minute; return the longest time it stood still.
        let (mut last, mut since, mut longest) = (None, 0u64, 0u64);
        for _ in 0..400 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let beat = crate::alb::state_tags::Heartbeat::read(&fake.tags_of(DEMO_LISTENER));
            if beat.is_none() {
                break;
            }
            since = if beat == last { since + 1 } else { 0 };
            longest = longest.max(since);
            last = beat;
        }
        (last, longest)
    });
    let mut cfg = config("10:5m,100", vec![]);
    cfg.tracker = crate::analysis::BakeTracker::new(
        1,
        crate::analysis::NoDataPolicy::Pass,
        Duration::from_secs(600),
    );
    let report = run_with(&r, r.lb.clone(), Arc::new(HangingTraffic), cfg).await;
    assert_ne!(report.result, "not-started", "{report:?}");
    let (last, longest) = gaps.await.unwrap();
    let last = last.expect("a heartbeat was recorded");
    assert_eq!(last.every, 30, "the interval is in the record");
    assert!(
        longest <= 30,
        "the heartbeat stood still {longest}s with a 30s interval"
    );
}
