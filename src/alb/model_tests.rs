//! Unit tests for the domain value types.

use super::*;

fn fwd(groups: &[(&str, u16)]) -> Forward {
    Forward::weighted(groups)
}

#[test]
fn percent_is_share_of_total_weight() {
    let f = fwd(&[("b", 950), ("g", 50)]);
    assert!((f.percent_of("g") - 5.0).abs() < 1e-9);
    assert_eq!(f.percent_of("missing"), 0.0);
    assert_eq!(fwd(&[("b", 0), ("g", 0)]).percent_of("g"), 0.0);
}

#[test]
fn same_routing_ignores_group_order_only() {
    assert!(fwd(&[("a", 1), ("b", 2)]).same_routing(&fwd(&[("b", 2), ("a", 1)])));
    assert!(!fwd(&[("a", 1), ("b", 2)]).same_routing(&fwd(&[("a", 2), ("b", 1)])));
    // A plain forward and a one-group weight-1 config have the same echo.
    assert!(Forward::single("a").same_routing(&fwd(&[("a", 1)])));
    // Everything else is a real difference a read-back must not hide.
    assert!(!Forward::single("a").same_routing(&fwd(&[("a", 999)])));
    assert!(!fwd(&[("a", 999), ("b", 0)]).same_routing(&fwd(&[("a", 999)])));
    let mut sticky = Forward::single("a");
    sticky.shape = ForwardShape::Weighted;
    sticky.stickiness = Stickiness {
        enabled: true,
        duration_seconds: Some(300),
    };
    assert!(!sticky.same_routing(&Forward::single("a")));
    let mut longer = sticky.clone();
    longer.stickiness.duration_seconds = Some(600);
    assert!(!sticky.same_routing(&longer));
    let mut off_with_duration = Forward::single("a");
    off_with_duration.stickiness.duration_seconds = Some(60);
    assert!(!off_with_duration.same_routing(&Forward::single("a")));
}

#[test]
fn arn_resource_takes_the_useful_suffix() {
    let tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/abc";
    assert_eq!(arn_resource(tg), "targetgroup/blue/abc");
    let lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/123";
    assert_eq!(arn_resource(lb), "app/web/123");
}

#[test]
fn health_counts_group_states() {
    let t = |s| TargetHealth {
        target: Target {
            id: "i".into(),
            port: None,
            az: None,
        },
        state: s,
        reason: None,
    };
    let c = HealthCounts::of(&[
        t(HealthState::Healthy),
        t(HealthState::Healthy),
        t(HealthState::Draining),
        t(HealthState::Unhealthy),
    ]);
    assert_eq!((c.healthy, c.unhealthy, c.draining), (2, 1, 1));
    assert_eq!(c.serving_total(), 3);
    assert_eq!(c.to_string(), "2 healthy, 1 unhealthy, 1 draining");
}
