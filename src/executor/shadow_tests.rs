//! Component tests of the replay-and-judge action on the fake load
//! balancer, with fake log and replay ports and paused time: a green like
//! blue passes and the rule is gone; a failing path, a cancel in the
//! middle of the replay and no data each end with no rule of the run and
//! the route untouched; `--rate` and `--duration` bound what is sent.

use super::tests::{config, rig, Rig};
use super::*;
use crate::alb::fake::*;
use crate::alb::{Forward, LoadBalancerPort, RouteAction, RouteRef};
use crate::analysis::NoDataPolicy;
use crate::engine::ShadowSpec;
use crate::shadow::judge::Bounds;
use crate::shadow::select::Replay;
use crate::shadow::{LogRead, LogSource, Replayer, ShadowPorts};
use crate::strategy::ab::RuleRunInput;
use crate::strategy::rules::{conditions, Match};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

struct Logs(Vec<String>);

#[async_trait::async_trait]
impl LogSource for Logs {
    async fn read(&self, _: SystemTime, _: SystemTime) -> Result<LogRead, String> {
        Ok(LogRead {
            objects: 1,
            lines: self.0.clone(),
        })
    }
}

/// Answers 200, or 500 on `/broken`; cancels the run after `cancel_at` sends.
struct Green {
    sent: Mutex<Vec<(String, String)>>,
    cancel_at: Option<(usize, Cancel)>,
}

#[async_trait::async_trait]
impl Replayer for Green {
    async fn send(&self, r: &Replay, h: (&str, &str)) -> Result<(u16, f64), String> {
        let n = {
            let mut s = self.sent.lock().unwrap();
            s.push((r.target.clone(), format!("{}: {}", h.0, h.1)));
            s.len()
        };
        if let Some((at, c)) = &self.cancel_at {
            if n == *at {
                c.cancel("SIGTERM");
            }
        }
        Ok((if r.path == "/broken" { 500 } else { 200 }, 0.002))
    }
}

fn line(path: &str) -> String {
    let at = crate::shadow::log::format_time(SystemTime::now() - Duration::from_secs(60));
    format!("http {at} app/demo/1 127.0.0.1:5000 10.0.0.1:80 0.000 0.002 0.000 200 200 1 2 \"GET http://h:80{path} HTTP/1.1\" \"ua\" - - {DEMO_BLUE} \"Root=1\" \"-\" \"-\" 0 {at} \"forward\" \"-\" \"-\" \"10.0.0.1:80\" \"200\" \"-\" \"-\"")
}

fn spec(rate_milli: u64, duration: Duration) -> ShadowSpec {
    ShadowSpec {
        header: "X-Alb-Rollout-Shadow".into(),
        value: "r-test".into(),
        elb: "app/demo/1".into(),
        port: 80,
        blue: DEMO_BLUE.into(),
        priority: 0,
        since: Duration::from_secs(900),
        methods: vec!["GET".into()],
        sample_bp: 10_000,
        rate_milli,
        duration,
        bounds: Bounds {
            max_mismatch_bp: 500,
            max_latency_ratio_pct: 200,
        },
        on_no_data: NoDataPolicy::Fail,
        replay_auth: false,
    }
}

async fn run(r: &Rig, lines: Vec<String>, green: Arc<Green>, s: ShadowSpec) -> RunReport {
    let original = Forward::single(DEMO_BLUE);
    let plan = crate::strategy::shadow::plan(
        &RuleRunInput {
            strategy: "shadow",
            route: &crate::alb::RouteRef::new(DEMO_LISTENER, None),
            others: &[],
            original: &original,
            blue: DEMO_BLUE,
            green: DEMO_GREEN,
            priority: 9,
            conditions: conditions(&[Match::Header {
                name: s.header.clone(),
                value: s.value.clone(),
            }]),
            duration: Duration::from_secs(30),
            keep: false,
            leading: &[],
            green_in_use: true,
        },
        s,
    );
    let (cfg, _) = config("100", vec![]).split();
    let src = Sources {
        lb: r.lb.clone(),
        traffic: None,
        probe: None,
        prometheus: None,
        judge_minutes: 1,
        commands: Default::default(),
        shadow: Some(ShadowPorts {
            logs: Arc::new(Logs(lines)),
            replayer: green,
        }),
    };
    let mut out = crate::report::Silent;
    Executor::new(cfg, plan, src, r.cancel.clone(), &mut out)
        .run()
        .await
}

fn green() -> Arc<Green> {
    Arc::new(Green {
        sent: Mutex::new(vec![]),
        cancel_at: None,
    })
}

async fn no_rule_and_route_untouched(r: &Rig) {
    let rules = r.lb.rules(DEMO_LISTENER).await.unwrap();
    assert!(rules.iter().all(|x| x.priority != "9"), "{rules:?}");
    assert_eq!(
        r.lb.route(&RouteRef::new(DEMO_LISTENER, None)),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
}

#[tokio::test(start_paused = true)]
async fn a_green_like_blue_passes_and_its_rule_is_deleted() {
    let r = rig();
    let g = green();
    let lines = (0..30).map(|i| line(&format!("/p{}", i % 3))).collect();
    let report = run(&r, lines, g.clone(), spec(20_000, Duration::from_secs(600))).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let s = report.shadow.unwrap();
    assert_eq!((s.judgement.replayed, s.judgement.mismatched), (30, 0));
    let headers: Vec<String> = (g.sent.lock().unwrap().iter())
        .map(|s| s.1.clone())
        .collect();
    assert!(headers.iter().all(|h| h == "X-Alb-Rollout-Shadow: r-test"));
    no_rule_and_route_untouched(&r).await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_path_reverts_with_it_first_and_no_rule_left() {
    let r = rig();
    let mut lines: Vec<String> = (0..20).map(|_| line("/ok")).collect();
    lines.extend((0..5).map(|_| line("/broken")));
    let report = run(&r, lines, green(), spec(20_000, Duration::from_secs(600))).await;
    assert_eq!(
        (report.result, report.exit_code),
        ("reverted", 1),
        "{report:?}"
    );
    let why = report.reason.as_ref().unwrap().message().to_string();
    assert!(
        why.starts_with("shadow: 5 of 25") && why.contains("/broken"),
        "{why}"
    );
    assert_eq!(
        report.shadow.unwrap().judgement.top_mismatching_paths[0].path,
        "/broken"
    );
    no_rule_and_route_untouched(&r).await;
}

#[tokio::test(start_paused = true)]
async fn a_cancel_mid_replay_reverts_and_stops_sending() {
    let r = rig();
    let g = Arc::new(Green {
        sent: Mutex::new(vec![]),
        cancel_at: Some((3, r.cancel.clone())),
    });
    let lines = (0..50).map(|_| line("/a")).collect();
    let report = run(&r, lines, g.clone(), spec(1_000, Duration::from_secs(600))).await;
    assert_eq!(report.exit_code, 130, "{report:?}");
    assert_eq!(
        g.sent.lock().unwrap().len(),
        3,
        "nothing sent after the cancel"
    );
    no_rule_and_route_untouched(&r).await;
}

#[tokio::test(start_paused = true)]
async fn no_data_fails_or_passes_by_policy() {
    let r = rig();
    let report = run(
        &r,
        vec!["garbage".into()],
        green(),
        spec(20_000, Duration::from_secs(60)),
    )
    .await;
    assert_eq!(report.exit_code, 1, "{report:?}");
    assert!(report.reason.unwrap().message().contains("no data"));
    no_rule_and_route_untouched(&r).await;
    let r = rig();
    let mut s = spec(20_000, Duration::from_secs(60));
    s.on_no_data = NoDataPolicy::Pass;
    let report = run(&r, vec![], green(), s).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("--on-no-data pass")));
}

#[tokio::test(start_paused = true)]
async fn the_duration_bounds_what_the_rate_sends() {
    let r = rig();
    let g = green();
    let lines = (0..100).map(|_| line("/a")).collect();
    // 2 per second for 10 s: 20 of the 100 are sent, the rest counted.
    let report = run(&r, lines, g.clone(), spec(2_000, Duration::from_secs(10))).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    assert_eq!(g.sent.lock().unwrap().len(), 20);
    assert_eq!(report.shadow.unwrap().not_sent, 80);
}
