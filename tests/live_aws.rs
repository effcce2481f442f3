//! Live-AWS suite: proves the binary on your own account. Skipped (passes
//! with a note) unless these are set, with credentials from the usual chain:
//!
//!   ALB_ROLLOUT_LIVE_LISTENER  listener ARN whose default action forwards to blue
//!   ALB_ROLLOUT_LIVE_BLUE      blue target group (ARN or name)
//!   ALB_ROLLOUT_LIVE_GREEN     green target group with at least one healthy target
//!   ALB_ROLLOUT_LIVE_MUTATE=1  also shift 1% to green, then cancel: the
//!                              route must come back exactly as it was
//!
//! Run: `cargo test --test live_aws -- --nocapture`

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Live {
    listener: String,
    blue: String,
    green: String,
}

fn live() -> Option<Live> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        get("ALB_ROLLOUT_LIVE_LISTENER"),
        get("ALB_ROLLOUT_LIVE_BLUE"),
        get("ALB_ROLLOUT_LIVE_GREEN"),
    ) {
        (Some(listener), Some(blue), Some(green)) => Some(Live {
            listener,
            blue,
            green,
        }),
        _ => {
            eprintln!("live AWS test skipped: set ALB_ROLLOUT_LIVE_LISTENER, ALB_ROLLOUT_LIVE_BLUE and ALB_ROLLOUT_LIVE_GREEN to run it");
            None
        }
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
fn live_status_reads_the_listener() {
    let Some(l) = live() else { return };
    let action = default_action(&l);
    assert_eq!(action["type"], "forward", "{action}");
}

#[test]
fn live_dry_run_validates_and_changes_nothing() {
    let Some(l) = live() else { return };
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
fn live_shift_then_cancel_restores_the_exact_route() {
    let Some(l) = live() else { return };
    if std::env::var("ALB_ROLLOUT_LIVE_MUTATE").as_deref() != Ok("1") {
        eprintln!(
            "live mutation test skipped: set ALB_ROLLOUT_LIVE_MUTATE=1 to shift 1% and cancel"
        );
        return;
    }
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
