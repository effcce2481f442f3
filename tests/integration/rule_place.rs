//! Where the rules alb-rollout creates go, on the emulator with real
//! requests through its data plane: a dark rule splitting the default
//! action goes after every other rule, so an `/admin/*` request with its
//! header still reaches the admin rule's group; the preview of a `--rule`
//! canary carries that rule's conditions just before it; a low `--priority`
//! is kept with a warning; `RegexValues` conditions are shown and matched.

use crate::route_shapes::{describe_rules, plain};
use crate::support::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{PathPatternConditionConfig, RuleCondition};

/// One request through the load balancer: the version that answered.
fn version(d: &Demo, path: &str, headers: &[(&str, &str)]) -> String {
    let (_, head, _) = http("GET", &format!("{}{path}", d.listener_url), None, headers).unwrap();
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(": ")?;
            k.eq_ignore_ascii_case("x-app-version")
                .then(|| v.to_string())
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_dark_rule_on_the_default_action_goes_after_every_rule_so_admin_keeps_its_requests() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let admin = RuleCondition::builder()
        .field("path-pattern")
        .path_pattern_config(
            PathPatternConditionConfig::builder()
                .values("/admin/*")
                .build(),
        )
        .build();
    client
        .create_rule()
        .listener_arn(&d.listener)
        .priority(10)
        .conditions(admin)
        .actions(plain(&d.blue))
        .send()
        .await
        .unwrap();
    let probe = format!("{}/", d.listener_url);
    let r = emu.run(&[
        "dark",
        "--listener",
        &d.listener,
        "--green",
        &d.green,
        "--match",
        "header:X-Preview=1",
        "--probe",
        &probe,
        "--interval",
        "2s",
        "--duration",
        "4s",
        "--keep",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let rules = describe_rules(&client, &d.listener).await;
    let priorities: Vec<_> = rules.iter().filter_map(|r| r.priority()).collect();
    assert!(priorities.contains(&"50000"), "{priorities:?}");
    emu.wait_propagated();
    let h = [("X-Preview", "1")];
    assert_eq!(version(&d, "/", &h), "v2", "the header reaches green");
    assert_eq!(
        version(&d, "/admin/x", &h),
        "v1",
        "the admin rule keeps /admin/* with the header"
    );
    assert_eq!(version(&d, "/", &[]), "v1");
}

/// The preview of a `--rule` canary splits that rule's traffic only: it
/// carries the rule's conditions with its header, just before the rule
/// (the highest free priority below it), and with no free priority below
/// the rule the run is refused at preflight naming it.
#[tokio::test]
async fn the_preview_of_a_rule_canary_carries_its_conditions_just_before_it() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let api = |p: i32| {
        let cond = RuleCondition::builder()
            .field("path-pattern")
            .path_pattern_config(
                PathPatternConditionConfig::builder()
                    .values(if p == 1 { "/x/*" } else { "/api/*" })
                    .build(),
            )
            .build();
        client
            .create_rule()
            .listener_arn(&d.listener)
            .priority(p)
            .conditions(cond)
            .actions(plain(&d.blue))
            .send()
    };
    let rule = api(10).await.unwrap().rules()[0]
        .rule_arn()
        .unwrap()
        .to_string();
    api(9).await.unwrap();
    let probe = format!("{}/api/", d.listener_url);
    let args = |rule: &str| -> Vec<String> {
        [
            "canary",
            "--listener",
            &d.listener,
            "--rule",
            rule,
            "--blue",
            &d.blue,
            "--green",
            &d.green,
            "--steps",
            "50,100",
            "--probe",
            &probe,
            "--preview-header",
            "X-Preview=1",
            "--dry-run",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let a = args(&rule);
    let r = emu.run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("the rule at priority 8 when path:/api/* AND header:X-Preview=1"),
        "{}",
        r.stdout
    );
    let first = api(1).await.unwrap().rules()[0]
        .rule_arn()
        .unwrap()
        .to_string();
    emu.clear_calls();
    let a = args(&first);
    let r = emu.run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&first) && r.stderr.contains("no free priority just before"),
        "{}",
        r.stderr
    );
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

/// Conditions with `RegexValues` (ALB regex matching, 2025) are shown as
/// regexes by `status` (text and JSON); the data plane matches them.
#[tokio::test]
async fn status_shows_regex_conditions_and_the_data_plane_matches_them() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let cond = RuleCondition::builder()
        .field("path-pattern")
        .path_pattern_config(
            PathPatternConditionConfig::builder()
                .regex_values("^/v[2-9]/")
                .build(),
        )
        .build();
    client
        .create_rule()
        .listener_arn(&d.listener)
        .priority(4)
        .conditions(cond)
        .actions(plain(&d.green))
        .send()
        .await
        .unwrap();
    let text = emu.run(&["status", "--listener", &d.listener]);
    assert!(
        text.stdout.contains("path-pattern=~^/v[2-9]/"),
        "{}",
        text.stdout
    );
    let json = emu.run(&["status", "--listener", &d.listener, "--output", "json"]);
    assert!(json.stdout.contains("\"regex_values\""), "{}", json.stdout);
    emu.wait_propagated();
    assert_eq!(version(&d, "/v3/x", &[]), "v2");
    assert_eq!(version(&d, "/v1/x", &[]), "v1");
}

/// An explicit `--priority` below other rules is kept (the user's choice),
/// and preflight names the rules it now comes before.
#[tokio::test]
async fn a_low_priority_is_kept_with_a_warning_naming_the_rules_it_shadows() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    crate::ab::foreign_rule(&emu, &d, 10).await;
    let r = emu.run(&[
        "ab",
        "--listener",
        &d.listener,
        "--green",
        &d.green,
        "--match",
        "header:X-Variant=b",
        "--duration",
        "1m",
        "--priority",
        "5",
        "--dry-run",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("warning: the new rule takes priority 5, before these rules")
            && r.stderr.contains("priority 10 (header:X-Team=ops)"),
        "{}",
        r.stderr
    );
    let r = emu.run(&[
        "ab",
        "--listener",
        &d.listener,
        "--green",
        &d.green,
        "--match",
        "header:X-Variant=b",
        "--duration",
        "1m",
        "--dry-run",
    ]);
    assert!(!r.stderr.contains("warning:"), "{}", r.stderr);
}
