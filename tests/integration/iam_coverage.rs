//! The policies `iam-policy` prints, held against what each command really
//! calls: every strategy runs on the emulator with its optional paths
//! (`--register`, `--deregister-blue`, a preview rule, CloudWatch, a bad
//! green that reverts, a `--hook`, `kill -9` then `rollback`, `dark --keep`
//! then `routes remove`, `rolling --in-place`), and every (action, ARN) in
//! the emulator's call log must be allowed by the policy built for that
//! strategy and the stack's listener and groups (IAM's wildcard matching of the Resource patterns;
//! a CreateRule's tags as AddTags on the new rule, with CreateAction).
//! Each strategy's runs together call every action its policy grants, so
//! the policy is also no wider than the code paths. `rollback`'s calls
//! must be allowed by both the rollback policy and the strategy's own (one
//! role runs both steps in the examples).

use crate::ab::ab_args;
use crate::canary::{canary_args, canary_route};
use crate::iam_support::*;
use crate::rolling::{rolling_args, stack};
use crate::support::*;
use alb_rollout::iam::Strategy;
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn canary_with_every_optional_path_calls_only_what_its_policy_allows() {
    let mut emu = Emulator::start_with(FAST_METRICS);
    let d = emu.demo(&["--no-register-green", "--blue-targets", "2"]);
    let canary = policy(Strategy::Canary, &[&d.listener], &[&d.blue, &d.green]);
    // CloudWatch judges it too (per-second metrics), so the run needs traffic.
    let url = format!("{}/", d.listener_url);
    let traffic = Traffic::start(&url, 20, Duration::from_secs(120));
    let mut args = canary_route(&d, "50:4s,100");
    args.extend(["--interval", "2s", "--probe", &d.green_probe]);
    args.extend(["--on-no-data", "pass", "--no-data-timeout", "20s"]);
    args.extend(["--register", &d.green_target, "--deregister-blue", "1"]);
    args.extend(["--settle", "4s", "--drain-timeout", "60s"]);
    args.extend(["--preview-header", "X-Preview=1", "--preview", "2s"]);
    let mut seen = allowed(&run_logged(&emu, &args, 0), &[("canary", &canary)]);
    traffic.stop();
    let status = policy(Strategy::Status, &[&d.listener], &[]);
    let st = run_logged(&emu, &["status", "--listener", &d.listener], 0);
    allowed(&st, &[("status", &status), ("canary", &canary)]);

    // A bad green on a fresh stack: the revert takes the registered target
    // out; then a run killed mid-step, and `rollback`.
    let mut bad = Emulator::start();
    let b = bad.demo(&["--no-register-green", "--green-error-rate", "1.0"]);
    let bad_policy = policy(Strategy::Canary, &[&b.listener], &[&b.blue, &b.green]);
    let mut args = canary_args(&b, "50:10s,100");
    args.extend(["--register", &b.green_target]);
    seen.extend(allowed(
        &run_logged(&bad, &args, 1),
        &[("canary", &bad_policy)],
    ));
    let rb = ["--listener", b.listener.as_str()];
    let (run, rb) = killed_then_rolled_back(&bad, &args, "50% to green", &rb);
    seen.extend(allowed(&run, &[("canary", &bad_policy)]));
    let rb_policy = policy(Strategy::Rollback, &[&b.listener], &[&b.blue, &b.green]);
    allowed(&rb, &[("rollback", &rb_policy), ("canary", &bad_policy)]);
    assert_eq!(
        seen,
        granted(&canary),
        "the runs called exactly what the policy grants"
    );
}

#[tokio::test]
async fn blue_green_calls_only_what_its_policy_allows() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--no-register-green", "--blue-targets", "2"]);
    let p = policy(Strategy::BlueGreen, &[&d.listener], &[&d.blue, &d.green]);
    let args = [
        "blue-green",
        "--listener",
        &d.listener,
        "--blue",
        &d.blue,
        "--green",
        &d.green,
        "--bake",
        "4s",
        "--interval",
        "2s",
        "--cloudwatch",
        "false",
        "--probe",
        &d.green_probe,
        "--register",
        &d.green_target,
        "--deregister-blue",
        "1",
        "--settle",
        "4s",
        "--preview-header",
        "X-Preview=1",
        "--preview",
        "2s",
        "--drain-timeout",
        "60s",
    ];
    allowed(&run_logged(&emu, &args, 0), &[("blue-green", &p)]);
}

#[tokio::test]
async fn rolling_calls_only_what_its_policy_allows_on_its_group() {
    let emu = Emulator::start_with(FAST_METRICS);
    let s = stack(&emu, &["--old", "2", "--new", "2"]);
    let p = policy(Strategy::Rolling, &[], &[&s.group]);
    let rb_policy = policy(Strategy::Rollback, &[], &[&s.group]);
    let args = rolling_args(&s, "1", "0");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (run, rb) =
        killed_then_rolled_back(&emu, &args, "round 1/2", &["--target-group", &s.group]);
    let mut seen = allowed(&run, &[("rolling", &p)]);
    allowed(&rb, &[("rollback", &rb_policy), ("rolling", &p)]);
    let mut cw: Vec<&str> = args
        .iter()
        .map(|a| if *a == "false" { "true" } else { a })
        .collect();
    cw.extend(["--on-no-data", "pass"]);
    // A hook: its ALB_ROLLOUT_LB_DNS is read from the load balancer.
    cw.extend(["--no-data-timeout", "20s", "--hook", "post-step=true"]);
    let traffic = Traffic::start(
        &format!("{}/", s.listener_url),
        20,
        Duration::from_secs(120),
    );
    seen.extend(allowed(&run_logged(&emu, &cw, 0), &[("rolling", &p)]));
    traffic.stop();

    let bad_emu = Emulator::start();
    let bad = stack(
        &bad_emu,
        &["--old", "2", "--new", "2", "--new-error-rate", "1"],
    );
    let bad_policy = policy(Strategy::Rolling, &[], &[&bad.group]);
    let args = rolling_args(&bad, "1", "0");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    seen.extend(allowed(
        &run_logged(&bad_emu, &args, 1),
        &[("rolling", &bad_policy)],
    ));
    assert_eq!(
        seen,
        granted(&p),
        "the runs called exactly what the policy grants"
    );
}

/// Judged by a probe: with CloudWatch the report waits for the run's last
/// minute (minutes); GetMetricData is held against the policies above.
#[tokio::test]
async fn ab_calls_only_what_its_policy_allows() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let p = policy(Strategy::Ab, &[&d.listener], &[]);
    let rb_policy = policy(Strategy::Rollback, &[&d.listener], &[]);
    let probe = format!("{}/", d.listener_url);
    let mut args = ab_args(&d, "4s");
    args.extend(["--cloudwatch", "false", "--probe", &probe]);
    let mut seen = allowed(&run_logged(&emu, &args, 0), &[("ab", &p)]);
    let mut long = ab_args(&d, "10m");
    long.extend(["--cloudwatch", "false", "--probe", &probe]);
    let rb = ["--listener", d.listener.as_str()];
    let (run, rb) = killed_then_rolled_back(&emu, &long, "rule created", &rb);
    seen.extend(allowed(&run, &[("ab", &p)]));
    allowed(&rb, &[("rollback", &rb_policy), ("ab", &p)]);
    let mut expected = granted(&p);
    expected.remove("cloudwatch:GetMetricData");
    assert_eq!(seen, expected, "the runs called what the policy grants");
}

#[tokio::test]
async fn dark_keep_routes_remove_and_rollback_call_only_what_their_policies_allow() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let p = policy(Strategy::Dark, &[&d.listener], &[]);
    let routes = policy(Strategy::Routes, &[&d.listener], &[]);
    let probe = format!("{}/", d.listener_url);
    let dark = |extra: &[&'static str]| {
        let mut a = vec![
            "dark",
            "--listener",
            &d.listener,
            "--green",
            &d.green,
            "--match",
            "header:X-Preview=1",
        ];
        a.extend([
            "--probe",
            &probe,
            "--interval",
            "2s",
            "--cloudwatch",
            "false",
        ]);
        a.extend(extra.iter().copied());
        a.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let keep = dark(&["--duration", "4s", "--keep"]);
    let keep: Vec<&str> = keep.iter().map(String::as_str).collect();
    let mut seen = allowed(&run_logged(&emu, &keep, 0), &[("dark", &p)]);
    let listed = emu.run(&[
        "routes",
        "list",
        "--listener",
        &d.listener,
        "--output",
        "json",
    ]);
    let rule = listed.json()["rules"][0]["rule_arn"]
        .as_str()
        .expect("kept rule")
        .to_string();
    let rm = [
        "routes",
        "remove",
        "--listener",
        &d.listener,
        "--rule",
        &rule,
    ];
    allowed(&run_logged(&emu, &rm, 0), &[("routes", &routes)]);
    let once = dark(&["--duration", "4s"]);
    let once: Vec<&str> = once.iter().map(String::as_str).collect();
    seen.extend(allowed(&run_logged(&emu, &once, 0), &[("dark", &p)]));
    let long = dark(&["--duration", "10m"]);
    let long: Vec<&str> = long.iter().map(String::as_str).collect();
    let (run, rb) =
        killed_then_rolled_back(&emu, &long, "rule created", &["--listener", &d.listener]);
    seen.extend(allowed(&run, &[("dark", &p)]));
    let rb_policy = policy(Strategy::Rollback, &[&d.listener], &[]);
    allowed(&rb, &[("rollback", &rb_policy), ("dark", &p)]);
    let mut expected = granted(&p);
    expected.remove("cloudwatch:GetMetricData");
    assert_eq!(
        seen, expected,
        "the runs called what the policy grants (CloudWatch: see canary)"
    );
}

#[test]
fn iam_policy_prints_the_built_policy_and_refuses_a_bad_arn_with_exit_2() {
    let l = "arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/LB-NAME/LB-ID/LISTENER-ID";
    let out = std::process::Command::new(binary())
        .args([
            "iam-policy",
            "--strategy",
            "canary",
            "--listener",
            l,
            "--target-group",
            "web",
        ])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, policy(Strategy::Canary, &[l], &["web"]).to_json());
    let bad = std::process::Command::new(binary())
        .args([
            "iam-policy",
            "--strategy",
            "rolling",
            "--target-group",
            "arn:aws:s3:::bucket",
        ])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--target-group arn:aws:s3:::bucket"), "{err}");
}

/// `rolling --in-place`: the deploy and undo commands are the team's own
/// (`true` and `false` here make no AWS call), so every call in the log is
/// alb-rollout's and must be allowed by the `rolling` policy.
#[tokio::test]
async fn rolling_in_place_calls_only_what_the_rolling_policy_allows() {
    let emu = Emulator::start();
    let s = stack(&emu, &["--old", "2", "--new", "1"]);
    let p = policy(Strategy::Rolling, &[], &[&s.group]);
    let probe = format!("http://{}/", s.old[0]);
    let run = |deploy: &str, code: i32| {
        let args = [
            "rolling",
            "--target-group",
            &s.group,
            "--in-place",
            "--batch",
            "1",
            "--deploy",
            deploy,
            "--undo",
            "true",
            "--interval",
            "2s",
            "--cloudwatch",
            "false",
            "--probe",
            &probe,
            "--drain-timeout",
            "60s",
        ];
        allowed(&run_logged(&emu, &args, code), &[("rolling", &p)])
    };
    let seen = run("true", 0);
    assert!(
        seen.contains("elasticloadbalancing:DeregisterTargets"),
        "{seen:?}"
    );
    run("false", 1);
}
