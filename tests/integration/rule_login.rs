//! Rules alb-rollout creates keep the login of the route they split, on the
//! emulator: a rule created on an OIDC listener carries the login before its
//! forward (read back with DescribeRules, the secret never returned);
//! without ALB_ROLLOUT_OIDC_CLIENT_SECRET `ab` and `dark` are refused at
//! preflight (exit 2, no mutating call) and the secret is never printed; a
//! JWT-protected route is deployable and its rules carry the validation.

use crate::route_auth::{acm_certificate, https_listener};
use crate::route_shapes::{describe_rules, plain};
use crate::support::*;
use alb_rollout::alb::aws::AwsLoadBalancer;
use alb_rollout::alb::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{Action, ActionTypeEnum, JwtValidationActionConfig, ProtocolEnum};

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
        let (code, all) = finished(
            emu.cmd(&[
                "ab",
                "--listener",
                &listener,
                "--green",
                &d.green,
                "--match",
                "header:X-Variant=b",
            ])
            .args(["--duration", "1m", "--dry-run", "-vv", "--output", output])
            .env("ALB_ROLLOUT_OIDC_CLIENT_SECRET", SECRET),
        );
        assert_eq!(code, Some(0), "{all}");
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

/// Run `cmd` to its end: its exit code, and stdout then stderr.
fn finished(cmd: &mut std::process::Command) -> (Option<i32>, String) {
    let out = cmd.output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), all)
}

/// One request through the data plane at `url`: its status, and the
/// version that answered or where it was sent to log in.
fn through(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let (status, head, _) = http("GET", &format!("{url}/"), None, headers).unwrap();
    let field = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(": ")?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    let what = field("x-app-version").or_else(|| field("location"));
    (status, what.unwrap_or_default())
}

#[tokio::test]
async fn a_dark_rule_on_an_oidc_listener_sends_a_request_without_a_session_to_log_in_not_to_green()
{
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let listener = https_listener(&client, &d, &acm_certificate(&emu)).await;
    let probe = format!("{}/", d.listener_url);
    let (code, all) = finished(
        emu.cmd(&[
            "dark",
            "--listener",
            &listener,
            "--green",
            &d.green,
            "--match",
            "header:X-Variant=b",
            "--probe",
            &probe,
            "--interval",
            "2s",
            "--duration",
            "4s",
            "--keep",
        ])
        .env("ALB_ROLLOUT_OIDC_CLIENT_SECRET", SECRET),
    );
    assert_eq!(code, Some(0), "{all}");
    emu.wait_propagated();
    let url = emu.listener_url(&listener);
    let session = ("Cookie", "AWSELBAuthSessionCookie-0=signed-in");
    assert_eq!(
        through(&url, &[("X-Variant", "b")]),
        (302, "https://idp.example.com/authorize".to_string()),
        "the segment's request with no session logs in first, as the listener's own do"
    );
    assert_eq!(
        through(&url, &[]),
        (302, "https://idp.example.com/authorize".to_string())
    );
    assert_eq!(
        through(&url, &[("X-Variant", "b"), session]),
        (200, "v2".to_string()),
        "a logged-in request of the segment reaches green"
    );
    assert_eq!(
        through(&url, &[session]),
        (200, "v1".to_string()),
        "everyone else stays on blue"
    );
}
