//! Unit tests for the SDK <-> domain translation.

use super::*;

#[test]
fn conditions_round_trip() {
    for c in [
        Condition {
            field: "http-header".into(),
            key: Some("Cookie".into()),
            values: vec!["*canary=1*".into()],
            ..Default::default()
        },
        Condition {
            field: "query-string".into(),
            key: None,
            values: vec!["variant=b".into(), "beta".into()],
            ..Default::default()
        },
        Condition {
            field: "source-ip".into(),
            key: None,
            values: vec!["10.0.0.0/8".into()],
            ..Default::default()
        },
        Condition {
            field: "path-pattern".into(),
            key: None,
            values: vec!["/api/*".into()],
            ..Default::default()
        },
    ] {
        assert_eq!(condition_from_sdk(&condition_to_sdk(&c)), c);
    }
}

#[test]
fn regex_values_are_read_from_each_fields_config_and_written_back() {
    for c in [
        Condition {
            field: "host-header".into(),
            regex_values: vec!["^api-[0-9]+\\.example\\.com$".into()],
            ..Default::default()
        },
        Condition {
            field: "path-pattern".into(),
            values: vec!["/v1/*".into()],
            regex_values: vec!["^/v[2-9]/.*$".into()],
            ..Default::default()
        },
        Condition {
            field: "http-header".into(),
            key: Some("User-Agent".into()),
            regex_values: vec!["(?i)mobile".into()],
            ..Default::default()
        },
        Condition {
            field: "http-request-method".into(),
            values: vec!["POST".into()],
            ..Default::default()
        },
    ] {
        assert_eq!(condition_from_sdk(&condition_to_sdk(&c)), c);
    }
    let sent = condition_to_sdk(&Condition {
        field: "path-pattern".into(),
        regex_values: vec!["^/a$".into()],
        ..Default::default()
    });
    let cfg = sent.path_pattern_config().expect("config");
    assert_eq!(cfg.regex_values(), ["^/a$"]);
    assert!(cfg.values.is_none(), "no empty Values next to RegexValues");
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
