//! Whole canaries through the real binary, with real traffic through the
//! emulated data plane so CloudWatch sees what clients see.

use crate::status::{set_route, weighted};
use crate::support::*;
use std::time::Duration;

/// Checks every 2 s by green's health and a probe of green's app, without
/// CloudWatch (`--cloudwatch false`): for tests about something else than
/// CloudWatch, which judges whole minutes that arrive minutes late.
pub fn canary_args<'a>(d: &'a Demo, steps: &'a str) -> Vec<&'a str> {
    let mut a = canary_route(d, steps);
    a.extend([
        "--interval",
        "2s",
        "--cloudwatch",
        "false",
        "--probe",
        &d.green_probe,
    ]);
    a
}

/// Judging by CloudWatch, checking every 10 s for a quicker look once a
/// minute arrives; `on_no_data` decides intervals without data.
pub fn cloudwatch_args<'a>(d: &'a Demo, steps: &'a str, on_no_data: &'a str) -> Vec<&'a str> {
    let mut a = canary_route(d, steps);
    a.extend(["--interval", "10s", "--on-no-data", on_no_data]);
    a
}

/// `canary` on the demo's listener, blue to green, with `steps` and no
/// analysis settings.
pub fn canary_route<'a>(d: &'a Demo, steps: &'a str) -> Vec<&'a str> {
    vec![
        "canary",
        "--listener",
        &d.listener,
        "--blue",
        &d.blue,
        "--green",
        &d.green,
        "--steps",
        steps,
    ]
}

pub fn status_json(emu: &Emulator, d: &Demo) -> serde_json::Value {
    emu.run(&["status", "--listener", &d.listener, "--output", "json"])
        .json()
}

pub fn default_action(emu: &Emulator, d: &Demo) -> serde_json::Value {
    status_json(emu, d)["listener"]["default_action"].clone()
}

#[tokio::test]
async fn a_good_green_is_promoted_with_no_failed_request() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 50, Duration::from_secs(90));
    let mut args = canary_args(&d, "25:6s,50:6s,100");
    args.extend(["--output", "json"]);
    let r = emu.run(&args);
    let counts = traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    assert_eq!(report["result"], "promoted");
    assert_eq!(report["steps"].as_array().unwrap().len(), 3);
    let checks = &report["steps"][0]["intervals"][0]["checks"];
    assert_eq!(checks[1]["check"], "probe", "{checks}");
    assert!(checks[1]["detail"]
        .as_str()
        .unwrap()
        .starts_with("HTTP 200"));
    assert!(
        counts.total() > 100,
        "traffic flowed throughout: {counts:?}"
    );
    let action = default_action(&emu, &d);
    let groups = action["groups"].as_array().unwrap();
    let w = |arn: &str| {
        groups
            .iter()
            .find(|g| g["target_group_arn"] == arn)
            .unwrap()["weight"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        (w(&d.blue), w(&d.green)),
        (0, 999),
        "blue kept at 0 for a one-call switch-back"
    );
    assert_eq!(counts.failed(), 0, "{counts:?}");
    assert!(
        counts.get("v2/200") > 0 && counts.get("v1/200") > 0,
        "{counts:?}"
    );
    assert!(
        status_json(&emu, &d)["runs"].as_array().unwrap().is_empty(),
        "run record removed"
    );
}

#[tokio::test]
async fn a_bad_green_is_reverted_with_exit_1_and_the_measured_values() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "0.5"]);
    let traffic = Traffic::start(
        &format!("{}/", d.listener_url),
        20,
        Duration::from_secs(360),
    );
    let mut args = cloudwatch_args(&d, "20,60,100", "fail");
    args.extend(["--output", "json"]);
    let r = emu.run(&args);
    let counts = traffic.stop();
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    assert_eq!(report["result"], "reverted");
    let reason = report["reason"]["message"].as_str().unwrap();
    assert!(
        reason.starts_with("error-rate: green") && reason.contains("vs max 1.00%"),
        "{reason}"
    );
    assert!(report["detection_to_revert_seconds"].as_f64().unwrap() < 5.0);
    let first = &report["steps"][0]["intervals"][0];
    assert_eq!(
        first["verdict"], "waiting",
        "a minute late is not a failure: {first}"
    );
    assert_eq!(
        default_action(&emu, &d)["shape"],
        "single",
        "a single forward stays single"
    );
    assert_eq!(
        default_action(&emu, &d)["groups"][0]["target_group_arn"],
        d.blue.as_str()
    );
    assert!(
        counts.get("v2/500") > 0,
        "the errors went through the data plane: {counts:?}"
    );
}

#[tokio::test]
async fn no_traffic_is_no_data_and_its_policy_decides() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    // No request at all: the load balancer publishes nothing, so CloudWatch
    // never has a minute to judge, which is "no data" once it has taken
    // --no-data-timeout.
    let args = |policy| {
        let mut a = canary_route(&d, "10,100");
        a.extend([
            "--interval",
            "5s",
            "--no-data-timeout",
            "20s",
            "--on-no-data",
            policy,
        ]);
        a
    };
    let r = emu.run(&args("fail"));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("no data: no CloudWatch minute arrived for 20s")
            && r.stdout.contains("waiting for CloudWatch"),
        "{}",
        r.stdout
    );
    let r = emu.run(&args("pass"));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("waiting for CloudWatch"),
        "a pass without data still says why: {}",
        r.stdout
    );
}

#[tokio::test]
async fn registered_targets_are_waited_for_and_removed_on_revert() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--no-register-green", "--green-error-rate", "1.0"]);
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 30, Duration::from_secs(60));
    let mut args = canary_args(&d, "50:10s,100");
    args.extend(["--register", &d.green_target]);
    let r = emu.run(&args);
    traffic.stop();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(&format!("registered {}", d.green_target)),
        "{}",
        r.stdout
    );
    let health = &status_json(&emu, &d);
    assert_eq!(default_action(&emu, &d)["shape"], "single");
    let _ = health;
    let client = aws_sdk_elasticloadbalancingv2::Client::new(&emu.sdk_config().await);
    let th = client
        .describe_target_health()
        .target_group_arn(&d.green)
        .send()
        .await
        .unwrap();
    let states: Vec<String> = th
        .target_health_descriptions()
        .iter()
        .filter_map(|t| t.target_health()?.state().map(|s| s.as_str().to_string()))
        .collect();
    assert!(
        states.iter().all(|s| s == "draining"),
        "deregistered (draining): {states:?}"
    );
}

/// A registered target whose server is not running never passes a health
/// check: on AWS it stays `initial`, then turns `unhealthy`; the run must not
/// move any traffic to it and must take it out again. (The emulator used to
/// call such a target healthy, which hid this case.)
#[tokio::test]
async fn a_registered_target_that_never_answers_gets_no_traffic() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--no-register-green"]);
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 20, Duration::from_secs(40));
    let mut args = canary_args(&d, "50:5s,100");
    args.extend(["--register", "127.0.0.9:9", "--health-timeout", "15s"]);
    let r = emu.run(&args);
    let counts = traffic.stop();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("did not become healthy"), "{}", r.stdout);
    assert_eq!(counts.failed(), 0, "{counts:?}");
    assert_eq!(default_action(&emu, &d)["shape"], "single");
    let served = emu.served(None);
    assert!(
        served["target_groups"].get(&d.green).is_none(),
        "green got no request: {served}"
    );
    let client = aws_sdk_elasticloadbalancingv2::Client::new(&emu.sdk_config().await);
    let th = client
        .describe_target_health()
        .target_group_arn(&d.green)
        .send()
        .await
        .unwrap();
    let states: Vec<String> = th
        .target_health_descriptions()
        .iter()
        .filter_map(|t| t.target_health()?.state().map(|s| s.as_str().to_string()))
        .collect();
    assert!(
        states.iter().all(|s| s == "draining"),
        "deregistered (draining): {states:?}"
    );
}

#[tokio::test]
async fn throttled_writes_are_ridden_out() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    set_route(
        &emu,
        &d.listener,
        &weighted(&[(&d.blue, 999), (&d.green, 0)]),
    )
    .await;
    emu.fault(serde_json::json!({"service": "elasticloadbalancing", "action": "ModifyListener", "status": 400, "code": "Throttling", "message": "Rate exceeded", "count": 4}));
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 30, Duration::from_secs(60));
    let r = emu.run(&canary_args(&d, "50:4s,100"));
    traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    let throttled = emu
        .calls()
        .iter()
        .filter(|(_, a, s)| a == "ModifyListener" && *s == 400)
        .count();
    assert_eq!(throttled, 4);
}

#[tokio::test]
async fn an_unhealthy_green_target_mid_bake_reverts() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 30, Duration::from_secs(60));
    let args = canary_args(&d, "20:30s,100");
    let (mut child, _) = spawn_until_line(&emu, &args, "step 1/2");
    let (ip, port) = d.green_target.split_once(':').unwrap();
    emu.force_health(serde_json::json!({"target_group_arn": d.green, "target_id": ip, "port": port.parse::<u16>().unwrap(), "state": "unhealthy", "reason": "Target.FailedHealthChecks"}));
    let status = child.wait().unwrap();
    traffic.stop();
    assert_eq!(status.code(), Some(1));
    assert_eq!(default_action(&emu, &d)["shape"], "single");
}

#[tokio::test]
async fn a_gradual_abort_steps_back_through_the_weights() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let mut args = canary_args(&d, "20:2s,60:30s,100");
    args.extend(["--abort", "gradual"]);
    let (mut child, _) = spawn_until_line(&emu, &args, "step 2/3");
    let (ip, port) = d.green_target.split_once(':').unwrap();
    emu.force_health(serde_json::json!({"target_group_arn": d.green, "target_id": ip, "port": port.parse::<u16>().unwrap(), "state": "unhealthy", "reason": "Target.FailedHealthChecks"}));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert_eq!(default_action(&emu, &d)["shape"], "single");
    let writes: Vec<String> = emu
        .mutating_calls()
        .into_iter()
        .filter(|c| c != "AddTags")
        .collect();
    assert_eq!(
        writes,
        vec![
            "ModifyListener",
            "ModifyListener",
            "ModifyListener",
            "ModifyListener",
            "ModifyListener",
            "ModifyListener",
            "RemoveTags"
        ],
        "attach at weight 0, 20%, 60%, then back to 20%, to 0% and to the original (no weight-0 entry left)"
    );
}

pub async fn api_rule(emu: &Emulator, d: &Demo) -> String {
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, PathPatternConditionConfig, RuleCondition,
    };
    let client = aws_sdk_elasticloadbalancingv2::Client::new(&emu.sdk_config().await);
    let out = client
        .create_rule()
        .listener_arn(&d.listener)
        .priority(10)
        .conditions(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    PathPatternConditionConfig::builder()
                        .values("/api/*")
                        .build(),
                )
                .build(),
        )
        .actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&d.blue)
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.rules()[0].rule_arn().unwrap().to_string()
}

#[tokio::test]
async fn a_rule_is_shifted_and_the_default_action_is_untouched() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let rule = api_rule(&emu, &d).await;
    let before = default_action(&emu, &d);
    let traffic = Traffic::start(
        &format!("{}/api/items", d.listener_url),
        40,
        Duration::from_secs(60),
    );
    let mut args = canary_args(&d, "50:6s,100");
    args.extend(["--rule", &rule]);
    let (mut child, _) = spawn_until_line(&emu, &args, "step 1/2");
    let status = emu.run(&["status", "--listener", &d.listener, "--rule", &rule]);
    assert!(
        status.stdout.contains("path-pattern=/api/*")
            && status
                .stdout
                .contains("demo-blue 500 (50.0%), demo-green 500 (50.0%)"),
        "{}",
        status.stdout
    );
    assert_eq!(
        default_action(&emu, &d),
        before,
        "the default action is not touched"
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let counts = traffic.stop();
    assert_eq!(counts.failed(), 0, "{counts:?}");
    let json = status_json(&emu, &d);
    let r = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["arn"] == rule.as_str())
        .unwrap()
        .clone();
    let green = r["action"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["target_group_arn"] == d.green.as_str())
        .unwrap()
        .clone();
    assert_eq!(green["weight"], 999);
    assert_eq!(default_action(&emu, &d), before);
}
