//! Whole blue-green runs through the real binary, with real traffic through
//! the emulated data plane (route changes land after a 3 s propagation
//! delay; deregistered targets drain): a good green is switched to with no
//! failed request, a bad one is switched back in one write, a run killed
//! during its bake is restored exactly by `rollback`, and the dry run lists
//! the writes the run then makes.

use crate::canary::{default_action, status_json};
use crate::support::*;
use std::time::{Duration, Instant};

/// `blue-green` on the demo's listener judged every 2 s by green's health
/// and a probe of green's app (no CloudWatch: it judges whole minutes that
/// arrive minutes late).
fn bg_args<'a>(d: &'a Demo, bake: &'a str, keep_blue: &'a str) -> Vec<&'a str> {
    vec![
        "blue-green",
        "--listener",
        &d.listener,
        "--blue",
        &d.blue,
        "--green",
        &d.green,
        "--bake",
        bake,
        "--keep-blue",
        keep_blue,
        "--interval",
        "2s",
        "--cloudwatch",
        "false",
        "--probe",
        &d.green_probe,
    ]
}

fn weight(action: &serde_json::Value, arn: &str) -> Option<u64> {
    action["groups"]
        .as_array()?
        .iter()
        .find(|g| g["target_group_arn"] == arn)?["weight"]
        .as_u64()
}

/// The writes among the emulator's recorded calls (the record's AddTags
/// are left out: the heartbeat adds one every interval).
fn writes(emu: &Emulator) -> Vec<String> {
    emu.mutating_calls()
        .into_iter()
        .filter(|c| c != "AddTags")
        .collect()
}

#[tokio::test]
async fn a_good_green_is_switched_to_with_no_failed_request() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    // The dry run first: its calls are the ones the run then makes.
    let mut dry = bg_args(&d, "8s", "4s");
    dry.extend(["--dry-run", "--output", "json"]);
    let planned = emu.run(&dry);
    assert_eq!(planned.code, 0, "{planned:?}");
    let planned: Vec<String> = planned.json()["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["action"].as_str())
        .filter(|a| ["ModifyListener", "RegisterTargets", "RemoveTags"].contains(a))
        .map(str::to_string)
        .collect();
    assert_eq!(emu.mutating_calls(), Vec::<String>::new(), "dry run");
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 50, Duration::from_secs(90));
    // Blue served before the switch, green after it.
    std::thread::sleep(Duration::from_secs(2));
    let mut args = bg_args(&d, "8s", "4s");
    args.extend(["--output", "json"]);
    let r = emu.run(&args);
    // Requests sent just after the run still meet routes in propagation.
    std::thread::sleep(Duration::from_secs(4));
    let counts = traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    assert_eq!(report["result"], "promoted");
    assert_eq!(report["strategy"], "blue-green");
    assert_eq!(writes(&emu), planned, "the dry run listed the writes");
    assert_eq!(
        planned,
        vec![
            "ModifyListener",
            "ModifyListener",
            "ModifyListener",
            "RemoveTags"
        ],
        "green attached at weight 0 (the demo's green is in no route, so AWS does not health-check it), the switch, the promotion (same weights, marked), the record"
    );
    let action = default_action(&emu, &d);
    assert_eq!(
        (weight(&action, &d.blue), weight(&action, &d.green)),
        (Some(0), Some(999)),
        "blue kept at 0 for a one-write switch-back: {action}"
    );
    assert!(
        counts.total() > 200,
        "traffic flowed throughout: {counts:?}"
    );
    assert_eq!(counts.failed(), 0, "{counts:?}");
    assert!(
        counts.get("v1/200") > 0 && counts.get("v2/200") > 0,
        "{counts:?}"
    );
    assert!(status_json(&emu, &d)["runs"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_green_is_switched_back_in_one_write_and_its_target_removed() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--no-register-green", "--green-error-rate", "1.0"]);
    let before = default_action(&emu, &d);
    emu.clear_calls();
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 30, Duration::from_secs(60));
    let mut args = bg_args(&d, "30s", "0s");
    args.extend(["--register", &d.green_target, "--output", "json"]);
    let r = emu.run(&args);
    traffic.stop();
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
    assert_eq!(default_action(&emu, &d), before, "the exact original");
    assert_eq!(
        writes(&emu),
        vec![
            "RegisterTargets",
            "ModifyListener",
            "ModifyListener",
            "ModifyListener",
            "DeregisterTargets",
            "RemoveTags"
        ],
        "register, attach at weight 0, switch, one write back (the weight-0 entry too), the target out, the record"
    );
}

#[tokio::test]
async fn kill_9_during_the_bake_then_rollback_restores_the_exact_original() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--no-register-green"]);
    let before = default_action(&emu, &d);
    let mut args = bg_args(&d, "10m", "0s");
    args.extend(["--register", &d.green_target]);
    let (mut child, _) = spawn_until_line(&emu, &args, "100% to green");
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    let action = default_action(&emu, &d);
    assert_eq!(weight(&action, &d.green), Some(999), "switched: {action}");
    let runs = status_json(&emu, &d)["runs"].clone();
    assert_eq!(runs[0]["strategy"], "blue-green", "{runs}");
    // Stale after two missed beats (4 s); no --force needed then.
    std::thread::sleep(Duration::from_secs(7).saturating_sub(killed.elapsed()));
    let rb = emu.run(&["rollback", "--listener", &d.listener]);
    assert_eq!(rb.code, 0, "{rb:?}");
    assert_eq!(default_action(&emu, &d), before, "the exact original");
    assert!(status_json(&emu, &d)["runs"].as_array().unwrap().is_empty());
    let client = aws_sdk_elasticloadbalancingv2::Client::new(&emu.sdk_config().await);
    let th = client
        .describe_target_health()
        .target_group_arn(&d.green)
        .send()
        .await
        .unwrap();
    assert!(
        th.target_health_descriptions().iter().all(|t| t
            .target_health()
            .and_then(|h| h.state())
            .map(|s| s.as_str())
            == Some("draining")),
        "the registered target is taken out again: {th:?}"
    );
}

#[tokio::test]
async fn preflight_names_every_culprit_and_changes_nothing() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let r = emu.run(&[
        "blue-green",
        "--listener",
        &d.listener,
        "--blue",
        &d.blue,
        "--green",
        "no-such-group",
        "--bake",
        "soon",
        "--abort",
        "gradual",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    for culprit in ["--green no-such-group", "--bake", "--abort"] {
        assert!(r.stderr.contains(culprit), "{culprit}: {}", r.stderr);
    }
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_bad_green_judged_by_cloudwatch_is_switched_back() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "0.5"]);
    let before = default_action(&emu, &d);
    let traffic = Traffic::start(
        &format!("{}/", d.listener_url),
        20,
        Duration::from_secs(360),
    );
    let r = emu.run(&[
        "blue-green",
        "--listener",
        &d.listener,
        "--blue",
        &d.blue,
        "--green",
        &d.green,
        "--bake",
        "2m",
        "--interval",
        "10s",
        "--on-no-data",
        "fail",
        "--output",
        "json",
    ]);
    let counts = traffic.stop();
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    let reason = report["reason"]["message"].as_str().unwrap();
    assert!(reason.starts_with("error-rate: green"), "{reason}");
    assert_eq!(default_action(&emu, &d), before, "the exact original");
    assert!(counts.get("v2/500") > 0, "{counts:?}");
}

/// `--deregister-blue`: after the keep-blue window, the full deploy's
/// settle and batches (three blue targets one at a time, the demo's 5 s
/// deregistration delay), with traffic through the data plane throughout.
#[tokio::test]
async fn a_good_green_with_deregister_blue_drains_blue_after_keep_blue() {
    use crate::full_deploy::blue_targets;
    let mut emu = Emulator::start();
    let d = emu.demo(&["--blue-targets", "3"]);
    assert_eq!(blue_targets(&emu, &d).await.len(), 3);
    emu.clear_calls();
    let drain = [
        "--deregister-blue",
        "1",
        "--settle",
        "5s",
        "--drain-timeout",
        "60s",
    ];
    let mut dry = bg_args(&d, "4s", "4s");
    dry.extend(drain);
    dry.extend(["--dry-run", "--output", "json"]);
    let planned = emu.run(&dry);
    assert_eq!(planned.code, 0, "{planned:?}");
    let planned: Vec<String> = planned.json()["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["action"].as_str())
        .filter(|a| ["ModifyListener", "DeregisterTargets", "RemoveTags"].contains(a))
        .map(str::to_string)
        .collect();
    assert_eq!(emu.mutating_calls(), Vec::<String>::new(), "dry run");
    let traffic = Traffic::start(
        &format!("{}/", d.listener_url),
        40,
        Duration::from_secs(120),
    );
    let mut args = bg_args(&d, "4s", "4s");
    args.extend(drain);
    args.extend(["--output", "json"]);
    let r = emu.run(&args);
    let counts = traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    assert_eq!(report["result"], "promoted");
    assert_eq!(report["strategy"], "blue-green");
    assert_eq!(counts.failed(), 0, "{counts:?}");
    assert!(
        counts.get("v1/200") > 0 && counts.get("v2/200") > 0,
        "{counts:?}"
    );
    assert!(blue_targets(&emu, &d).await.is_empty(), "blue is empty");
    let made: Vec<String> = writes(&emu)
        .into_iter()
        .filter(|c| ["ModifyListener", "DeregisterTargets", "RemoveTags"].contains(&c.as_str()))
        .collect();
    assert_eq!(made, planned, "the dry run listed the writes");
    assert_eq!(
        planned,
        vec![
            "ModifyListener",
            "ModifyListener",
            "ModifyListener",
            "DeregisterTargets",
            "DeregisterTargets",
            "DeregisterTargets",
            "RemoveTags"
        ],
        "the attach at weight 0, the switch, the promotion, one call per batch, the record"
    );
    assert!(status_json(&emu, &d)["runs"].as_array().unwrap().is_empty());
}
