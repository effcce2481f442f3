//! A service's first deploy: green is registered but no listener or rule
//! forwards to it, so AWS (and the emulator) does not health-check it and
//! its targets read `unused` (`Target.NotInUse`). The run attaches green at
//! weight 0 first, and a revert takes the weight-0 entry away again.

use crate::canary::{canary_args, default_action};
use crate::route_shapes::describe_listener;
use crate::support::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use std::time::Duration;

async fn green_state(emu: &Emulator, green: &str) -> (String, String) {
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let out = client
        .describe_target_health()
        .target_group_arn(green)
        .send()
        .await
        .unwrap();
    let h = out.target_health_descriptions()[0].target_health().unwrap();
    (
        h.state().unwrap().as_str().to_string(),
        h.reason()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
    )
}

#[tokio::test]
async fn status_names_a_fresh_green_unused_and_why() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let r = emu.run(&["status", "--target-group", &d.green]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("unused"), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "no listener or rule of any load balancer forwards to it; AWS does not health-check it"
        ),
        "{}",
        r.stdout
    );
    let json = emu
        .run(&["status", "--target-group", &d.green, "--output", "json"])
        .json();
    assert_eq!(
        json["target_group"]["targets"][0]["reason"],
        "Target.NotInUse"
    );
}

#[tokio::test]
async fn a_fresh_green_is_attached_at_weight_zero_then_canaried_and_promoted() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    assert_eq!(
        green_state(&emu, &d.green).await,
        ("unused".to_string(), "Target.NotInUse".to_string())
    );
    emu.clear_calls();
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 40, Duration::from_secs(60));
    let r = emu.run(&canary_args(&d, "50:4s,100"));
    let counts = traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("green attached at weight 0"),
        "{}",
        r.stdout
    );
    let writes: Vec<String> = (emu.mutating_calls().into_iter())
        .filter(|c| c != "AddTags")
        .collect();
    assert_eq!(
        writes,
        [
            "ModifyListener",
            "ModifyListener",
            "ModifyListener",
            "ModifyListener",
            "RemoveTags"
        ],
        "the attach, 50%, 100%, the promotion, the record"
    );
    let action = default_action(&emu, &d);
    assert_eq!(action["shape"], "weighted", "{action}");
    assert_eq!(counts.failed(), 0, "no request failed: {counts:?}");
    assert!(counts.get("v2/200") > 0, "green served: {counts:?}");
}

#[tokio::test]
async fn a_fresh_green_that_fails_is_reverted_to_the_original_field_for_field() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "1.0"]);
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let before = describe_listener(&client, &d.listener).await;
    let r = emu.run(&canary_args(&d, "50:30s,100"));
    assert_eq!(r.code, 1, "{r:?}");
    let after = describe_listener(&client, &d.listener).await;
    assert_eq!(
        after.default_actions(),
        before.default_actions(),
        "the original, field for field: no weight-0 entry for green left"
    );
    // Nothing forwards to green again: AWS stops checking it.
    assert_eq!(
        green_state(&emu, &d.green).await,
        ("unused".to_string(), "Target.NotInUse".to_string())
    );
}

#[tokio::test]
async fn a_fresh_green_is_switched_to_by_blue_green_after_its_attach() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let r = emu.run(&[
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
        "--final-route",
        "green-only",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let action = default_action(&emu, &d);
    assert_eq!(action["shape"], "single", "green only: {action}");
    assert_eq!(action["groups"][0]["target_group_arn"], d.green.as_str());
    let modify = (emu.mutating_calls().iter())
        .filter(|c| *c == "ModifyListener")
        .count();
    assert_eq!(modify, 3, "the attach, the switch, the promotion");
}
