//! The full deploy (`canary --deregister-blue`) through the real binary on
//! the emulator: three blue targets, a deregistration delay of 5 s (the
//! demo's), route changes that reach the data plane 3 s after the API call,
//! and real traffic through it.

use crate::canary::{canary_args, default_action};
use crate::support::*;
use alb_rollout::alb::aws::AwsLoadBalancer;
use alb_rollout::alb::{HealthState, LoadBalancerPort};
use std::time::Duration;

/// A canary of one step, then blue's three targets one at a time, a 5 s
/// settle (longer than the emulator's 3 s propagation), checks every 2 s.
fn full_deploy_args(d: &Demo) -> Vec<&str> {
    let mut a = canary_args(d, "50:4s,100");
    a.extend([
        "--deregister-blue",
        "1",
        "--settle",
        "5s",
        "--drain-timeout",
        "60s",
    ]);
    a
}

/// Blue's targets as `ID:PORT state`, sorted.
pub(crate) async fn blue_targets(emu: &Emulator, d: &Demo) -> Vec<(String, HealthState)> {
    let lb = AwsLoadBalancer::new(&emu.sdk_config().await);
    let mut t: Vec<(String, HealthState)> = lb
        .target_health(&d.blue)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.target.to_string(), h.state))
        .collect();
    t.sort_by(|a, b| a.0.cmp(&b.0));
    t
}

fn healthy(t: &[(String, HealthState)]) -> Vec<String> {
    t.iter()
        .filter(|(_, s)| *s == HealthState::Healthy)
        .map(|(id, _)| id.clone())
        .collect()
}

#[tokio::test]
async fn a_good_green_drains_blue_in_batches_with_no_failed_request() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--blue-targets", "3"]);
    assert_eq!(healthy(&blue_targets(&emu, &d).await).len(), 3);
    let traffic = Traffic::start(
        &format!("{}/", d.listener_url),
        40,
        Duration::from_secs(120),
    );
    let mut args = full_deploy_args(&d);
    args.extend(["--output", "json"]);
    let r = emu.run(&args);
    let counts = traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["result"], "promoted");
    assert_eq!(counts.failed(), 0, "{counts:?}");
    assert!(
        counts.get("v1/200") > 0 && counts.get("v2/200") > 0,
        "{counts:?}"
    );
    assert!(blue_targets(&emu, &d).await.is_empty(), "blue is empty");
    let dereg = emu
        .mutating_calls()
        .iter()
        .filter(|c| c.contains("DeregisterTargets"))
        .count();
    assert_eq!(dereg, 3, "one call per batch");
}

#[tokio::test]
async fn a_failure_during_the_batches_brings_blue_back_healthy_before_its_traffic() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--blue-targets", "3"]);
    let original = default_action(&emu, &d);
    let before = blue_targets(&emu, &d).await;
    let (mut child, _) = spawn_until_line(&emu, &full_deploy_args(&d), "from blue; draining");
    // Green starts failing after blue's first batch left.
    let url = format!("{}_app/config", d.green_probe);
    http("POST", &url, Some(r#"{"error_rate":1.0}"#), &[]).unwrap();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(1), "reverted");
    assert_eq!(default_action(&emu, &d), original, "route restored");
    let after = blue_targets(&emu, &d).await;
    assert_eq!(
        healthy(&after),
        healthy(&before),
        "every target back, healthy"
    );
    // The targets came back, and were awaited, before the route moved.
    let calls: Vec<String> = emu.calls().into_iter().map(|c| c.1).collect();
    let back = calls.iter().rposition(|c| c == "RegisterTargets").unwrap();
    let write = calls.iter().rposition(|c| c == "ModifyListener").unwrap();
    assert!(back < write, "{calls:?}");
    let polls = calls[back..write]
        .iter()
        .filter(|c| *c == "DescribeTargetHealth")
        .count();
    assert!(polls >= 1, "health awaited: {calls:?}");
}

#[tokio::test]
async fn a_run_killed_during_the_batches_is_restored_exactly_by_rollback() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--blue-targets", "3"]);
    let original = default_action(&emu, &d);
    let before = blue_targets(&emu, &d).await;
    let (mut child, _) = spawn_until_line(&emu, &full_deploy_args(&d), "from blue; draining");
    child.kill().unwrap(); // SIGKILL: no revert, the record stays.
    let _ = child.wait();
    let r = emu.run(&["rollback", "--listener", &d.listener, "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("deregistering blue"), "{r:?}");
    assert_eq!(default_action(&emu, &d), original, "route restored");
    assert_eq!(blue_targets(&emu, &d).await, before, "targets restored");
    let status = crate::canary::status_json(&emu, &d);
    assert!(status["runs"].as_array().unwrap().is_empty(), "{status}");
}

#[tokio::test]
async fn rollback_after_a_kill_mid_deploy_converges_though_a_blue_target_stays_down() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--blue-targets", "3"]);
    let original = default_action(&emu, &d);
    let before = blue_targets(&emu, &d).await;
    let (mut child, _) = spawn_until_line(&emu, &full_deploy_args(&d), "from blue; draining");
    child.kill().unwrap(); // SIGKILL: no revert, the record stays.
    let _ = child.wait();
    // The target that left was stopped meanwhile: it never passes again.
    // Rollback used to wait for every target it registered again (600 s,
    // then exit 3 with all traffic on green); half of blue is enough.
    let now = blue_targets(&emu, &d).await;
    let gone = before
        .iter()
        .find(|(t, _)| {
            !now.iter()
                .any(|(n, s)| n == t && *s != HealthState::Draining)
        })
        .map(|(t, _)| t.clone())
        .expect("a target left blue");
    let (ip, port) = gone.rsplit_once(':').unwrap();
    emu.force_health(serde_json::json!({"target_group_arn": d.blue, "target_id": ip, "port": port.parse::<u16>().unwrap(), "state": "unhealthy", "reason": "Target.FailedHealthChecks"}));
    let t0 = std::time::Instant::now();
    let r = emu.run(&["rollback", "--listener", &d.listener, "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        t0.elapsed() < Duration::from_secs(120),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(default_action(&emu, &d), original, "route restored");
    let ids = |v: &[(String, HealthState)]| v.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&blue_targets(&emu, &d).await),
        ids(&before),
        "every target back"
    );
    // Converged: a second rollback finds nothing to do.
    let again = emu.run(&["rollback", "--listener", &d.listener, "--force"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("nothing to roll back"), "{again:?}");
}
