//! Errors found before any AWS call: a malformed ARN flag, a region that
//! differs from the ARNs' (exit 2, nothing in the emulator's call log), and
//! the region taken from a full ARN when none is configured.

use crate::support::*;
use std::time::{Duration, Instant};

/// Loose guard only (the goal, under a second, is in docs/benchmarks.md):
/// the retried calls this replaces took 9 s.
const QUICK: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_malformed_listener_is_refused_at_once_with_no_call() {
    let mut emu = Emulator::start();
    let _d = emu.demo(&[]);
    emu.clear_calls();
    for args in [
        &["status", "--listener", "nope"][..],
        &[
            "canary",
            "--listener",
            "nope",
            "--blue",
            "demo-blue",
            "--green",
            "demo-green",
            "--steps",
            "100",
        ],
    ] {
        let started = Instant::now();
        let r = emu.run(args);
        assert!(started.elapsed() < QUICK, "{:?}: {r:?}", started.elapsed());
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr.contains(
                "error: --listener: \"nope\" is not an Application Load Balancer listener ARN"
            ) && r
                .stderr
                .contains("looks like arn:aws:elasticloadbalancing:"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("Connection refused"), "{}", r.stderr);
    }
    assert_eq!(emu.calls(), Vec::new(), "no AWS call for a malformed ARN");
}

/// No region anywhere: not in flags, the environment or a profile.
fn without_region(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
}

#[tokio::test]
async fn the_region_comes_from_the_listener_arn_when_none_is_configured() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    assert!(d.listener.contains(":us-east-1:"), "{}", d.listener);
    let mut cmd = emu.cmd(&["status", "--listener", &d.listener, "--output", "json"]);
    let r = Run::from(without_region(&mut cmd).output().unwrap());
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.json()["listener"].to_string().contains(&d.listener),
        "{}",
        r.stdout
    );
}

#[tokio::test]
async fn a_configured_region_that_differs_from_the_arn_is_refused_naming_both() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let r = Run::from(
        emu.cmd(&["status", "--listener", &d.listener])
            .env("AWS_REGION", "eu-west-1")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("--listener: its ARN is in us-east-1")
            && r.stderr
                .contains("configured region is eu-west-1 (from AWS_REGION)"),
        "{}",
        r.stderr
    );
    assert_eq!(emu.calls(), Vec::new());
}
