//! `rolling` through the real binary on the emulator: one target group of
//! loopback targets (tests/emulator/rolling_demo.py), new targets serving
//! but unregistered, a deregistration delay of 2 s, route and target
//! changes that reach the data plane 3 s after the API call, and real
//! traffic through the listener.

use crate::support::*;
use alb_rollout::alb::aws::AwsLoadBalancer;
use alb_rollout::alb::{HealthState, LoadBalancerPort};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The stack `rolling_demo.py` built.
pub struct Stack {
    pub group: String,
    pub listener: String,
    pub listener_url: String,
    pub old: Vec<String>,
    pub new: Vec<String>,
    _demo: std::process::Child,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self._demo.kill();
        let _ = self._demo.wait();
    }
}

pub fn stack(emu: &Emulator, args: &[&str]) -> Stack {
    let mut cmd = Command::new(python());
    cmd.arg(repo().join("tests/emulator/rolling_demo.py"))
        .args([
            "--endpoint",
            &emu.endpoint,
            "--serve",
            "--exit-on-stdin-eof",
        ])
        .args(args)
        .stdin(Stdio::piped());
    let (child, line) = spawn_until(cmd, "{");
    let v: Value = serde_json::from_str(&line).expect("rolling demo json");
    let list = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    Stack {
        group: v["group_arn"].as_str().unwrap().to_string(),
        listener: v["listener_arn"].as_str().unwrap().to_string(),
        listener_url: v["listener_url"].as_str().unwrap().to_string(),
        old: list("old"),
        new: list("new"),
        _demo: child,
    }
}

/// The group's targets that count (not leaving), `IP:PORT` sorted, with
/// their states.
pub async fn targets(emu: &Emulator, group: &str) -> Vec<(String, HealthState)> {
    let lb = AwsLoadBalancer::new(&emu.sdk_config().await);
    let mut t: Vec<(String, HealthState)> = lb
        .target_health(group)
        .await
        .unwrap()
        .into_iter()
        .filter(|h| {
            !matches!(
                h.state,
                HealthState::Draining | HealthState::UnhealthyDraining
            )
        })
        .map(|h| (h.target.to_string(), h.state))
        .collect();
    t.sort_by(|a, b| a.0.cmp(&b.0));
    t
}

fn all_healthy(list: &[String]) -> Vec<(String, HealthState)> {
    let mut t: Vec<(String, HealthState)> = list
        .iter()
        .map(|s| (s.clone(), HealthState::Healthy))
        .collect();
    t.sort_by(|a, b| a.0.cmp(&b.0));
    t
}

/// `rolling` of the stack's old targets to its new ones, judged by a probe
/// of the first new target itself (its errors are the new version's).
pub fn rolling_args(s: &Stack, batch: &str, unavailable: &str) -> Vec<String> {
    let probe = format!("http://{}/", s.new[0]);
    [
        "rolling",
        "--target-group",
        &s.group,
        "--add",
        &s.new.join(","),
        "--remove",
        &s.old.join(","),
        "--batch",
        batch,
        "--max-unavailable",
        unavailable,
        "--interval",
        "2s",
        "--cloudwatch",
        "false",
        "--probe",
        &probe,
        "--drain-timeout",
        "60s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// API calls the emulator saw, by operation.
fn calls_by_op(emu: &Emulator) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (_, op, _) in emu.calls() {
        *m.entry(op).or_default() += 1;
    }
    m
}

#[tokio::test]
async fn a_good_version_replaces_every_target_with_no_failed_request() {
    let emu = Emulator::start();
    let s = stack(&emu, &["--old", "4", "--new", "4"]);
    emu.clear_calls();
    let traffic = Traffic::start(
        &format!("{}/", s.listener_url),
        40,
        Duration::from_secs(180),
    );
    let mut args = rolling_args(&s, "2", "1");
    args.extend(["--output".into(), "json".into()]);
    let r = emu.run(&strs(&args));
    let counts = traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    assert_eq!(report["result"], "promoted");
    assert_eq!(report["strategy"], "rolling");
    assert_eq!(report["target_group_arn"], s.group.as_str());
    assert_eq!(report["steps"].as_array().unwrap().len(), 2, "two rounds");
    assert_eq!(counts.failed(), 0, "{counts:?}");
    assert!(
        counts.get("v1/200") > 0 && counts.get("v2/200") > 0,
        "{counts:?}"
    );
    assert_eq!(targets(&emu, &s.group).await, all_healthy(&s.new));
    let ops = calls_by_op(&emu);
    assert_eq!(
        ops.get("RegisterTargets"),
        Some(&2),
        "one call per round: {ops:?}"
    );
    // Each round: one old target before its new ones are in, one after.
    assert_eq!(ops.get("DeregisterTargets"), Some(&4), "{ops:?}");
    let tags = AwsLoadBalancer::new(&emu.sdk_config().await)
        .tags(&s.group)
        .await
        .unwrap();
    assert!(
        tags.keys().all(|k| !k.starts_with("alb-rollout:")),
        "record removed: {tags:?}"
    );
}

#[tokio::test]
async fn a_bad_version_is_reverted_to_the_exact_original_targets() {
    let emu = Emulator::start();
    let s = stack(&emu, &["--old", "4", "--new", "4", "--new-error-rate", "1"]);
    let before = targets(&emu, &s.group).await;
    assert_eq!(before, all_healthy(&s.old));
    let r = emu.run(&strs(&rolling_args(&s, "2", "1")));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("reverting"), "{}", r.stdout);
    assert_eq!(
        targets(&emu, &s.group).await,
        before,
        "exactly the original, healthy"
    );
}

#[tokio::test]
async fn a_run_killed_between_rounds_is_restored_exactly_by_rollback() {
    let emu = Emulator::start();
    let s = stack(&emu, &["--old", "4", "--new", "4"]);
    let before = targets(&emu, &s.group).await;
    // A 15 s interval keeps the dead run's heartbeat fresh (for two intervals)
    // through the status and dry-run calls below, however loaded the machine.
    let mut args = rolling_args(&s, "2", "1");
    let at = args.iter().position(|a| a == "--interval").unwrap() + 1;
    args[at] = "15s".into();
    let (mut child, _) = spawn_until_line(&emu, &strs(&args), "round 1/2");
    child.kill().unwrap(); // SIGKILL: no revert, the record stays.
    let _ = child.wait();
    let mixed = targets(&emu, &s.group).await;
    assert_ne!(mixed, before, "the run had changed the group");
    let status = emu
        .run(&["status", "--listener", &s.listener, "--output", "json"])
        .json();
    let run = &status["runs"][0];
    assert_eq!(run["strategy"], "rolling", "{status}");
    assert_eq!(run["owner_arn"], s.group.as_str(), "{status}");
    assert_eq!(run["step"], "round 1 of 2", "{status}");
    let group = emu
        .run(&["status", "--target-group", &s.group, "--output", "json"])
        .json();
    assert_eq!(group["original_targets"], 4, "{group}");
    assert_eq!(group["runs"][0]["strategy"], "rolling", "{group}");
    assert_eq!(
        group["target_group"]["targets"].as_array().unwrap().len(),
        mixed.len(),
        "{group}"
    );
    let dry = emu.run(&[
        "rollback",
        "--target-group",
        &s.group,
        "--force",
        "--dry-run",
    ]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains("4 original targets"), "{dry:?}");
    assert_eq!(
        targets(&emu, &s.group).await,
        mixed,
        "dry run changed nothing"
    );
    let alive = emu.run(&["rollback", "--target-group", &s.group]);
    assert_eq!(alive.code, 2, "a fresh heartbeat refuses: {alive:?}");
    let r = emu.run(&["rollback", "--target-group", &s.group, "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        targets(&emu, &s.group).await,
        before,
        "exactly the original"
    );
    let again = emu.run(&["rollback", "--target-group", &s.group]);
    assert!(again.stdout.contains("nothing to roll back"), "{again:?}");
}

#[tokio::test]
async fn bad_input_is_refused_with_every_culprit_and_no_change() {
    let emu = Emulator::start();
    let s = stack(&emu, &["--old", "2", "--new", "2"]);
    emu.clear_calls();
    let r = emu.run(&[
        "rolling",
        "--target-group",
        &s.group,
        "--add",
        &format!("{},i-0123,{}", s.new[0], s.old[0]),
        "--remove",
        "127.9.9.9:80",
        "--batch",
        "0",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    for culprit in ["--add i-0123", "127.9.9.9:80", "already in", "--batch"] {
        assert!(r.stderr.contains(culprit), "{culprit}: {}", r.stderr);
    }
    assert!(
        emu.mutating_calls().is_empty(),
        "{:?}",
        emu.mutating_calls()
    );
}

/// ALB's maximum: 1,000 targets replaced by 1,000 in rounds of 100, the
/// group at its limit throughout (so each round's old targets leave
/// first). The API calls grow with rounds, not with targets x polls.
#[tokio::test]
async fn a_thousand_targets_roll_with_calls_that_grow_with_rounds() {
    let emu = Emulator::start_with(&["--health-interval", "1"]);
    let s = stack(&emu, &["--old", "1000", "--new", "1000"]);
    let full = emu.run(&strs(&rolling_args(&s, "10%", "0")));
    assert_eq!(
        full.code, 2,
        "over the limit without --max-unavailable: {full:?}"
    );
    assert!(
        full.stderr.contains("--max-unavailable to 100"),
        "{}",
        full.stderr
    );
    emu.clear_calls();
    let traffic = Traffic::start(
        &format!("{}/", s.listener_url),
        20,
        Duration::from_secs(600),
    );
    let started = std::time::Instant::now();
    let r = emu.run(&strs(&rolling_args(&s, "10%", "100")));
    let took = started.elapsed();
    let counts = traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(counts.failed(), 0, "{counts:?}");
    assert_eq!(targets(&emu, &s.group).await, all_healthy(&s.new));
    let ops = calls_by_op(&emu);
    eprintln!(
        "rolling 1000 -> 1000 targets in 10 rounds: {:.0}s, calls {ops:?}",
        took.as_secs_f64()
    );
    assert_eq!(ops.get("RegisterTargets"), Some(&10), "{ops:?}");
    assert_eq!(ops.get("DeregisterTargets"), Some(&10), "{ops:?}");
    // One DescribeTargetHealth per group per poll: a few polls per round.
    let reads = ops.get("DescribeTargetHealth").copied().unwrap_or(0);
    assert!(reads < 300, "{reads} reads for 10 rounds");
}

/// A cancel mid-run: the revert puts the removed targets back at once, but
/// waiting for them to be healthy (to keep capacity) does not fit the CI
/// runner's cancel window. The run says so (exit 3, the command to finish
/// it), leaves the group with at least its original capacity, and
/// `rollback --target-group` completes the restore.
#[tokio::test]
async fn a_cancel_that_cannot_finish_in_its_window_leaves_capacity_and_the_rollback_command() {
    let emu = Emulator::start();
    let s = stack(&emu, &["--old", "4", "--new", "4"]);
    let before = targets(&emu, &s.group).await;
    let (mut child, _) = spawn_until_line(&emu, &strs(&rolling_args(&s, "2", "0")), "round 1/2");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let code = child.wait().unwrap().code();
    eprintln!("rolling cancelled in round 1 of 2: exit {code:?}");
    let now = targets(&emu, &s.group).await;
    let healthy = now
        .iter()
        .filter(|(_, h)| *h == HealthState::Healthy)
        .count();
    assert!(healthy >= before.len(), "capacity kept: {now:?}");
    match code {
        // The re-registered targets were healthy within the window.
        Some(130) => assert_eq!(now, before),
        Some(3) => {
            let r = emu.run(&["rollback", "--target-group", &s.group, "--force"]);
            assert_eq!(r.code, 0, "{r:?}");
            assert_eq!(targets(&emu, &s.group).await, before);
        }
        other => panic!("exit {other:?}"),
    }
}

/// The default analysis: the group's own CloudWatch metrics (one group, no
/// blue), in the emulator's AWS-faithful mode (one-minute buckets that
/// arrive 90 s late), so the round is held until a whole minute of its
/// traffic has been judged.
#[tokio::test]
async fn the_groups_cloudwatch_metrics_judge_each_round() {
    let emu = Emulator::start();
    let s = stack(&emu, &["--old", "2", "--new", "2"]);
    let traffic = Traffic::start(
        &format!("{}/", s.listener_url),
        20,
        Duration::from_secs(400),
    );
    let r = emu.run(&[
        "rolling",
        "--target-group",
        &s.group,
        "--add",
        &s.new.join(","),
        "--remove",
        &s.old.join(","),
        "--batch",
        "100%",
        "--interval",
        "10s",
        "--output",
        "json",
    ]);
    let counts = traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(counts.failed(), 0, "{counts:?}");
    let report = r.json();
    let intervals = report["steps"][0]["intervals"].as_array().unwrap();
    let last = intervals.last().unwrap();
    assert_eq!(last["verdict"], "pass", "{last}");
    let detail = last["checks"][1]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("the group 0.00% of ") && !detail.contains("blue"),
        "{detail}"
    );
    assert_eq!(targets(&emu, &s.group).await, all_healthy(&s.new));
}
