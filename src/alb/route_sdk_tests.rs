//! Table tests: every forward shape survives read -> write -> read bit for
//! bit, and authenticate steps before a forward are carried through.

use super::*;

const A: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/1";
const B: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/b/2";
const C: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/c/3";
const D: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/d/4";
const E: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/e/5";

fn sticky(enabled: bool, duration: Option<i32>) -> sdk::TargetGroupStickinessConfig {
    sdk::TargetGroupStickinessConfig::builder()
        .enabled(enabled)
        .set_duration_seconds(duration)
        .build()
}

/// What ELBv2 answers for a forward it accepted (see the module comment of
/// `route_sdk`): every group gets a weight (default 1), the stickiness
/// config is always there (default off), and a one-group forward carries
/// `TargetGroupArn` as well.
fn aws_echo(written: &sdk::Action) -> sdk::Action {
    let groups: Vec<(String, i32)> = match written.forward_config() {
        Some(c) if !c.target_groups().is_empty() => c
            .target_groups()
            .iter()
            .map(|t| {
                (
                    t.target_group_arn().unwrap().to_string(),
                    t.weight().unwrap_or(1),
                )
            })
            .collect(),
        _ => vec![(written.target_group_arn().unwrap().to_string(), 1)],
    };
    let stickiness = written
        .forward_config()
        .and_then(|c| c.target_group_stickiness_config())
        .cloned()
        .unwrap_or_else(|| sticky(false, None));
    echo(written.order(), &groups, stickiness)
}

fn echo(
    order: Option<i32>,
    groups: &[(String, i32)],
    s: sdk::TargetGroupStickinessConfig,
) -> sdk::Action {
    let mut config = sdk::ForwardActionConfig::builder().target_group_stickiness_config(s);
    for (arn, w) in groups {
        config = config.target_groups(
            sdk::TargetGroupTuple::builder()
                .target_group_arn(arn)
                .weight(*w)
                .build(),
        );
    }
    sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Forward)
        .set_order(order)
        .set_target_group_arn((groups.len() == 1).then(|| groups[0].0.clone()))
        .forward_config(config.build())
        .build()
}

fn groups(g: &[(&str, i32)]) -> Vec<(String, i32)> {
    g.iter().map(|(a, w)| (a.to_string(), *w)).collect()
}

/// (name, what AWS echoes for the route, the shape it must read as)
fn shapes() -> Vec<(&'static str, sdk::Action, ForwardShape)> {
    use ForwardShape::*;
    let plain = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Forward)
        .target_group_arn(A)
        .build();
    vec![
        (
            "plain TargetGroupArn (moto/old echo)",
            plain.clone(),
            Single,
        ),
        ("plain TargetGroupArn (AWS echo)", aws_echo(&plain), Single),
        (
            "one group, no stickiness",
            echo(None, &groups(&[(A, 1)]), sticky(false, None)),
            Single,
        ),
        (
            "one group, sticky 3600",
            echo(None, &groups(&[(A, 1)]), sticky(true, Some(3600))),
            Weighted,
        ),
        (
            "one group, off with duration",
            echo(None, &groups(&[(A, 1)]), sticky(false, Some(600))),
            Weighted,
        ),
        (
            "one group, weight 7",
            echo(None, &groups(&[(A, 7)]), sticky(false, None)),
            Weighted,
        ),
        (
            "one group, weight 0",
            echo(None, &groups(&[(A, 0)]), sticky(false, None)),
            Weighted,
        ),
        (
            "two groups, 999/0",
            echo(None, &groups(&[(A, 999), (B, 0)]), sticky(false, None)),
            Weighted,
        ),
        (
            "three groups, zeros, sticky",
            echo(
                Some(1),
                &groups(&[(A, 0), (B, 500), (C, 0)]),
                sticky(true, Some(60)),
            ),
            Weighted,
        ),
        (
            "five groups, zeros",
            echo(
                None,
                &groups(&[(A, 0), (B, 0), (C, 1), (D, 0), (E, 0)]),
                sticky(false, None),
            ),
            Weighted,
        ),
    ]
}

#[test]
fn every_shape_round_trips_bit_for_bit() {
    for (name, original, shape) in shapes() {
        let read = forward_from_sdk(&original);
        assert_eq!(read.shape, shape, "{name}");
        // The adapter's path: the live list with only the forward replaced.
        let list = splice_forward(std::slice::from_ref(&original), &read).unwrap();
        let written = &list[0];
        assert_eq!(
            aws_echo(written),
            aws_echo(&original),
            "{name}: echo differs"
        );
        let again = forward_from_sdk(&aws_echo(written));
        assert_eq!(again, read, "{name}: second read differs");
        assert!(read.same_routing(&again), "{name}");
    }
}

#[test]
fn one_group_stickiness_is_kept_not_read_as_plain() {
    let f = forward_from_sdk(&echo(None, &groups(&[(A, 1)]), sticky(true, Some(900))));
    assert_eq!(
        f.stickiness,
        Stickiness {
            enabled: true,
            duration_seconds: Some(900)
        }
    );
    let w = forward_to_sdk(&f);
    let s = w
        .forward_config()
        .unwrap()
        .target_group_stickiness_config()
        .unwrap();
    assert_eq!((s.enabled(), s.duration_seconds()), (Some(true), Some(900)));
    // The read-back of a write that lost stickiness must not pass.
    assert!(!f.same_routing(&Forward::single(A)));
}

#[test]
fn plain_shape_writes_target_group_arn_only() {
    let a = forward_to_sdk(&Forward::single(B));
    assert_eq!(a.target_group_arn(), Some(B));
    assert!(a.forward_config().is_none());
}

fn oidc(order: i32) -> sdk::Action {
    sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::AuthenticateOidc)
        .order(order)
        .authenticate_oidc_config(
            sdk::AuthenticateOidcActionConfig::builder()
                .issuer("https://idp.example.com")
                .client_id("client")
                .scope("openid email")
                .session_timeout(3600)
                .build(),
        )
        .build()
}

fn cognito(order: i32) -> sdk::Action {
    sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::AuthenticateCognito)
        .order(order)
        .authenticate_cognito_config(
            sdk::AuthenticateCognitoActionConfig::builder()
                .user_pool_arn("arn:aws:cognito-idp:us-east-1:1:userpool/p")
                .user_pool_client_id("c")
                .user_pool_domain("d")
                .build(),
        )
        .build()
}

#[test]
fn authenticate_steps_before_a_forward_are_a_forward_route() {
    let mut fwd = forward_to_sdk(&Forward::single(A));
    fwd.order = Some(3);
    let actions = [fwd, cognito(2), oidc(1)];
    assert_eq!(
        route_action_from_sdk(&actions),
        RouteAction::Forward(Forward::single(A))
    );
    let leading: Vec<_> = leading_from_sdk(&actions)
        .into_iter()
        .map(|l| (l.action_type, l.order))
        .collect();
    assert_eq!(
        leading,
        vec![
            ("authenticate-oidc".to_string(), Some(1)),
            ("authenticate-cognito".to_string(), Some(2))
        ]
    );
}

#[test]
fn splice_replaces_only_the_forward_and_keeps_its_order() {
    let mut fwd = forward_to_sdk(&Forward::single(A));
    fwd.order = Some(2);
    let current = [oidc(1), fwd];
    let want = Forward::weighted(&[(A, 900), (B, 100)]);
    let out = splice_forward(&current, &want).unwrap();
    assert_eq!(out.len(), 2);
    let mut expected_oidc = oidc(1);
    expected_oidc
        .authenticate_oidc_config
        .as_mut()
        .unwrap()
        .use_existing_client_secret = Some(true);
    assert_eq!(
        out[0], expected_oidc,
        "auth step unchanged but for the secret flag"
    );
    assert_eq!(out[1].order(), Some(2));
    assert_eq!(route_action_from_sdk(&out), RouteAction::Forward(want));
    let cog = [cognito(1), forward_to_sdk(&Forward::single(A))];
    assert_eq!(
        splice_forward(&cog, &Forward::single(B)).unwrap()[0],
        cog[0]
    );
}

#[test]
fn redirect_fixed_response_and_unknown_steps_are_named() {
    let redirect = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Redirect)
        .build();
    assert_eq!(
        route_action_from_sdk(std::slice::from_ref(&redirect)).type_name(),
        "redirect"
    );
    let fixed = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::FixedResponse)
        .order(2)
        .build();
    assert_eq!(
        route_action_from_sdk(&[oidc(1), fixed]).type_name(),
        "fixed-response"
    );
    let odd = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::from("future-step"))
        .order(1)
        .build();
    let mut fwd = forward_to_sdk(&Forward::single(A));
    fwd.order = Some(2);
    assert_eq!(
        route_action_from_sdk(&[odd, fwd.clone()]).type_name(),
        "future-step"
    );
    // jwt-validation (ALB, 2025) is a login step the SDK models in full.
    let jwt = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::JwtValidation)
        .order(1)
        .build();
    assert_eq!(route_action_from_sdk(&[jwt, fwd]).type_name(), "forward");
    assert_eq!(route_action_from_sdk(&[]).type_name(), "none");
    let err = splice_forward(&[redirect], &Forward::single(A)).unwrap_err();
    assert!(err.contains("redirect"), "{err}");
}
