//! `--hook` and `--check` against the emulator: a failing pre-traffic hook
//! leaves green without a request, a check failing on its second run
//! reverts, a good canary runs every stage in order with its variables, and
//! SIGTERM during a long hook reverts within the budget.

use crate::canary::{canary_args, canary_route, default_action};
use crate::support::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A file in a fresh temporary directory, for commands to write to.
fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "alb-rollout-hooks-{}-{name}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[tokio::test]
async fn a_failing_pre_traffic_hook_leaves_green_without_traffic_and_the_route_original() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let before = default_action(&emu, &d);
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 20, Duration::from_secs(30));
    let mut args = canary_args(&d, "50:5s,100");
    args.extend([
        "--hook",
        "pre-traffic=echo smoke failed on /checkout; exit 3",
        "--output",
        "json",
    ]);
    let r = emu.run(&args);
    let counts = traffic.stop();
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    assert_eq!(j["result"], "reverted", "{j}");
    let reason = j["reason"]["message"].as_str().unwrap_or_default();
    assert!(
        reason.contains("hook pre-traffic") && reason.contains("exit 3"),
        "{reason}"
    );
    assert_eq!(j["hooks"][0]["stage"], "pre-traffic");
    assert_eq!(j["hooks"][0]["exit_status"], 3);
    assert_eq!(j["hooks"][0]["tail"][0], "smoke failed on /checkout");
    assert_eq!(
        j["steps"].as_array().map(Vec::len),
        Some(0),
        "no step was written"
    );
    assert_eq!(
        default_action(&emu, &d),
        before,
        "the route is exactly as it was"
    );
    assert_eq!(counts.failed(), 0, "{counts:?}");
    let served = emu.served(None);
    assert!(
        served["target_groups"].get(&d.green).is_none(),
        "green got a request: {served}"
    );
}

#[test]
fn a_check_failing_on_its_second_run_reverts() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let count = scratch("count");
    // Passes once, then fails: the count survives between runs in a file.
    let check = format!(
        "n=$(cat {0} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {0}; echo run $n; [ $n -lt 2 ]",
        count.display()
    );
    let mut args = canary_route(&d, "50:1m,100");
    args.extend([
        "--interval",
        "2s",
        "--cloudwatch",
        "false",
        "--check",
        &check,
        "--output",
        "json",
    ]);
    let r = emu.run(&args);
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    assert_eq!(j["result"], "reverted", "{j}");
    let failed = &j["failed_check"]["checks"];
    let cmd = (failed.as_array().into_iter().flatten())
        .find(|c| c["check"] == "command")
        .unwrap_or_else(|| panic!("no command check in {failed}"));
    assert_eq!(cmd["verdict"], "fail", "{cmd}");
    assert!(
        cmd["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("exit 1: run 2"),
        "{cmd}"
    );
    assert_eq!(std::fs::read_to_string(&count).unwrap().trim(), "2");
    assert_eq!(default_action(&emu, &d)["shape"], "single");
}

#[test]
fn a_good_canary_runs_every_stage_in_order_with_its_variables() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let log = scratch("stages");
    let line = format!(
        "echo \"$ALB_ROLLOUT_HOOK|$ALB_ROLLOUT_STEP|$ALB_ROLLOUT_GREEN_PERCENT|$ALB_ROLLOUT_STRATEGY|$ALB_ROLLOUT_GREEN|$ALB_ROLLOUT_BLUE|$ALB_ROLLOUT_RUN_ID|$ALB_ROLLOUT_LB_DNS|${{ALB_ROLLOUT_INTERVAL:-unset}}\" >> {}",
        log.display()
    );
    let hooks: Vec<String> = [
        "pre-traffic",
        "post-step",
        "pre-promote",
        "post-promote",
        "post-revert",
    ]
    .iter()
    .map(|s| format!("{s}={line}"))
    .collect();
    let mut args = canary_args(&d, "50:3s,100:3s");
    for h in &hooks {
        args.extend(["--hook", h.as_str()]);
    }
    args.extend(["--output", "json"]);
    // A parent input in the environment: a hook must not inherit it.
    let r = Run::from(
        emu.cmd(&args)
            .env("ALB_ROLLOUT_INTERVAL", "2s")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    let run_id = j["run_id"].as_str().unwrap().to_string();
    let text = std::fs::read_to_string(&log).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    let stages: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0], r[1], r[2])).collect();
    assert_eq!(
        stages,
        [
            ("pre-traffic", "0", "0"),
            ("post-step", "1", "50"),
            ("post-step", "2", "100"),
            ("pre-promote", "2", "100"),
            ("post-promote", "2", "100"),
        ],
        "{text}"
    );
    for r in &rows {
        assert_eq!(r[3], "canary");
        assert_eq!((r[4], r[5]), (d.green.as_str(), d.blue.as_str()));
        assert_eq!(r[6], run_id);
        assert!(!r[7].is_empty(), "ALB_ROLLOUT_LB_DNS is set: {text}");
        assert_eq!(
            r[8], "unset",
            "the parent's ALB_ROLLOUT_INTERVAL leaked: {text}"
        );
    }
    let recorded: Vec<&str> = (j["hooks"].as_array().into_iter().flatten())
        .map(|h| h["stage"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        recorded,
        [
            "pre-traffic",
            "post-step",
            "post-step",
            "pre-promote",
            "post-promote"
        ]
    );
}

#[test]
fn sigterm_during_a_long_hook_reverts_within_the_budget() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let pidfile = scratch("pid");
    // Ignores SIGTERM, like a test runner that does not forward it: only
    // the SIGKILL after the grace ends it.
    let hook = format!(
        "post-step=trap '' TERM; sleep 120 & echo $! > {0}; wait",
        pidfile.display()
    );
    let mut args = canary_args(&d, "50:2s,100");
    args.extend(["--hook", &hook, "--revert-timeout", "8s"]);
    let (mut child, _) = spawn_until_line(&emu, &args, "[hook post-step 1] $");
    let t0 = Instant::now();
    while !pidfile.exists() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let sleeper = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    let t = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let took = t.elapsed();
    eprintln!("SIGTERM during a hook that ignores it: exit after {took:?}");
    assert_eq!(status.code(), Some(130));
    assert!(took < Duration::from_secs(8), "revert took {took:?}");
    assert_eq!(default_action(&emu, &d)["shape"], "single");
    let stat = std::fs::read_to_string(format!("/proc/{sleeper}/stat")).unwrap_or_default();
    let state = stat.rsplit(')').next().unwrap_or("").trim_start();
    assert!(
        stat.is_empty() || state.starts_with(['Z', 'X']),
        "the hook's child {sleeper} outlived the run: {stat}"
    );
}

#[test]
fn a_dry_run_lists_each_hook_at_its_place() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let mut args = canary_args(&d, "50,100");
    args.extend([
        "--hook",
        "pre-traffic=./smoke.sh",
        "--hook",
        "post-revert=./undo-migration.sh",
        "--dry-run",
    ]);
    emu.clear_calls();
    let r = emu.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle));
    let pre = at("hook pre-traffic").expect("pre-traffic listed");
    let first_step = at("=500").expect("the 50% write");
    assert!(pre < first_step, "{}", r.stdout);
    let post = at("hook post-revert").expect("post-revert listed");
    assert!(
        lines[post].contains("only after a verified revert"),
        "{}",
        r.stdout
    );
    let on_failure = at("on a failed check or cancel").expect("the revert's calls");
    assert!(
        post > on_failure,
        "post-revert is among the revert's calls: {}",
        r.stdout
    );
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[test]
fn ab_with_a_check_reports_its_verdict_per_interval() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let count = scratch("ab-count");
    // A team's own metric: no data the first time (exit 2), then passes.
    let check = format!(
        "n=$(cat {0} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {0}; echo conversion ok; [ $n -gt 1 ] || exit 2",
        count.display()
    );
    let probe = format!("{}/", d.listener_url);
    let mut args = crate::ab::ab_args(&d, "6s");
    args.extend([
        "--cloudwatch",
        "false",
        "--probe",
        &probe,
        "--check",
        &check,
        "--on-no-data",
        "pass",
        "--output",
        "json",
    ]);
    let r = emu.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    let series = &j["ab"]["checks"][0];
    assert_eq!(series["command"], check.as_str(), "{j}");
    let verdicts: Vec<&str> = (series["verdicts"].as_array().into_iter().flatten())
        .map(|v| v.as_str().unwrap_or_default())
        .collect();
    assert!(verdicts.len() >= 2, "{series}");
    assert_eq!(verdicts[0], "no-data", "{series}");
    assert!(verdicts[1..].iter().all(|v| *v == "pass"), "{series}");
    assert_eq!(series["no_data"], 1);
}

#[tokio::test]
async fn rolling_hooks_get_each_rounds_batch_and_the_load_balancers_dns_name() {
    let emu = Emulator::start();
    let s = crate::rolling::stack(&emu, &["--old", "4", "--new", "4"]);
    let log = scratch("rounds");
    let line = format!(
        "echo \"$ALB_ROLLOUT_HOOK|$ALB_ROLLOUT_STEP|$ALB_ROLLOUT_TARGETS|$ALB_ROLLOUT_STRATEGY|$ALB_ROLLOUT_LB_DNS\" >> {}",
        log.display()
    );
    let hooks = [format!("pre-traffic={line}"), format!("post-step={line}")];
    let mut args = crate::rolling::rolling_args(&s, "2", "1");
    for h in &hooks {
        args.extend(["--hook".to_string(), h.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = emu.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    let batch = |i: usize| s.new[i * 2..i * 2 + 2].join(",");
    let seen: Vec<(&str, &str, String)> = rows
        .iter()
        .map(|r| (r[0], r[1], r[2].to_string()))
        .collect();
    assert_eq!(
        seen,
        [
            ("pre-traffic", "0", batch(0)),
            ("post-step", "1", batch(0)),
            ("post-step", "2", batch(1)),
        ],
        "{text}"
    );
    assert!(
        rows.iter().all(|r| r[3] == "rolling" && !r[4].is_empty()),
        "{text}"
    );
}

#[test]
fn a_hook_can_run_alb_rollout_status_with_the_runs_variables_set() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let out = scratch("status.json");
    // The listener reaches the hook through the job's environment; the
    // run's ALB_ROLLOUT_* variables must not make `status` refuse to run.
    let hook = format!(
        "pre-traffic={} status --listener \"$LISTENER_FOR_HOOK\" --output json > {}",
        binary().display(),
        out.display()
    );
    let mut args = canary_args(&d, "100:2s");
    args.extend(["--hook", &hook]);
    let r = Run::from(
        emu.cmd(&args)
            .env("LISTENER_FOR_HOOK", &d.listener)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).expect("status JSON");
    assert_eq!(status["runs"].as_array().map(Vec::len), Some(1), "{status}");
}
