//! The action's inputs as a workflow gives them, through the binary: an
//! input the command does not take is refused before any AWS call, a
//! `match` written as a YAML `|` block works, and a dry run applies the
//! credential-expiry check and writes the plan to the job summary.

use crate::ab::ab_args;
use crate::canary::canary_args;
use crate::support::*;
use std::process::Command;

fn run(mut c: Command) -> Run {
    Run::from(c.output().expect("run alb-rollout"))
}

#[test]
fn an_input_the_command_does_not_take_is_refused_with_no_aws_call() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let mut c = emu.cmd(&canary_args(&d, "50,100"));
    c.env("ALB_ROLLOUT_BAKE", "15m")
        .env("ALB_ROLLOUT_MATCH", "");
    let r = run(c);
    assert_eq!(r.code, 2, "{r:?}");
    for part in [
        "ALB_ROLLOUT_BAKE",
        "action input `bake`",
        "`canary` does not read it",
        "taken by: blue-green",
    ] {
        assert!(r.stderr.contains(part), "{part}: {}", r.stderr);
    }
    assert!(
        !r.stderr.contains("MATCH"),
        "an empty input is no input: {}",
        r.stderr
    );
    assert_eq!(emu.calls(), vec![], "no AWS call at all");
}

#[test]
fn a_match_block_with_a_trailing_newline_and_crlf_is_one_condition_per_line() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let args: Vec<&str> = ab_args(&d, "1m")
        .into_iter()
        .filter(|a| *a != "--match" && *a != "header:X-Variant=b")
        .chain(["--dry-run", "--output", "json"])
        .collect();
    emu.clear_calls();
    let mut c = emu.cmd(&args);
    c.env(
        "ALB_ROLLOUT_MATCH",
        "header:X-Variant=b\r\n\r\nquery:beta=1\n",
    );
    let r = run(c);
    assert_eq!(r.code, 0, "{r:?}");
    let plan = r.json().to_string();
    for part in ["X-Variant", "beta"] {
        assert!(plan.contains(part), "{part}: {plan}");
    }
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[test]
fn a_dry_run_refuses_a_plan_that_outlives_the_session_naming_the_source() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let soon = std::time::SystemTime::now() + std::time::Duration::from_secs(600);
    let mut args = canary_args(&d, "50:20m,100");
    args.push("--dry-run");
    let mut c = emu.cmd(&args);
    c.env(
        "AWS_CREDENTIAL_EXPIRATION",
        humantime::format_rfc3339_seconds(soon).to_string(),
    );
    let r = run(c);
    assert_eq!(r.code, 2, "{r:?}");
    for part in [
        "the AWS credentials expire at",
        "expiry from AWS_CREDENTIAL_EXPIRATION",
    ] {
        assert!(r.stderr.contains(part), "{part}: {}", r.stderr);
    }
}

#[test]
fn a_dry_run_writes_the_plan_to_the_job_summary() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let dir = std::env::temp_dir().join(format!("dry-summary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (summary, output) = (dir.join("summary.md"), dir.join("output"));
    let mut args = canary_args(&d, "50:1m,100");
    args.push("--dry-run");
    let mut c = emu.cmd(&args);
    c.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output);
    let r = run(c);
    let md = std::fs::read_to_string(&summary).unwrap_or_default();
    let out = std::fs::read_to_string(&output).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r.code, 0, "{r:?}");
    for part in [
        "## alb-rollout canary: dry run",
        "| 1 | ModifyListener |",
        "**On a failed check or cancel:**",
        &d.green,
    ] {
        assert!(md.contains(part), "{part}: {md}");
    }
    assert!(out.contains("dry-run"), "{out}");
}
