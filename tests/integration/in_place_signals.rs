//! `rolling --in-place` and the clock through the real binary on the
//! emulator: SIGTERM while a `--deploy` that ignores TERM runs (its
//! process group is stopped, the started batches are undone, exit 130
//! within `--revert-timeout`), and preflight counting `--hook-timeout` per
//! batch against the credentials' expiry.

use crate::in_place::{args, back_after, in_place_stack, strs, until_line};
use crate::support::*;
use std::time::{Duration, Instant, SystemTime};

/// Processes of process group `pgid` that are still alive (not zombies).
fn alive_in_group(pgid: &str) -> Vec<String> {
    let mut out = vec![];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let rest: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        // After the command's name: state, ppid, pgrp.
        if rest.len() > 2 && rest[2] == pgid && !rest[0].starts_with(['Z', 'X']) {
            out.push(stat.clone());
        }
    }
    out
}

#[tokio::test]
async fn sigterm_during_a_deploy_that_ignores_term_undoes_the_started_batches_within_the_budget() {
    let (emu, s, d) = in_place_stack("sigterm", "4");
    let pidfile = d.file("pid");
    let mut a = args(&s, &d, true);
    // Batch 2's deploy logs, then ignores SIGTERM (like a tool that does
    // not forward it): only the SIGKILL after the grace ends it.
    a[7] = format!(
        "{}; if [ \"$ALB_ROLLOUT_STEP\" = 2 ]; then trap '' TERM; sleep 60 & echo $$ $! > '{}'; wait; fi",
        d.command(),
        pidfile.display()
    );
    a.extend(["--revert-timeout".to_string(), "40s".to_string()]);
    let mut child = until_line(emu.cmd(&strs(&a)), "deploy batch 2/2: --deploy started");
    let t0 = Instant::now();
    while !pidfile.exists() && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let pids = std::fs::read_to_string(&pidfile).unwrap();
    let (group, sleeper) = pids.trim().split_once(' ').unwrap();
    let t = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let took = t.elapsed();
    eprintln!("SIGTERM during an in-place --deploy that ignores it: exit after {took:?}");
    assert_eq!(status.code(), Some(130));
    assert!(took < Duration::from_secs(40), "revert took {took:?}");
    let alive = alive_in_group(group);
    assert!(
        alive.is_empty(),
        "the deploy's process group outlived the run (sleeper {sleeper}): {alive:?}"
    );
    let full = ["deploy 1", "deploy 2", "undo 2", "undo 1"];
    back_after(&emu, &s, &d.log(), &full).await;
}

#[tokio::test]
async fn preflight_counts_the_hook_timeout_of_every_batch_against_the_credentials_expiry() {
    let (emu, s, d) = in_place_stack("expiry", "4");
    // 2 batches: 2 x 2s of analysis and 5m of --health-timeout fit in 20
    // minutes with the revert's margin; 2 x --hook-timeout 10m do not.
    let soon = SystemTime::now() + Duration::from_secs(20 * 60);
    let mut a = args(&s, &d, true);
    a.extend(
        [
            "--revert-timeout",
            "30s",
            "--hook-timeout",
            "10m",
            "--dry-run",
        ]
        .map(String::from),
    );
    let expiring = |a: &[String]| {
        let mut c = emu.cmd(&strs(a));
        c.env(
            "AWS_CREDENTIAL_EXPIRATION",
            humantime::format_rfc3339_seconds(soon).to_string(),
        );
        Run::from(c.output().unwrap())
    };
    let r = expiring(&a);
    assert_eq!(r.code, 2, "{r:?}");
    for part in ["the AWS credentials expire at", "--hook-timeout per batch"] {
        assert!(r.stderr.contains(part), "{part}: {}", r.stderr);
    }
    // A deploy bounded by 2m per batch fits.
    let i = a.iter().position(|x| x == "10m").unwrap();
    a[i] = "2m".into();
    let r = expiring(&a);
    assert_eq!(r.code, 0, "{r:?}");
}
