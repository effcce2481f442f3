//! Recovery after a lost runner, as the examples' recovery step runs it:
//! `rollback --wait` right after `kill -9` (the dead run's heartbeat still
//! fresh) restores the exact original, and `rollback` finds the record
//! from the flag the step knows (a canary's green group, the listener of
//! a rolling run's group, the listener of a canary on a rule, one rule
//! among 25: their tags read 20 ARNs a DescribeTags).

use crate::canary::{canary_args, default_action, status_json};
use crate::rolling::{rolling_args, stack, targets};
use crate::support::*;

/// Start a canary, wait for its first shift, `kill -9` it.
fn killed_canary(emu: &Emulator, d: &Demo) {
    let (mut child, _) = spawn_until_line(emu, &canary_args(d, "40:10m,100"), "step 1/2");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        default_action(emu, d)["groups"].as_array().unwrap().len(),
        2,
        "left half-way"
    );
}

#[test]
fn rollback_wait_right_after_kill_9_restores_the_exact_original_route() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let original = default_action(&emu, &d);
    killed_canary(&emu, &d);
    let rb = emu.run(&["rollback", "--listener", &d.listener, "--wait", "2m"]);
    assert_eq!(rb.code, 0, "{rb:?}");
    assert!(rb.stderr.contains("waiting up to 2m"), "{}", rb.stderr);
    assert!(rb.stdout.contains("restored the default action"), "{rb:?}");
    assert_eq!(default_action(&emu, &d), original, "exactly the original");
    assert!(status_json(&emu, &d)["runs"].as_array().unwrap().is_empty());
}

#[test]
fn rollback_wait_gives_up_on_a_run_that_keeps_beating_naming_it_and_force() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let (mut child, _) = spawn_until_line(&emu, &canary_args(&d, "40:10m,100"), "step 1/2");
    let rb = emu.run(&["rollback", "--listener", &d.listener, "--wait", "5s"]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(rb.code, 2, "{rb:?}");
    for part in ["after waiting 5s", "still alive", "heartbeat", "--force"] {
        assert!(rb.stderr.contains(part), "{part}: {}", rb.stderr);
    }
}

#[test]
fn rollback_target_group_of_a_killed_canarys_green_restores_its_listener() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let original = default_action(&emu, &d);
    killed_canary(&emu, &d);
    let rb = emu.run(&["rollback", "--target-group", &d.green, "--wait", "1m"]);
    assert_eq!(rb.code, 0, "{rb:?}");
    assert!(rb.stdout.contains("reached from target group"), "{rb:?}");
    assert_eq!(default_action(&emu, &d), original);
}

#[tokio::test]
async fn rollback_listener_of_a_killed_rolling_runs_group_restores_the_group() {
    let emu = Emulator::start();
    let s = stack(&emu, &["--old", "4", "--new", "4"]);
    let before = targets(&emu, &s.group).await;
    let args = rolling_args(&s, "2", "1");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut child, _) = spawn_until_line(&emu, &args, "round 1/2");
    child.kill().unwrap();
    let _ = child.wait();
    assert_ne!(targets(&emu, &s.group).await, before);
    let rb = emu.run(&["rollback", "--listener", &s.listener, "--wait", "1m"]);
    assert_eq!(rb.code, 0, "{rb:?}");
    assert!(rb.stdout.contains("reached from listener"), "{rb:?}");
    assert_eq!(
        targets(&emu, &s.group).await,
        before,
        "exactly the original"
    );
}

#[tokio::test]
async fn rollback_listener_of_a_killed_canary_on_a_rule_restores_the_rule() {
    use alb_rollout::alb::{aws::AwsLoadBalancer, LoadBalancerPort, RouteRef};
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let rule = crate::canary::api_rule(&emu, &d).await;
    let lb = AwsLoadBalancer::new(&emu.sdk_config().await);
    let route = RouteRef::new(&d.listener, Some(&rule));
    let original = lb.read_route(&route).await.unwrap();
    let mut args = canary_args(&d, "40:10m,100");
    args.extend(["--rule", &rule]);
    let (mut child, _) = spawn_until_line(&emu, &args, "step 1/2");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_ne!(lb.read_route(&route).await.unwrap(), original, "shifted");
    let rb = emu.run(&["rollback", "--listener", &d.listener, "--wait", "1m"]);
    assert_eq!(rb.code, 0, "{rb:?}");
    assert!(
        rb.stdout.contains(&format!("recorded on rule {rule}")),
        "{rb:?}"
    );
    assert_eq!(lb.read_route(&route).await.unwrap(), original);
}

/// 24 more path rules on the demo's listener, forwarding to blue.
async fn more_rules(emu: &Emulator, d: &Demo) {
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, PathPatternConditionConfig, RuleCondition,
    };
    let client = aws_sdk_elasticloadbalancingv2::Client::new(&emu.sdk_config().await);
    for i in 0..24 {
        let path = PathPatternConditionConfig::builder()
            .values(format!("/p{i}/*"))
            .build();
        let condition = RuleCondition::builder()
            .field("path-pattern")
            .path_pattern_config(path)
            .build();
        let forward = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(&d.blue)
            .build();
        (client.create_rule().listener_arn(&d.listener))
            .priority(20 + i)
            .conditions(condition)
            .actions(forward)
            .send()
            .await
            .unwrap();
    }
}

/// The search from a listener of 25 rules reads their tags (and the
/// groups') 20 ARNs a DescribeTags, which the emulator refuses beyond 20.
#[tokio::test]
async fn rollback_finds_a_record_among_25_rules_reading_20_arns_a_call() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    more_rules(&emu, &d).await;
    let rule = crate::canary::api_rule(&emu, &d).await;
    let mut args = canary_args(&d, "40:10m,100");
    args.extend(["--rule", &rule]);
    let (mut child, _) = spawn_until_line(&emu, &args, "step 1/2");
    child.kill().unwrap();
    child.wait().unwrap();
    emu.clear_calls();
    let rb = emu.run(&["rollback", "--listener", &d.listener, "--force"]);
    assert_eq!(rb.code, 0, "{rb:?}");
    assert!(
        rb.stdout.contains(&format!("recorded on rule {rule}")),
        "{rb:?}"
    );
    let sizes: Vec<usize> = (emu.call_log().iter())
        .filter(|c| c["action"] == "DescribeTags")
        .map(|c| c["resources"].as_array().map_or(0, Vec::len))
        .collect();
    // The listener, then its 25 rules and the 2 groups they forward to.
    assert_eq!(sizes[..3], [1, 20, 7], "{sizes:?}");
}
