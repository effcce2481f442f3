//! API faults injected into the emulator mid-run: a CloudWatch outage is
//! "no data" (never a pass, never a crash), and a revert rides out throttling.

use crate::canary::{canary_args, cloudwatch_args, default_action};
use crate::support::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_cloudwatch_outage_is_no_data_and_the_step_holds_until_it_ends() {
    // fast metrics: this test is about a CloudWatch outage's end, not CloudWatch timing.
    let mut emu = Emulator::start_with(FAST_METRICS);
    let d = emu.demo(&[]);
    // Every GetMetricData fails for a while (the SDK's own retries included).
    emu.fault(json!({"service": "cloudwatch", "action": "GetMetricData", "status": 503, "code": "ServiceUnavailable", "message": "try later", "count": 12}));
    let traffic = Traffic::start(
        &format!("{}/", d.listener_url),
        20,
        Duration::from_secs(240),
    );
    let mut args = cloudwatch_args(&d, "30,100", "pause");
    args.extend(["--output", "json"]);
    let r = emu.run(&args);
    traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    let details: Vec<String> = report["steps"][0]["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["checks"][1]["detail"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        details[0].contains("green metrics unavailable")
            && details[0].contains("ServiceUnavailable"),
        "{details:?}"
    );
    assert_eq!(report["steps"][0]["intervals"][0]["verdict"], "no-data");
    let faulted = emu
        .calls()
        .iter()
        .filter(|(s, a, st)| s == "monitoring" && a == "GetMetricData" && *st == 503)
        .count();
    assert_eq!(faulted, 12);
}

#[tokio::test]
async fn the_same_outage_with_on_no_data_fail_reverts() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.fault(json!({"service": "cloudwatch", "action": "GetMetricData", "status": 503, "code": "ServiceUnavailable", "message": "try later"}));
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 40, Duration::from_secs(60));
    let r = emu.run(&cloudwatch_args(&d, "30,100", "fail"));
    traffic.stop();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("no data: error-rate: green metrics unavailable"),
        "{}",
        r.stdout
    );
    assert_eq!(default_action(&emu, &d)["shape"], "single");
}

#[tokio::test]
async fn a_revert_rides_out_throttling() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "0.5"]);
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 40, Duration::from_secs(60));
    let (mut child, _) = spawn_until_line(&emu, &canary_args(&d, "30:30s,100"), "step 1/2");
    // From now on the next writes are throttled: the revert meets them.
    emu.fault(json!({"service": "elasticloadbalancing", "action": "ModifyListener", "status": 400, "code": "Throttling", "message": "Rate exceeded", "count": 2}));
    let code = child.wait().unwrap().code();
    traffic.stop();
    assert_eq!(code, Some(1));
    assert_eq!(default_action(&emu, &d)["shape"], "single");
    let throttled = emu
        .calls()
        .iter()
        .filter(|(_, a, s)| a == "ModifyListener" && *s == 400)
        .count();
    assert_eq!(throttled, 2);
}
