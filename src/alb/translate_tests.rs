//! Unit tests for the SDK <-> domain translation.

use super::*;

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

#[test]
fn a_targets_zone_survives_the_round_trip_through_the_sdk() {
    let d = sdk::TargetHealthDescription::builder()
        .target(
            sdk::TargetDescription::builder()
                .id("192.168.9.4")
                .port(8080)
                .availability_zone("all")
                .build(),
        )
        .target_health(
            sdk::TargetHealth::builder()
                .state(sdk::TargetHealthStateEnum::Unused)
                .reason(sdk::TargetHealthReasonEnum::NotInUse)
                .build(),
        )
        .build();
    let h = target_health_from_sdk(&d).unwrap();
    assert_eq!(h.target.az.as_deref(), Some("all"));
    assert_eq!(h.reason.as_deref(), Some("Target.NotInUse"));
    let back = target_to_sdk(&h.target);
    assert_eq!(back.availability_zone(), Some("all"));
    assert_eq!((back.id(), back.port()), (Some("192.168.9.4"), Some(8080)));
}
