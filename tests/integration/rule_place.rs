//! The rules alb-rollout creates, on the emulator: behind the same login as
//! the route they split, and evaluated in the right place. A rule created
//! on an OIDC listener carries the login before its forward (read back with
//! DescribeRules, the secret never returned); without
//! ALB_ROLLOUT_OIDC_CLIENT_SECRET `ab` and `dark` are refused at preflight
//! (exit 2, no mutating call) and the secret is never printed; a JWT route
//! is deployable; a dark rule splitting the default action goes after every
//! other rule, so an `/admin/*` request with its header still reaches the
//! admin rule's group through the data plane.

use crate::route_auth::{acm_certificate, https_listener};
use crate::route_shapes::{describe_rules, plain};
use crate::support::*;
use alb_rollout::alb::aws::AwsLoadBalancer;
use alb_rollout::alb::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{Action, ActionTypeEnum, JwtValidationActionConfig, PathPatternConditionConfig};
use elbv2::types::{ProtocolEnum, RuleCondition};

const SECRET: &str = "oidc-client-s3cret-planted";

fn header(name: &str, value: &str) -> Condition {
    Condition {
        field: "http-header".into(),
        key: Some(name.into()),
        values: vec![value.into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_rule_created_on_an_oidc_listener_carries_the_login_before_its_forward() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let cfg = emu.sdk_config().await;
    let client = elbv2::Client::new(&cfg);
    let listener = https_listener(&client, &d, &acm_certificate(&emu)).await;
    let route = RouteRef::new(&listener, None);
    let conditions = [header("X-Variant", "b")];
    let rule = NewRule {
        listener_arn: &listener,
        priority: 50_000,
        conditions: &conditions,
        carry_from: Some(&route),
        forward: &Forward::single(&d.green),
    };
    let bare = AwsLoadBalancer::new(&cfg);
    let e = bare
        .create_rule(&rule, &Default::default())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("ALB_ROLLOUT_OIDC_CLIENT_SECRET"),
        "{e}"
    );
    let lb = AwsLoadBalancer::new(&cfg).with_oidc_client_secret(Some(SECRET.into()));
    let arn = lb.create_rule(&rule, &Default::default()).await.unwrap();
    let read = describe_rules(&client, &listener).await;
    let made = read
        .iter()
        .find(|r| r.rule_arn() == Some(arn.as_str()))
        .unwrap();
    let actions = made.actions();
    assert_eq!(actions.len(), 2, "{made:?}");
    assert_eq!(actions[0].r#type(), Some(&ActionTypeEnum::AuthenticateOidc));
    assert_eq!(actions[0].order(), Some(1));
    let cfg0 = actions[0].authenticate_oidc_config().unwrap();
    assert_eq!(
        (cfg0.client_id(), cfg0.client_secret()),
        (Some("shop"), None)
    );
    assert_eq!(
        cfg0.authentication_request_extra_params().unwrap()["prompt"],
        "login"
    );
    assert_eq!(actions[1].order(), Some(2));
    assert_eq!(actions[1].target_group_arn(), Some(d.green.as_str()));
    let l = lb.rules(&listener).await.unwrap();
    let ours = l.iter().find(|r| r.arn == arn).unwrap();
    assert_eq!(leading_text(&ours.leading), "authenticate-oidc");
}

#[tokio::test]
async fn ab_and_dark_on_an_oidc_listener_without_the_secret_are_refused_with_exit_2() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let listener = https_listener(&client, &d, &acm_certificate(&emu)).await;
    let args = |cmd: &'static str| -> Vec<String> {
        [
            cmd,
            "--listener",
            &listener,
            "--green",
            &d.green,
            "--match",
            "header:X-Variant=b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let probe = format!("{}/", d.listener_url);
    for (cmd, extra) in [("ab", ["--duration", "1m"]), ("dark", ["--probe", &probe])] {
        emu.clear_calls();
        let mut a = args(cmd);
        a.extend(extra.iter().map(|s| s.to_string()));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let r = emu.run(&a);
        assert_eq!(r.code, 2, "{cmd}: {r:?}");
        assert!(
            r.stderr.contains("ALB_ROLLOUT_OIDC_CLIENT_SECRET")
                && r.stderr.contains("authenticate-oidc"),
            "{cmd}: {}",
            r.stderr
        );
        assert_eq!(emu.mutating_calls(), Vec::<String>::new(), "{cmd}");
    }
    // With the secret, the dry run plans the rule after every other rule,
    // behind the login, and the secret is printed nowhere (-vv, JSON too).
    for output in ["text", "json"] {
        let out = emu
            .cmd(&[
                "ab",
                "--listener",
                &listener,
                "--green",
                &d.green,
                "--match",
                "header:X-Variant=b",
            ])
            .args(["--duration", "1m", "--dry-run", "-vv", "--output", output])
            .env("ALB_ROLLOUT_OIDC_CLIENT_SECRET", SECRET)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(!all.contains(SECRET), "the secret leaked:\n{all}");
        assert!(
            all.contains("50000") && all.contains("authenticate-oidc"),
            "{all}"
        );
    }
}

fn jwt(order: i32) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::JwtValidation)
        .order(order)
        .jwt_validation_config(
            JwtValidationActionConfig::builder()
                .jwks_endpoint("https://idp.example.com/.well-known/jwks.json")
                .issuer("https://idp.example.com")
                .build(),
        )
        .build()
}

#[tokio::test]
async fn a_jwt_protected_route_is_shifted_and_its_rules_carry_the_validation() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let cfg = emu.sdk_config().await;
    let client = elbv2::Client::new(&cfg);
    let cert = acm_certificate(&emu);
    let mut fwd = plain(&d.blue);
    fwd.order = Some(2);
    let listener = client
        .create_listener()
        .load_balancer_arn(&d.load_balancer)
        .protocol(ProtocolEnum::Https)
        .port(8443)
        .certificates(
            elbv2::types::Certificate::builder()
                .certificate_arn(&cert)
                .build(),
        )
        .default_actions(jwt(1))
        .default_actions(fwd)
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .listener_arn()
        .unwrap()
        .to_string();
    let lb = AwsLoadBalancer::new(&cfg);
    let route = RouteRef::new(&listener, None);
    let l = lb.listener(&listener).await.unwrap();
    assert!(l.default_action.as_forward().is_some(), "{l:?}");
    let before = client
        .describe_listeners()
        .listener_arns(&listener)
        .send()
        .await
        .unwrap();
    lb.write_forward(&route, &Forward::weighted(&[(&d.blue, 90), (&d.green, 10)]))
        .await
        .unwrap();
    let mid = client
        .describe_listeners()
        .listener_arns(&listener)
        .send()
        .await
        .unwrap();
    assert_eq!(
        mid.listeners()[0].default_actions()[0],
        jwt(1),
        "byte for byte"
    );
    let conditions = [header("X-Variant", "b")];
    let rule = NewRule {
        listener_arn: &listener,
        priority: 50_000,
        conditions: &conditions,
        carry_from: Some(&route),
        forward: &Forward::single(&d.green),
    };
    lb.create_rule(&rule, &Default::default()).await.unwrap();
    let made = describe_rules(&client, &listener).await;
    assert_eq!(made[0].actions()[0], jwt(1), "{made:?}");
    lb.write_forward(&route, &Forward::single(&d.blue))
        .await
        .unwrap();
    let after = client
        .describe_listeners()
        .listener_arns(&listener)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.listeners()[0].default_actions(),
        before.listeners()[0].default_actions()
    );
    // Preflight accepts the route.
    emu.clear_calls();
    let r = emu.run(&[
        "canary",
        "--listener",
        &listener,
        "--blue",
        &d.blue,
        "--green",
        &d.green,
        "--steps",
        "10,100",
        "--dry-run",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

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
