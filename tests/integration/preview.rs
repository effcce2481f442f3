//! `--preview-header` on `canary` and `blue-green` through the binary on the
//! emulator: before any public traffic, only requests with the header reach
//! green (through a tagged rule), judged by the probe sent through the load
//! balancer with the header; then the rule goes and the deploy goes on.

use crate::canary::{canary_route, status_json};
use crate::support::*;
use std::time::Duration;

fn preview_args<'a>(d: &'a Demo, probe: &'a str) -> Vec<&'a str> {
    let mut a = canary_route(d, "50:4s,100");
    a.extend([
        "--interval",
        "2s",
        "--cloudwatch",
        "false",
        "--probe",
        probe,
        "--preview-header",
        "X-Preview=1",
        "--preview",
        "6s",
    ]);
    a
}

fn rule_count(emu: &Emulator, d: &Demo) -> usize {
    status_json(emu, d)["routes"].as_array().unwrap().len()
}

#[tokio::test]
async fn no_public_request_reaches_green_during_the_preview_then_the_canary_goes_on() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let probe = format!("{}/", d.listener_url);
    let public = Traffic::start(&probe, 40, Duration::from_secs(120));
    let (mut child, _) = spawn_until_line(
        &emu,
        &preview_args(&d, &probe),
        "preview through the header rule",
    );
    // The preview's first check passed: green answered the probe through
    // the rule, and so far no public request went to green.
    assert_eq!(rule_count(&emu, &d), 2, "the preview rule is there");
    let during = public.stop();
    assert!(during.get("v1/200") > 0, "{during:?}");
    assert_eq!(
        during.get("v2/200"),
        0,
        "no public request reached green: {during:?}"
    );
    let after = Traffic::start(&probe, 40, Duration::from_secs(120));
    let code = child.wait().unwrap().code();
    let counts = after.stop();
    assert_eq!(code, Some(0), "promoted");
    assert_eq!(counts.failed(), 0, "{counts:?}");
    assert!(
        counts.get("v2/200") > 0,
        "public traffic reached green after the preview: {counts:?}"
    );
    assert_eq!(rule_count(&emu, &d), 1, "the preview rule is gone");
}

#[tokio::test]
async fn a_green_failing_its_preview_is_reverted_before_any_public_traffic() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "1"]);
    let probe = format!("{}/", d.listener_url);
    let public = Traffic::start(&probe, 40, Duration::from_secs(120));
    let before = status_json(&emu, &d)["listener"]["default_action"].clone();
    emu.clear_calls();
    let r = emu.run(&preview_args(&d, &probe));
    let counts = public.stop();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("preview through the header rule"),
        "{}",
        r.stdout
    );
    assert_eq!(counts.get("v2/500") + counts.get("v2/200"), 0, "{counts:?}");
    assert_eq!(status_json(&emu, &d)["listener"]["default_action"], before);
    assert_eq!(rule_count(&emu, &d), 1, "the preview rule is gone");
    let writes: Vec<String> = emu
        .mutating_calls()
        .into_iter()
        .filter(|c| !c.contains("Tags"))
        .collect();
    assert_eq!(
        writes,
        ["ModifyListener", "CreateRule", "DeleteRule", "ModifyListener"],
        "the demo's green is in no route: attached at weight 0 first (AWS checks only groups in use), \
         the weight-0 entry taken out again by the revert; no public weight was ever written"
    );
}

#[test]
fn a_preview_without_a_probe_is_refused_before_any_change() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let mut args = canary_route(&d, "50,100");
    args.extend(["--preview-header", "X-Preview=1", "--preview", "5s"]);
    let r = emu.run(&args);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("--preview-header") && r.stderr.contains("--probe"),
        "{}",
        r.stderr
    );
    assert!(emu.mutating_calls().is_empty());
}
