//! HTTPS listeners and authenticate steps through the real adapter against
//! the emulator: certificates, SSL policy, port and protocol are untouched by
//! a forward write; authenticate-oidc/-cognito steps before the forward keep
//! their Order and config (the OIDC secret is never read back, and kept);
//! preflight accepts such routes; a redirect route is never overwritten.

use crate::route_shapes::*;
use crate::support::*;
use alb_rollout::alb::aws::AwsLoadBalancer;
use alb_rollout::alb::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{
    Action, ActionTypeEnum, AuthenticateCognitoActionConfig, AuthenticateOidcActionConfig,
    Certificate, PathPatternConditionConfig, ProtocolEnum, RedirectActionConfig,
    RedirectActionStatusCodeEnum, RuleCondition,
};

/// An ACM certificate in the emulator (the Rust SDK for ACM is not a
/// dependency, so one awsJson call by hand).
pub fn acm_certificate(emu: &Emulator) -> String {
    let auth = "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/acm/aws4_request, SignedHeaders=host, Signature=00";
    let (status, _, body) = http(
        "POST",
        &format!("{}/", emu.endpoint),
        Some(r#"{"DomainName":"shop.example.com"}"#),
        &[
            ("X-Amz-Target", "CertificateManager.RequestCertificate"),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Authorization", auth),
        ],
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["CertificateArn"].as_str().unwrap().to_string()
}

pub fn oidc(order: i32) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::AuthenticateOidc)
        .order(order)
        .authenticate_oidc_config(
            AuthenticateOidcActionConfig::builder()
                .issuer("https://idp.example.com")
                .authorization_endpoint("https://idp.example.com/authorize")
                .token_endpoint("https://idp.example.com/token")
                .user_info_endpoint("https://idp.example.com/userinfo")
                .client_id("shop")
                .client_secret("s3cret")
                .scope("openid email")
                .session_timeout(3600)
                .authentication_request_extra_params("prompt", "login")
                .build(),
        )
        .build()
}

fn cognito(order: i32) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::AuthenticateCognito)
        .order(order)
        .authenticate_cognito_config(
            AuthenticateCognitoActionConfig::builder()
                .user_pool_arn("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc")
                .user_pool_client_id("client")
                .user_pool_domain("shop-auth")
                .build(),
        )
        .build()
}

pub fn ordered(mut a: Action, order: i32) -> Action {
    a.order = Some(order);
    a
}

pub async fn https_listener(client: &elbv2::Client, d: &Demo, cert: &str) -> String {
    let sticky_blue = config(&[(&d.blue, 1)], Some((true, Some(900))));
    let out = client
        .create_listener()
        .load_balancer_arn(&d.load_balancer)
        .protocol(ProtocolEnum::Https)
        .port(443)
        .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
        .certificates(Certificate::builder().certificate_arn(cert).build())
        .default_actions(oidc(1))
        .default_actions(ordered(sticky_blue, 2))
        .send()
        .await
        .expect("create HTTPS listener");
    out.listeners()[0].listener_arn().unwrap().to_string()
}

#[tokio::test]
async fn an_https_listener_with_oidc_keeps_certificates_and_auth_through_a_canary() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let cfg = emu.sdk_config().await;
    let (client, lb) = (elbv2::Client::new(&cfg), AwsLoadBalancer::new(&cfg));
    let cert = acm_certificate(&emu);
    let listener = https_listener(&client, &d, &cert).await;
    let l = lb.listener(&listener).await.unwrap();
    assert_eq!(
        l.leading,
        vec![LeadingAction {
            action_type: "authenticate-oidc".into(),
            order: Some(1)
        }]
    );
    let before = describe_listener(&client, &listener).await;
    assert_eq!(
        before.default_actions()[0]
            .authenticate_oidc_config()
            .unwrap()
            .client_secret(),
        None
    );
    let route = RouteRef::new(&listener, None);
    let original = shift_and_restore(&lb, &route, &d.blue, &d.green).await;
    assert!(original.stickiness.enabled, "one-group stickiness kept");
    let after = describe_listener(&client, &listener).await;
    assert_eq!(
        after, before,
        "certificates, SSL policy, port, protocol and auth unchanged"
    );
    assert_eq!(
        after.certificates()[0].certificate_arn(),
        Some(cert.as_str())
    );
    let text = emu.run(&["status", "--listener", &listener]);
    assert!(
        text.stdout
            .contains("authenticate-oidc -> forward demo-blue 1 (100.0%)  sticky 900s"),
        "{}",
        text.stdout
    );
    // Preflight accepts the route: a dry run plans and changes nothing.
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
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_rule_with_cognito_before_the_forward_is_shifted_and_restored() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let cfg = emu.sdk_config().await;
    let (client, lb) = (elbv2::Client::new(&cfg), AwsLoadBalancer::new(&cfg));
    let cert = acm_certificate(&emu);
    let listener = https_listener(&client, &d, &cert).await;
    let path = RuleCondition::builder()
        .field("path-pattern")
        .path_pattern_config(
            PathPatternConditionConfig::builder()
                .values("/shop/*")
                .build(),
        )
        .build();
    let out = client
        .create_rule()
        .listener_arn(&listener)
        .priority(5)
        .conditions(path)
        .actions(ordered(plain(&d.blue), 3))
        .actions(cognito(1))
        .send()
        .await
        .unwrap();
    let rule = out.rules()[0].rule_arn().unwrap().to_string();
    let before = describe_rules(&client, &listener).await;
    shift_and_restore(
        &lb,
        &RouteRef::new(&listener, Some(&rule)),
        &d.blue,
        &d.green,
    )
    .await;
    assert_eq!(describe_rules(&client, &listener).await, before);
}

#[tokio::test]
async fn a_redirect_route_is_never_overwritten_by_a_forward_write() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let cfg = emu.sdk_config().await;
    let (client, lb) = (elbv2::Client::new(&cfg), AwsLoadBalancer::new(&cfg));
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
    client
        .modify_listener()
        .listener_arn(&d.listener)
        .default_actions(redirect)
        .send()
        .await
        .unwrap();
    let before = describe_listener(&client, &d.listener).await;
    let e = lb
        .write_forward(&RouteRef::new(&d.listener, None), &Forward::single(&d.blue))
        .await
        .unwrap_err();
    assert_eq!(e.kind, AlbErrorKind::Invalid, "{e}");
    assert!(
        e.to_string().contains("redirect") && e.to_string().contains(&d.listener),
        "{e}"
    );
    assert_eq!(describe_listener(&client, &d.listener).await, before);
}
