//! Bad input ends with exit code 2, every culprit named, and zero mutating
//! calls in the emulator's log; `--dry-run` plans without changing anything.

use crate::support::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{
    Action, ActionTypeEnum, ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum,
};

async fn redirect_listener(emu: &Emulator, d: &Demo) -> String {
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let redirect = Action::builder()
        .r#type(ActionTypeEnum::Redirect)
        .redirect_config(
            RedirectActionConfig::builder()
                .protocol("HTTPS")
                .port("443")
                .status_code(RedirectActionStatusCodeEnum::Http301)
                .build(),
        )
        .build();
    let out = client
        .create_listener()
        .load_balancer_arn(&d.load_balancer)
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .default_actions(redirect)
        .send()
        .await
        .expect("create listener");
    out.listeners()[0].listener_arn().unwrap().to_string()
}

#[tokio::test]
async fn a_redirect_default_action_is_refused_by_name_with_no_change() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let listener = redirect_listener(&emu, &d).await;
    emu.clear_calls();
    let r = emu.run(&[
        "canary",
        "--listener",
        &listener,
        "--blue",
        "demo-blue",
        "--green",
        "demo-green",
        "--steps",
        "10,100",
        "--dry-run",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&listener) && r.stderr.contains("redirect"),
        "{}",
        r.stderr
    );
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
    // Without --dry-run too: preflight runs before any mutation.
    let r = emu.run(&[
        "canary",
        "--listener",
        &listener,
        "--blue",
        "demo-blue",
        "--green",
        "demo-green",
        "--steps",
        "10,100",
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn every_bad_input_is_reported_at_once() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let r = emu.run(&[
        "canary",
        "--listener",
        &d.listener,
        "--blue",
        "demo-blue",
        "--green",
        "no-such-green",
        "--steps",
        "50,20",
        "--interval",
        "soon",
        "--max-error-rate",
        "150%",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    for culprit in [
        "--green no-such-green",
        "--steps",
        "--interval",
        "--max-error-rate",
    ] {
        assert!(
            r.stderr.contains(&format!("error: {culprit}")),
            "missing {culprit}: {}",
            r.stderr
        );
    }
    assert!(r.stderr.contains("nothing was changed"));
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

/// `--min-requests 0` and a bare `--max-error-rate 1` would switch the
/// error-rate check off; both are refused, the config file's too.
#[tokio::test]
async fn thresholds_that_switch_the_check_off_are_refused() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let route = crate::canary::canary_route(&d, "50,100");
    let mut a = route.clone();
    a.extend(["--min-requests", "0", "--max-error-rate", "1"]);
    let r = emu.run(&a);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("error: --min-requests: 0 would judge"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("error: --max-error-rate: ")
            && r.stderr
                .contains("write 1% for a percentage, or 0.01 as a fraction"),
        "{}",
        r.stderr
    );
    let file = std::env::temp_dir().join(format!("alb-rollout-{}.toml", std::process::id()));
    std::fs::write(&file, "max-error-rate = \"100%\"\n").unwrap();
    let mut a = route;
    a.extend(["--config", file.to_str().unwrap(), "--output", "json"]);
    let r = emu.run(&a);
    let _ = std::fs::remove_file(&file);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        r.json()["errors"][0]["culprit"],
        "max-error-rate in the --config file"
    );
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn wrong_blue_and_foreign_rule_are_named() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let r = emu.run(&[
        "canary",
        "--listener",
        &d.listener,
        "--blue",
        "demo-green",
        "--green",
        "demo-blue",
        "--steps",
        "100",
        "--register",
        "i-0abc",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--blue demo-green: is not in the default action"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("error: --register i-0abc: does not fit green's target type ip"),
        "{}",
        r.stderr
    );
    let rule = format!(
        "{}/999",
        d.listener.replace(":listener/", ":listener-rule/")
    );
    let r = emu.run(&[
        "canary",
        "--listener",
        &d.listener,
        "--rule",
        &rule,
        "--blue",
        "demo-blue",
        "--green",
        "demo-green",
        "--steps",
        "100",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(&format!("--rule {rule}")), "{}", r.stderr);
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn missing_credentials_are_input_errors() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let out = emu
        .cmd(&[
            "canary",
            "--listener",
            &d.listener,
            "--blue",
            "demo-blue",
            "--green",
            "demo-green",
            "--steps",
            "100",
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .unwrap();
    let r = Run::from(out);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("error: credentials"), "{}", r.stderr);
    assert!(
        emu.calls().is_empty(),
        "no AWS call at all without credentials"
    );
}

#[tokio::test]
async fn dry_run_prints_the_exact_calls_and_changes_nothing() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let r = emu.run(&[
        "canary",
        "--listener",
        &d.listener,
        "--blue",
        &d.blue,
        "--green",
        "demo-green",
        "--steps",
        "0.5:1m,50:2m,100",
        "--dry-run",
        "--output",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let plan = r.json();
    let calls: Vec<&str> = plan["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        calls,
        vec![
            "DescribeTags",
            "AddTags",
            "DescribeTags",
            "DescribeListeners",
            "ModifyListener",
            "wait",
            "DescribeListeners",
            "DescribeTargetHealth",
            "ModifyListener",
            "AddTags",
            "analyse",
            "DescribeListeners",
            "DescribeTargetHealth",
            "ModifyListener",
            "AddTags",
            "analyse",
            "DescribeListeners",
            "DescribeTargetHealth",
            "ModifyListener",
            "AddTags",
            "DescribeListeners",
            "AddTags",
            "ModifyListener",
            "AddTags",
            "RemoveTags"
        ]
    );
    assert!(
        plan["calls"][8]["detail"]
            .as_str()
            .unwrap()
            .contains("demo-blue/")
            && plan["calls"][8]["detail"]
                .as_str()
                .unwrap()
                .contains("=995")
    );
    assert_eq!(plan["on_failure"][0]["action"], "ModifyListener");
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
    let text = emu.run(&[
        "canary",
        "--listener",
        &d.listener,
        "--blue",
        "demo-blue",
        "--green",
        "demo-green",
        "--steps",
        "10,100",
        "--dry-run",
    ]);
    assert!(
        text.stdout
            .starts_with("dry run: preflight passed, nothing was changed"),
        "{}",
        text.stdout
    );
}
