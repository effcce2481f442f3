//! Live-AWS suite: proves the binary on your own account. Every test is
//! `#[ignore]`d (no account is reachable in CI) and runs only with
//! `--ignored`; run that way without the settings below, it FAILS rather
//! than pass without having checked anything. Credentials come from the usual
//! chain:
//!
//!   ALB_ROLLOUT_LIVE_LISTENER  listener ARN whose default action forwards to blue
//!   ALB_ROLLOUT_LIVE_BLUE      blue target group (ARN or name)
//!   ALB_ROLLOUT_LIVE_GREEN     green target group with at least one healthy target
//!   ALB_ROLLOUT_LIVE_SPARE     (rolling tests) a target of blue's type, not in blue,
//!                              that passes blue's health check, e.g. i-0abc...:80
//!   ALB_ROLLOUT_LIVE_PROBE     (rolling swap) a URL that answers 2xx, e.g. http://DNS/health
//!   ALB_ROLLOUT_LIVE_LISTENER2 (two routes as one, `routes.rs`) a second listener of the
//!                              same load balancer whose default action forwards to blue
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

#[path = "live_aws/routes.rs"]
mod routes;

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
    default_action_of(&l.listener)
}

fn default_action_of(listener: &str) -> serde_json::Value {
    let out = bin()
        .args(["status", "--listener", listener, "--output", "json"])
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

/// Blue's registered targets as `ID:PORT`, read through `status`.
fn group_targets(l: &Live, group: &str) -> Vec<String> {
    let out = bin()
        .args(["status", "--listener", &l.listener, "--output", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let groups = v["target_groups"].as_array().cloned().unwrap_or_default();
    let g = groups
        .iter()
        .find(|g| g["arn"] == group || g["name"] == group)
        .unwrap_or_else(|| panic!("{group} is not among the listener's groups: {v}"));
    let mut t: Vec<String> = g["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] != "draining")
        .map(|t| {
            format!(
                "{}:{}",
                t["target"]["id"].as_str().unwrap(),
                t["target"]["port"]
            )
        })
        .collect();
    t.sort();
    t
}

/// A spare target of blue's type, not registered in blue, that serves
/// blue's health check: `ALB_ROLLOUT_LIVE_SPARE` (e.g. `i-0abc...:80`).
fn spare() -> String {
    std::env::var("ALB_ROLLOUT_LIVE_SPARE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("ALB_ROLLOUT_LIVE_SPARE is not set; {WHY}"))
}

fn rolling(group: &str, add: &str, remove: &str, extra: &[&str]) -> serde_json::Value {
    let out = bin()
        .args([
            "rolling",
            "--target-group",
            group,
            "--add",
            add,
            "--remove",
            remove,
            "--batch",
            "1",
            "--output",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
#[ignore = "needs an AWS account: ALB_ROLLOUT_LIVE_* (and ALB_ROLLOUT_LIVE_SPARE) and credentials (run with --ignored)"]
fn live_rolling_dry_run_plans_against_the_real_group() {
    let l = live();
    let before = group_targets(&l, &l.blue);
    let report = rolling(&l.blue, &spare(), &before[0], &["--dry-run"]);
    assert_eq!(report["result"], "dry-run", "{report}");
    let ops: Vec<&str> = report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert!(
        ops.contains(&"RegisterTargets") && ops.contains(&"DeregisterTargets"),
        "{ops:?}"
    );
    assert_eq!(group_targets(&l, &l.blue), before, "nothing changed");
}

/// Swaps one of blue's targets for the spare, then back: two rolling runs
/// on real health checks (each round waits HealthyThresholdCount checks).
#[test]
#[ignore = "replaces a target of a group in an AWS account and puts it back: ALB_ROLLOUT_LIVE_*, ALB_ROLLOUT_LIVE_SPARE and credentials (run with --ignored)"]
fn live_mutating_rolling_swaps_a_target_and_back() {
    let l = live();
    let before = group_targets(&l, &l.blue);
    let (old, new) = (before[0].clone(), spare());
    let t = Instant::now();
    let there = rolling(
        &l.blue,
        &new,
        &old,
        &["--cloudwatch", "false", "--probe", &probe()],
    );
    assert_eq!(there["result"], "promoted", "{there}");
    let back = rolling(
        &l.blue,
        &old,
        &new,
        &["--cloudwatch", "false", "--probe", &probe()],
    );
    assert_eq!(back["result"], "promoted", "{back}");
    assert_eq!(group_targets(&l, &l.blue), before);
    eprintln!(
        "two rolling runs on real health checks: {:.0} s",
        t.elapsed().as_secs_f64()
    );
}

/// A URL that answers 2xx while the group serves (`ALB_ROLLOUT_LIVE_PROBE`,
/// e.g. the load balancer's DNS name and a health path).
fn probe() -> String {
    std::env::var("ALB_ROLLOUT_LIVE_PROBE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("ALB_ROLLOUT_LIVE_PROBE is not set; {WHY}"))
}
