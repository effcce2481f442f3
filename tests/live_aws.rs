//! Live-AWS suite: proves the binary on your own account. Every test is
//! `#[ignore]`d (no account is reachable in CI) and runs only with
//! `--ignored`; run that way without the settings below, it FAILS rather
//! than pass without having checked anything. Credentials come from the usual
//! chain:
//!
//!   ALB_ROLLOUT_LIVE_LISTENER  listener ARN whose default action forwards to blue
//!   ALB_ROLLOUT_LIVE_BLUE      blue target group (ARN or name)
//!   ALB_ROLLOUT_LIVE_GREEN     green target group with at least one healthy target
//!
//! The tests that change the listener (a 1% shift then a cancel; a whole
//! canary judged by CloudWatch with the default flags, which moves all
//! traffic to green and takes about four minutes) are named `live_mutating_*`.
//!
//! Run: `cargo test --test live_aws -- --ignored --nocapture` (all), or
//! `... -- --ignored --skip live_mutating` (read-only).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Live {
    listener: String,
    blue: String,
    green: String,
}

const WHY: &str = "needs an AWS account: ALB_ROLLOUT_LIVE_* and credentials (run with --ignored)";

/// The configured account, or a failure: a live test that has nothing to
/// test against must not report "ok".
fn live() -> Live {
    let get = |k: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| panic!("{k} is not set; {WHY}"))
    };
    Live {
        listener: get("ALB_ROLLOUT_LIVE_LISTENER"),
        blue: get("ALB_ROLLOUT_LIVE_BLUE"),
        green: get("ALB_ROLLOUT_LIVE_GREEN"),
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_alb-rollout"))
}

fn default_action(l: &Live) -> serde_json::Value {
    let out = bin()
        .args(["status", "--listener", &l.listener, "--output", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["listener"]["default_action"].clone()
}

#[test]
#[ignore = "needs an AWS account: ALB_ROLLOUT_LIVE_* and credentials (run with --ignored)"]
fn live_status_reads_the_listener() {
    let l = live();
    let action = default_action(&l);
    assert_eq!(action["type"], "forward", "{action}");
}

#[test]
#[ignore = "needs an AWS account: ALB_ROLLOUT_LIVE_* and credentials (run with --ignored)"]
fn live_dry_run_validates_and_changes_nothing() {
    let l = live();
    let before = default_action(&l);
    let out = bin()
        .args([
            "canary",
            "--listener",
            &l.listener,
            "--blue",
            &l.blue,
            "--green",
            &l.green,
            "--steps",
            "1:5m,10:5m,100",
            "--dry-run",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["result"], "dry-run");
    assert_eq!(default_action(&l), before);
}

#[test]
#[ignore = "changes a listener in an AWS account: ALB_ROLLOUT_LIVE_* and credentials (run with --ignored)"]
fn live_mutating_shift_then_cancel_restores_the_exact_route() {
    let l = live();
    let before = default_action(&l);
    let mut child = bin()
        .args([
            "canary",
            "--listener",
            &l.listener,
            "--blue",
            &l.blue,
            "--green",
            &l.green,
            "--steps",
            "1:30m,100",
            "--metric-period",
            "60s",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let shifted = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.starts_with("step 1/2"));
    std::thread::spawn(move || for _ in lines {});
    let t = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let code = child.wait().unwrap().code();
    assert!(shifted, "the canary never reached step 1");
    assert_eq!(code, Some(130));
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "revert took {:?}",
        t.elapsed()
    );
    assert_eq!(default_action(&l), before, "route restored exactly");
}

/// CloudWatch as it really is: the default flags must promote a healthy
/// green. Needs steady traffic through the listener (at least ~100 requests
/// a minute) and leaves the listener promoted to green (blue at weight 0).
#[test]
#[ignore = "moves all traffic of a listener in an AWS account to green: ALB_ROLLOUT_LIVE_* and credentials (run with --ignored)"]
fn live_mutating_default_canary_promotes_a_healthy_green_on_real_cloudwatch() {
    let l = live();
    let t = Instant::now();
    let out = bin()
        .args([
            "canary",
            "--listener",
            &l.listener,
            "--blue",
            &l.blue,
            "--green",
            &l.green,
            "--steps",
            "10,100",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["result"], "promoted", "{report}");
    let iv = report["steps"][0]["intervals"].as_array().unwrap();
    let waited = iv.iter().filter(|i| i["verdict"] == "waiting").count();
    eprintln!(
        "promoted after {:.0} s; {waited} checks waited for CloudWatch before the first judged minute",
        t.elapsed().as_secs_f64()
    );
}
