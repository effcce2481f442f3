//! Several routes moved as one (`--listener` given twice): two listeners
//! of one load balancer forwarding to the same blue. A good green is
//! promoted on both, a bad one reverted on both, a write refused on the
//! second route of a step ends with both restored, `kill -9` then
//! `rollback --listener FIRST` restores both, and a second route that
//! forwards elsewhere is refused (exit 2, nothing changed).

use crate::canary::canary_args;
use crate::support::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{Action, ActionTypeEnum, ProtocolEnum};
use serde_json::json;

/// A second listener of the demo's load balancer forwarding to `tg`.
pub async fn second_listener(emu: &Emulator, d: &Demo, tg: &str) -> String {
    second_listener_on(emu, d, tg, 8081).await
}

/// A listener of the demo's load balancer on `port` forwarding to `tg`.
pub async fn second_listener_on(emu: &Emulator, d: &Demo, tg: &str, port: i32) -> String {
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(tg)
        .build();
    let out = client
        .create_listener()
        .load_balancer_arn(&d.load_balancer)
        .protocol(ProtocolEnum::Http)
        .port(port)
        .default_actions(forward)
        .send()
        .await
        .expect("create listener");
    out.listeners()[0].listener_arn().unwrap().to_string()
}

/// A listener's default action as `status` shows it.
pub fn action_of(emu: &Emulator, listener: &str) -> serde_json::Value {
    let s = emu.run(&["status", "--listener", listener, "--output", "json"]);
    s.json()["listener"]["default_action"].clone()
}

/// Green's share of a route's weights, in percent.
pub fn green_percent(a: &serde_json::Value, green: &str) -> f64 {
    let groups: Vec<&serde_json::Value> = a["groups"].as_array().into_iter().flatten().collect();
    let weight = |g: &serde_json::Value| g["weight"].as_f64().unwrap_or(0.0);
    let total: f64 = groups.iter().map(|g| weight(g)).sum();
    let green: f64 = (groups.iter())
        .filter(|g| g["target_group_arn"] == green)
        .map(|g| weight(g))
        .sum();
    100.0 * green / total.max(1.0)
}

fn back_to_blue(emu: &Emulator, d: &Demo, listener: &str) {
    let a = action_of(emu, listener);
    assert_eq!(a["shape"], "single", "{listener}: {a}");
    assert_eq!(a["groups"][0]["target_group_arn"], d.blue.as_str(), "{a}");
}

#[tokio::test]
async fn a_good_green_is_promoted_on_both_listeners() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.blue).await;
    let mut args = canary_args(&d, "50:4s,100");
    args.extend(["--listener", &second]);
    let r = emu.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    for l in [&d.listener, &second] {
        assert_eq!(green_percent(&action_of(&emu, l), &d.green), 100.0, "{l}");
    }
}

#[tokio::test]
async fn a_bad_green_is_reverted_on_both_listeners() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "0.5"]);
    let second = second_listener(&emu, &d, &d.blue).await;
    // 15 probes of a green failing half its requests: all pass one run in
    // 32768 (5, at a 10 s hold, passed one run in 32).
    let mut args = canary_args(&d, "50:30s,100");
    args.extend(["--listener", &second]);
    let r = emu.run(&args);
    assert_eq!(r.code, 1, "{r:?}");
    let writes = (emu.calls().iter())
        .filter(|(_, a, s)| a == "ModifyListener" && *s == 200)
        .count();
    assert_eq!(
        writes, 5,
        "attach, the switch of each listener, each one back"
    );
    back_to_blue(&emu, &d, &d.listener);
    back_to_blue(&emu, &d, &second);
}

#[tokio::test]
async fn a_write_refused_on_the_second_route_mid_step_ends_with_both_restored() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.blue).await;
    let rule = rule_on(&emu, &second, &d.blue).await;
    let mut args = canary_args(&d, "20:10s,50:10s,100");
    args.extend(["--listener", &second, "--rule", &rule]);
    let (mut child, _) = spawn_until_line(&emu, &args, "step 1/3");
    // The first listener's default action and a rule of the second: step
    // 2 writes the listener, then the rule, whose write is refused (not
    // retryable) with step 2 half-applied. Step 1's rule write follows its
    // step line at once; the fault comes after it, within the 10 s hold.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let calls_before = emu
        .calls()
        .iter()
        .filter(|(_, a, _)| a == "ModifyListener")
        .count();
    emu.fault(json!({"service": "elasticloadbalancing", "action": "ModifyRule", "status": 400, "code": "InvalidConfigurationRequest", "message": "refused", "count": 1}));
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(1));
    let writes: Vec<(String, String, u64)> = emu
        .calls()
        .into_iter()
        .filter(|(_, a, _)| a == "ModifyListener")
        .collect();
    assert!(
        writes.len() >= calls_before + 2,
        "the listener's step 2 and its revert: {writes:?}"
    );
    back_to_blue(&emu, &d, &d.listener);
    assert_eq!(rule_serving(&emu, &rule).await, vec![d.blue.clone()]);
}

/// A path rule on `listener` forwarding to `tg`.
pub async fn rule_on(emu: &Emulator, listener: &str, tg: &str) -> String {
    use elbv2::types::{PathPatternConditionConfig, RuleCondition};
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let path = PathPatternConditionConfig::builder()
        .values("/api/*")
        .build();
    let out = client
        .create_rule()
        .listener_arn(listener)
        .priority(10)
        .conditions(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(path)
                .build(),
        )
        .actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(tg)
                .build(),
        )
        .send()
        .await
        .expect("create rule");
    out.rules()[0].rule_arn().unwrap().to_string()
}

/// The groups a rule sends requests to (weight above 0).
async fn rule_serving(emu: &Emulator, rule: &str) -> Vec<String> {
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let out = client
        .describe_rules()
        .rule_arns(rule)
        .send()
        .await
        .unwrap();
    let action = &out.rules()[0].actions()[0];
    match action.forward_config() {
        Some(f) => (f.target_groups().iter())
            .filter(|g| g.weight().unwrap_or(1) > 0)
            .filter_map(|g| g.target_group_arn().map(str::to_string))
            .collect(),
        None => action
            .target_group_arn()
            .map(str::to_string)
            .into_iter()
            .collect(),
    }
}

#[tokio::test]
async fn kill_9_then_rollback_given_the_first_listener_restores_both() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.blue).await;
    let mut args = canary_args(&d, "50:60s,100");
    args.extend(["--listener", &second]);
    let (mut child, _) = spawn_until_line(&emu, &args, "step 1/2");
    // The second listener is written just after the first's step line.
    std::thread::sleep(std::time::Duration::from_secs(2));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(green_percent(&action_of(&emu, &second), &d.green) > 0.0);
    // `status` on either route shows the run and the route it moves with.
    let s = emu
        .run(&["status", "--listener", &second, "--output", "json"])
        .json();
    assert_eq!(s["runs"][0]["routes"][0], d.listener.as_str(), "{s}");
    let s = emu
        .run(&["status", "--listener", &d.listener, "--output", "json"])
        .json();
    assert_eq!(s["runs"][0]["routes"][0], second.as_str(), "{s}");
    let r = emu.run(&["rollback", "--listener", &d.listener, "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    back_to_blue(&emu, &d, &d.listener);
    back_to_blue(&emu, &d, &second);
    let status = emu.run(&["status", "--listener", &second, "--output", "json"]);
    assert!(
        !status.stdout.contains("alb-rollout:run"),
        "{}",
        status.stdout
    );
}

#[tokio::test]
async fn a_second_route_that_forwards_elsewhere_is_refused_with_nothing_changed() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.green).await;
    emu.clear_calls();
    let mut args = canary_args(&d, "50:4s,100");
    args.extend(["--listener", &second]);
    let r = emu.run(&args);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(&second), "{}", r.stderr);
    assert!(r.stderr.contains("same blue"), "{}", r.stderr);
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn blue_green_switches_both_listeners_and_a_bad_green_switches_both_back() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "0.5"]);
    let second = second_listener(&emu, &d, &d.blue).await;
    let r = emu.run(&[
        "blue-green",
        "--listener",
        &d.listener,
        "--listener",
        &second,
        "--blue",
        &d.blue,
        "--green",
        &d.green,
        // Ten probes of a green failing half its requests: all ten pass one
        // run in 1024 (three, at a 6 s bake, did one in 8).
        "--bake",
        "20s",
        "--interval",
        "2s",
        "--cloudwatch",
        "false",
        "--probe",
        &d.green_probe,
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    back_to_blue(&emu, &d, &d.listener);
    back_to_blue(&emu, &d, &second);
}
