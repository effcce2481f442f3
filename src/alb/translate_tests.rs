//! Unit tests for the SDK <-> domain translation.

use super::*;

fn tuple(arn: &str, w: i32) -> sdk::TargetGroupTuple {
    sdk::TargetGroupTuple::builder()
        .target_group_arn(arn)
        .weight(w)
        .build()
}

#[test]
fn plain_forward_is_single() {
    let a = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Forward)
        .target_group_arn("tg-blue")
        .build();
    assert_eq!(
        route_action_from_sdk(&[a]),
        RouteAction::Forward(Forward::single("tg-blue"))
    );
}

#[test]
fn plain_forward_echoed_with_config_stays_single() {
    let a = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Forward)
        .target_group_arn("tg-blue")
        .forward_config(
            sdk::ForwardActionConfig::builder()
                .target_groups(tuple("tg-blue", 1))
                .build(),
        )
        .build();
    let f = route_action_from_sdk(&[a]);
    assert_eq!(f.as_forward().unwrap().shape, ForwardShape::Single);
}

#[test]
fn weighted_forward_keeps_weights_and_stickiness() {
    let a = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Forward)
        .forward_config(
            sdk::ForwardActionConfig::builder()
                .target_groups(tuple("b", 900))
                .target_groups(tuple("g", 100))
                .target_group_stickiness_config(
                    sdk::TargetGroupStickinessConfig::builder()
                        .enabled(true)
                        .duration_seconds(300)
                        .build(),
                )
                .build(),
        )
        .build();
    let f = route_action_from_sdk(&[a]).as_forward().unwrap().clone();
    assert_eq!(f.shape, ForwardShape::Weighted);
    assert_eq!(f.weight_of("b"), Some(900));
    assert_eq!(f.weight_of("g"), Some(100));
    assert_eq!(
        f.stickiness,
        Stickiness {
            enabled: true,
            duration_seconds: Some(300)
        }
    );
    // And back: the SDK action written carries the same split.
    let back = route_action_from_sdk(&[forward_to_sdk(&f)]);
    assert_eq!(back, RouteAction::Forward(f));
}

#[test]
fn redirect_and_authenticate_are_named() {
    let redirect = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Redirect)
        .build();
    assert_eq!(route_action_from_sdk(&[redirect]).type_name(), "redirect");
    let auth = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::AuthenticateOidc)
        .order(1)
        .build();
    let fwd = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Forward)
        .target_group_arn("b")
        .order(2)
        .build();
    assert_eq!(
        route_action_from_sdk(&[fwd, auth]).type_name(),
        "authenticate-oidc"
    );
    assert_eq!(route_action_from_sdk(&[]).type_name(), "none");
}

#[test]
fn single_shape_writes_target_group_arn_only() {
    let a = forward_to_sdk(&Forward::single("b"));
    assert_eq!(a.target_group_arn(), Some("b"));
    assert!(a.forward_config().is_none());
}

#[test]
fn conditions_round_trip() {
    for c in [
        Condition {
            field: "http-header".into(),
            key: Some("Cookie".into()),
            values: vec!["*canary=1*".into()],
        },
        Condition {
            field: "query-string".into(),
            key: None,
            values: vec!["variant=b".into(), "beta".into()],
        },
        Condition {
            field: "source-ip".into(),
            key: None,
            values: vec!["10.0.0.0/8".into()],
        },
        Condition {
            field: "path-pattern".into(),
            key: None,
            values: vec!["/api/*".into()],
        },
    ] {
        assert_eq!(condition_from_sdk(&condition_to_sdk(&c)), c);
    }
}

#[test]
fn health_states_map() {
    assert_eq!(
        health_state_from_sdk(Some(&sdk::TargetHealthStateEnum::Draining)),
        HealthState::Draining
    );
    assert_eq!(health_state_from_sdk(None), HealthState::Unavailable);
    let d = sdk::TargetHealthDescription::builder()
        .target(
            sdk::TargetDescription::builder()
                .id("10.0.0.1")
                .port(80)
                .build(),
        )
        .target_health(
            sdk::TargetHealth::builder()
                .state(sdk::TargetHealthStateEnum::Unhealthy)
                .reason(sdk::TargetHealthReasonEnum::FailedHealthChecks)
                .build(),
        )
        .build();
    let h = target_health_from_sdk(&d).unwrap();
    assert_eq!(h.target.to_string(), "10.0.0.1:80");
    assert_eq!(h.state, HealthState::Unhealthy);
    assert_eq!(h.reason.as_deref(), Some("Target.FailedHealthChecks"));
}
