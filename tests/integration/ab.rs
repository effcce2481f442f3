//! `ab` through the real binary on the emulator, with real traffic through
//! its data plane: only requests that match the rule reach green, the
//! report counts exactly the traffic the test sent, a bad green is
//! reverted (the rule deleted), a cancel deletes the rule (exit 130), bad
//! input is refused with every culprit and no change, and after `kill -9`
//! `rollback` leaves the listener's rules exactly as they were.

use crate::route_shapes::{describe_rules, plain};
use crate::support::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{HttpHeaderConditionConfig, RuleCondition};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

pub const HEADER: (&str, &str) = ("X-Variant", "b");

pub fn ab_args<'a>(d: &'a Demo, duration: &'a str) -> Vec<&'a str> {
    vec![
        "ab",
        "--listener",
        &d.listener,
        "--green",
        &d.green,
        "--match",
        "header:X-Variant=b",
        "--duration",
        duration,
        "--interval",
        "2s",
        "--min-requests",
        "1",
    ]
}

/// The binary with `--output json`: its stdout (the JSON, once it exits)
/// and its progress lines (stderr) as they come.
pub fn spawn_json(
    emu: &Emulator,
    args: &[&str],
) -> (Child, std::thread::JoinHandle<String>, Receiver<String>) {
    let mut child = emu
        .cmd(args)
        .args(["--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let json = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in err.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, json, rx)
}

/// Wait (up to 3 minutes) for a progress line containing `marker`.
pub fn wait_for(rx: &Receiver<String>, marker: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(marker) => return,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("never saw {marker}");
}

/// The listener's rules besides the default one, as the SDK reads them.
async fn rules(emu: &Emulator, d: &Demo) -> Vec<elbv2::types::Rule> {
    let client = elbv2::Client::new(&emu.sdk_config().await);
    describe_rules(&client, &d.listener).await
}

/// A rule alb-rollout did not create: X-Team=ops to blue at `priority`.
pub async fn foreign_rule(emu: &Emulator, d: &Demo, priority: i32) -> String {
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let cond = RuleCondition::builder()
        .field("http-header")
        .http_header_config(
            HttpHeaderConditionConfig::builder()
                .http_header_name("X-Team")
                .values("ops")
                .build(),
        )
        .build();
    let out = client
        .create_rule()
        .listener_arn(&d.listener)
        .priority(priority)
        .conditions(cond)
        .actions(plain(&d.blue))
        .send()
        .await
        .unwrap();
    out.rules()[0].rule_arn().unwrap().to_string()
}

fn variant<'a>(report: &'a Value, v: &str) -> &'a Value {
    &report["ab"]["report"][v]
}

/// The report's counts come from CloudWatch. The emulator runs in metrics
/// mode `fast` (per-second buckets published a second later) because this
/// test is about the counts, not CloudWatch's timing: in the default mode
/// the run's last minute arrives 90 s after it ends and the report waits
/// for it (docs/ab.md).
#[tokio::test]
async fn only_matching_requests_reach_green_and_the_report_counts_what_was_sent() {
    let mut emu = Emulator::start_with(FAST_METRICS);
    let d = emu.demo(&[]);
    let url = format!("{}/", d.listener_url);
    let (mut child, json, progress) = spawn_json(&emu, &ab_args(&d, "10s"));
    wait_for(&progress, "rule created");
    let t0 = std::time::Instant::now();
    // The test's traffic runs while the rule lives (the run judges
    // CloudWatch minutes, so it needs traffic), all of it before the
    // report is read: the report must count exactly this.
    let plain = Traffic::start(&url, 20, Duration::from_secs(170));
    let matching = Traffic::start_with_headers(&url, 20, Duration::from_secs(170), &[HEADER]);
    wait_for(&progress, "rule deleted");
    let (plain, matching) = (plain.stop(), matching.stop());
    let status = child.wait().unwrap();
    let took = t0.elapsed();
    let report: Value = serde_json::from_str(&json.join().unwrap()).unwrap();
    assert_eq!(status.code(), Some(0), "{report}");
    assert_eq!(report["result"], "promoted", "{report}");
    assert_eq!(report["strategy"], "ab");
    assert_eq!(
        plain.get("v2/200"),
        0,
        "no plain request reached green: {plain:?}"
    );
    assert!(
        matching.get("v2/200") > 20,
        "matching requests reached green: {matching:?}"
    );
    assert_eq!(
        plain.failed() + matching.failed(),
        0,
        "{plain:?} {matching:?}"
    );
    let (g, b) = (variant(&report, "green"), variant(&report, "blue"));
    assert_eq!(report["ab"]["source"], "cloudwatch", "{report}");
    assert_eq!(g["requests"], matching.get("v2/200"), "green: {report}");
    // Blue: every plain request, and the matching ones sent before the
    // new rule reached the data plane (3 s propagation).
    let blue_sent = plain.get("v1/200") + matching.get("v1/200");
    assert_eq!(b["requests"], blue_sent, "blue: {report}");
    assert_eq!(
        (g["errors_5xx"].as_u64(), b["errors_5xx"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(g["p50_ms"].is_number() || g["p50_ms"].is_null(), "{report}");
    assert_eq!(
        report["ab"]["report"]["outcome"],
        "no-significant-difference"
    );
    assert!(
        rules(&emu, &d).await.len() == 1,
        "only the default rule is left"
    );
    eprintln!("ab run with report took {took:?}; green {g}, blue {b}");
}

#[tokio::test]
async fn a_bad_green_is_reverted_and_its_rule_deleted() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "1.0"]);
    foreign_rule(&emu, &d, 1).await;
    let before = rules(&emu, &d).await;
    emu.clear_calls();
    let probe = format!("{}/", d.listener_url);
    let mut args = ab_args(&d, "60s");
    args.extend([
        "--cloudwatch",
        "false",
        "--probe",
        &probe,
        "--output",
        "json",
    ]);
    let r = emu.run(&args);
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    assert_eq!(report["result"], "reverted");
    assert!(
        report["reason"]["message"]
            .as_str()
            .unwrap()
            .starts_with("probe"),
        "{report}"
    );
    assert_eq!(
        rules(&emu, &d).await,
        before,
        "the foreign rule untouched, ours gone"
    );
    let writes: Vec<String> = emu
        .mutating_calls()
        .into_iter()
        .filter(|c| c != "AddTags")
        .collect();
    // The demo's green is in no route: the rule is created with green at
    // weight 0 (AWS then health-checks green), rewritten once it is healthy.
    assert_eq!(
        writes,
        vec!["CreateRule", "ModifyRule", "DeleteRule", "RemoveTags"]
    );
    assert_eq!(report["ab"]["source"], "probe", "{report}");
    let g = variant(&report, "green");
    // A probe sent before the new rule reached every ALB node still meets
    // blue (docs/ab.md), so only "some" of green's are errors.
    assert!(g["errors_5xx"].as_u64() > Some(0), "{report}");
    assert_eq!(variant(&report, "blue")["errors_5xx"], 0, "{report}");
}

#[tokio::test]
async fn sigterm_mid_test_deletes_the_rule_with_exit_130() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let before = rules(&emu, &d).await;
    let args = ab_args(&d, "10m");
    let (mut child, _) = spawn_until_line(&emu, &args, "rule created");
    assert_eq!(rules(&emu, &d).await.len(), 2, "the rule is there");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_eq!(rules(&emu, &d).await, before);
}

#[tokio::test]
async fn bad_input_names_every_culprit_and_changes_nothing() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    foreign_rule(&emu, &d, 1).await;
    emu.clear_calls();
    let r = emu.run(&[
        "ab",
        "--listener",
        &d.listener,
        "--green",
        "no-such-group",
        "--match",
        "cookie:variant=b",
        "--match",
        "flavour:x",
        "--priority",
        "1",
        "--duration",
        "soon",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    for culprit in [
        "--green no-such-group",
        "--match \"flavour:x\"",
        "--priority 1",
        "--duration",
    ] {
        assert!(r.stderr.contains(culprit), "{culprit}: {}", r.stderr);
    }
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn after_kill_9_rollback_leaves_the_rules_exactly_as_before() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    foreign_rule(&emu, &d, 1).await;
    foreign_rule(&emu, &d, 3).await;
    let before = rules(&emu, &d).await;
    let (mut child, _) = spawn_until_line(&emu, &ab_args(&d, "10m"), "rule created");
    child.kill().unwrap();
    child.wait().unwrap();
    let during = rules(&emu, &d).await;
    assert_eq!(
        during.len(),
        before.len() + 1,
        "ours took the highest free priority, after every other rule"
    );
    assert!(during.iter().any(|r| r.priority() == Some("50000")));
    let refused = emu.run(&ab_args(&d, "1m"));
    assert_eq!(
        refused.code, 2,
        "the record locks the listener: {refused:?}"
    );
    let r = emu.run(&["rollback", "--listener", &d.listener, "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("deleted rule"), "{}", r.stdout);
    assert_eq!(rules(&emu, &d).await, before, "bit for bit");
    let again = emu.run(&["rollback", "--listener", &d.listener]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("nothing to roll back"), "{again:?}");
}
