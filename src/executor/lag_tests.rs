//! Component tests of CloudWatch's lag: waiting is neither a pass nor "no
//! data", each step judges only minutes after its own shift, and a bake is
//! measured in judged minutes.

use super::*;
use crate::analysis::Verdict;

#[tokio::test(start_paused = true)]
async fn a_lagging_cloudwatch_holds_the_step_and_a_good_green_still_promotes() {
    let r = rig();
    // Six checks (3 minutes) with nothing ingested, as on a real account.
    r.traffic.lag_for(6);
    let t0 = Instant::now();
    let report = run(&r, config("10:2m,100", vec![])).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let iv = &report.steps[0].intervals;
    assert!(
        iv[..6].iter().all(|i| i.verdict == Verdict::Waiting),
        "{iv:?}"
    );
    assert!(
        iv[0].checks[1]
            .detail
            .contains("waiting for CloudWatch (data lags ~120 s)"),
        "{:?}",
        iv[0].checks
    );
    assert!(
        t0.elapsed() >= Duration::from_secs(300),
        "3 minutes of lag then 2 judged minutes"
    );
}

#[tokio::test(start_paused = true)]
async fn a_bad_green_is_reverted_at_the_first_minute_that_arrives() {
    let r = rig();
    r.traffic.set(GREEN_DIM, 100.0, 30.0);
    r.traffic.lag_for(4);
    let report = run(&r, config("10:5m,100", vec![])).await;
    assert_eq!(report.result, "reverted");
    let iv = &report.steps[0].intervals;
    assert_eq!(iv.last().unwrap().verdict, Verdict::Fail);
    assert!(iv[..iv.len() - 1]
        .iter()
        .all(|i| i.verdict == Verdict::Waiting));
}

#[tokio::test(start_paused = true)]
async fn cloudwatch_that_never_arrives_is_no_data_after_the_timeout() {
    let r = rig();
    r.traffic.lag_for(usize::MAX);
    let mut cfg = config("10:2m,100", vec![]);
    cfg.tracker = BakeTracker::new(1, NoDataPolicy::Fail, Duration::from_secs(300));
    let report = run(&r, cfg).await;
    assert_eq!(report.result, "reverted");
    let why = report.reason.unwrap().message().to_string();
    assert!(
        why.contains("no CloudWatch minute arrived for 300s"),
        "{why}"
    );
}

#[tokio::test(start_paused = true)]
async fn each_step_judges_only_minutes_after_its_own_shift_and_never_one_twice() {
    let r = rig();
    let report = run(&r, config("10:2m,50:2m,100", vec![])).await;
    assert_eq!(report.result, "promoted");
    let qs = r.traffic.queries();
    let sinces: Vec<_> = qs.iter().map(|q| q.since).collect();
    let mut distinct = sinces.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 2, "one `since` per step: its shift");
    assert!(distinct[0] <= distinct[1]);
    let first_of_step2 = sinces.iter().position(|s| *s == distinct[1]).unwrap();
    assert!(first_of_step2 > 0);
    // The executor keeps the judged minutes itself (analysis::minutes):
    // every query asks for all of the step's minutes.
    assert!(qs.iter().all(|q| q.after.is_none()));
}

#[tokio::test(start_paused = true)]
async fn without_cloudwatch_a_bake_is_wall_time_and_no_minute_is_awaited() {
    let r = rig();
    let lb: Arc<dyn LoadBalancerPort> = r.lb.clone();
    let src = Sources {
        lb,
        traffic: None,
        probe: None,
        prometheus: None,
        judge_minutes: 1,
        commands: Default::default(),
        shadow: None,
    };
    let t0 = Instant::now();
    let mut out = Silent;
    let (cfg, actions) = config("10:1m,100", vec![]).split();
    let report = Executor::new(cfg, actions, src, r.cancel.clone(), &mut out)
        .run()
        .await;
    assert_eq!(report.result, "promoted");
    assert_eq!(report.steps[0].intervals.len(), 2);
    assert!(t0.elapsed() < Duration::from_secs(70));
    assert_eq!(r.traffic.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_throttled_get_metric_data_is_retried_within_the_interval_and_a_good_green_promotes() {
    let r = rig();
    r.traffic.throttle_next(1);
    let report = run(&r, config("10:1m,100", vec![])).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let iv = &report.steps[0].intervals;
    assert!(iv.iter().all(|i| i.verdict != Verdict::NoData), "{iv:?}");
}

#[tokio::test(start_paused = true)]
async fn a_throttled_describe_target_health_is_retried_within_the_interval_and_a_good_green_promotes(
) {
    let r = rig();
    let lb = r.lb.clone();
    // After the health gate of the first write, before the first check.
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        lb.fail_next(
            "DescribeTargetHealth",
            1,
            crate::alb::AlbErrorKind::Transient,
        );
    });
    let report = run(&r, config("10:1m,100", vec![])).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let iv = &report.steps[0].intervals;
    assert!(iv.iter().all(|i| i.verdict != Verdict::NoData), "{iv:?}");
}

#[tokio::test(start_paused = true)]
async fn a_read_that_fails_twice_in_an_interval_is_still_no_data() {
    let r = rig();
    r.traffic.throttle_next(2);
    let report = run(&r, config("10:1m,100", vec![])).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let why = report.reason.unwrap().message().to_string();
    assert!(why.contains("Throttling"), "{why}");
}

#[tokio::test(start_paused = true)]
async fn with_a_two_minute_interval_a_bad_minute_before_the_newest_is_judged_and_reverts() {
    let r = rig();
    r.traffic.set_minute(GREEN_DIM, 0, 100.0, 40.0);
    let mut cfg = config("10:2m,100", vec![]);
    cfg.interval = Duration::from_secs(120);
    let report = run(&r, cfg).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let why = report.reason.unwrap().message().to_string();
    assert!(why.contains("green 40.00% of 100 requests"), "{why}");
}
