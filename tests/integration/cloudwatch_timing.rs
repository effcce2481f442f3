//! The defaults on CloudWatch as it really is: the emulator's default
//! metrics mode publishes one-minute buckets 90 s after each minute ends,
//! without zero-count datapoints. With no analysis flags at all, a good
//! green must be promoted and a bad one reverted. Each test prints the
//! timings that docs/analysis.md quotes ("timing on real AWS").

use crate::canary::{canary_route, default_action};
use crate::support::*;
use std::time::{Duration, Instant};

/// Enough steady traffic for the default `--min-requests 20` per minute at
/// 25%: about 300 requests a minute reach green.
const RPS: u32 = 20;

fn intervals(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["steps"][0]["intervals"].as_array().unwrap().clone()
}

#[tokio::test]
async fn with_default_flags_a_good_green_is_promoted_on_lagging_cloudwatch() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let traffic = Traffic::start(
        &format!("{}/", d.listener_url),
        RPS,
        Duration::from_secs(420),
    );
    let mut args = canary_route(&d, "25,100");
    args.extend(["--output", "json"]);
    let t0 = Instant::now();
    let r = emu.run(&args);
    let took = t0.elapsed();
    let counts = traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    let iv = intervals(&report);
    assert_eq!(iv[0]["verdict"], "waiting", "the first check waits: {iv:?}");
    let detail = iv[0]["checks"][1]["detail"].as_str().unwrap();
    assert!(detail.starts_with("waiting for CloudWatch"), "{detail}");
    let judged = iv
        .iter()
        .find(|i| i["verdict"] == "pass")
        .expect("a judged minute");
    let detail = judged["checks"][1]["detail"].as_str().unwrap();
    assert!(detail.starts_with("green 0.00% of "), "{detail}");
    assert_eq!(counts.failed(), 0, "{counts:?}");
    let first_judged = judged["at_seconds"].as_f64().unwrap();
    eprintln!(
        "TIMING good green: promoted after {:.0} s; first judged minute {first_judged:.0} s into the run",
        took.as_secs_f64()
    );
}

#[tokio::test]
async fn with_default_flags_a_bad_green_is_reverted_on_lagging_cloudwatch() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "0.3"]);
    let traffic = Traffic::start(
        &format!("{}/", d.listener_url),
        RPS,
        Duration::from_secs(420),
    );
    let mut args = canary_route(&d, "25,100");
    args.extend(["--output", "json"]);
    let r = emu.run(&args);
    traffic.stop();
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    let reason = report["reason"]["message"].as_str().unwrap();
    assert!(reason.starts_with("error-rate: green "), "{reason}");
    assert_eq!(
        default_action(&emu, &d)["groups"][0]["target_group_arn"],
        d.blue.as_str()
    );
    let shifted = report["steps"][0]["started_at_seconds"].as_f64().unwrap();
    let failed = intervals(&report).last().unwrap()["at_seconds"]
        .as_f64()
        .unwrap();
    eprintln!(
        "TIMING bad green: reverted {:.0} s after the first shift (detection to verified revert {:.2} s)",
        failed - shifted,
        report["detection_to_revert_seconds"].as_f64().unwrap()
    );
}

#[tokio::test]
async fn status_says_cloudwatch_is_behind_then_shows_the_newest_minute() {
    let mut emu = Emulator::start_with(&["--metrics-delay", "5"]);
    let d = emu.demo(&[]);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let traffic = Traffic::start(
        &format!("{}/", d.listener_url),
        10,
        Duration::from_secs(150),
    );
    let status = |emu: &Emulator| {
        emu.run(&["status", "--listener", &d.listener, "--output", "json"])
            .json()["traffic"]
            .clone()
    };
    let first = status(&emu);
    assert_eq!(first["state"], "waiting", "{first}");
    assert!(first["message"]
        .as_str()
        .unwrap()
        .starts_with("waiting for CloudWatch"));
    // The first minute to arrive may be the one the traffic started in, a
    // few seconds of it; wait for the first whole minute of traffic (it
    // ends within 120 s of the start and arrives 5 s later).
    let whole = |s: &serde_json::Value| {
        s["state"] == "minute" && s["minute_start_unix"].as_i64() >= Some(started)
    };
    let deadline = Instant::now() + Duration::from_secs(140);
    let mut last = first;
    while Instant::now() < deadline && !whole(&last) {
        std::thread::sleep(Duration::from_secs(5));
        last = status(&emu);
    }
    traffic.stop();
    assert!(whole(&last), "{last}");
    let blue = &last["groups"].as_array().unwrap()[0];
    assert!(blue["requests"].as_f64().unwrap() > 100.0, "{last}");
}
