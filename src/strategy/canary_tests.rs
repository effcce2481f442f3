//! The canary planner's weights and forwards.

use super::*;
use crate::plan::parse_steps;

#[test]
fn weights_are_exact_at_every_tenth() {
    for t in 0..=1000u16 {
        let (b, g) = weights_for(Tenths(t));
        assert!(b <= MAX_WEIGHT && g <= MAX_WEIGHT);
        let share = f64::from(g) * 1000.0 / f64::from(b + g);
        assert!((share - f64::from(t)).abs() < 1e-9, "t={t} b={b} g={g}");
    }
}

fn input<'a>(original: &'a Forward, steps: &'a [Step], final_route: FinalRoute) -> CanaryInput<'a> {
    CanaryInput {
        original,
        blue: "blue",
        green: "green",
        steps,
        default_bake: Duration::from_secs(30),
        stickiness: None,
        final_route,
    }
}

#[test]
fn plans_each_step_from_a_single_forward() {
    let original = Forward::single("blue");
    let steps = parse_steps("0.1:1m,25,100").unwrap();
    let p = plan(&input(&original, &steps, FinalRoute::KeepBlue));
    assert_eq!(p.steps.len(), 3);
    assert_eq!(p.steps[0].forward.weight_of("blue"), Some(999));
    assert_eq!(p.steps[0].forward.weight_of("green"), Some(1));
    assert_eq!(p.steps[0].bake, Duration::from_secs(60));
    assert_eq!(p.steps[1].bake, Duration::from_secs(30), "default bake");
    assert_eq!(
        p.steps[2].bake,
        Duration::ZERO,
        "no hold at 100% unless asked"
    );
    assert_eq!(p.promoted.weight_of("blue"), Some(0));
    assert_eq!(p.promoted.percent_of("green"), 100.0);
    assert_eq!(
        p.original, original,
        "revert target is the untouched original"
    );
}

#[test]
fn green_only_promotes_to_a_plain_forward() {
    let original = Forward::single("blue");
    let steps = parse_steps("50,100").unwrap();
    let p = plan(&input(&original, &steps, FinalRoute::GreenOnly));
    assert_eq!(p.promoted, Forward::single("green"));
}

#[test]
fn keeps_zero_weight_bystanders_and_replaces_stale_green() {
    let original = Forward {
        groups: vec![
            WeightedGroup {
                target_group_arn: "old".into(),
                weight: 0,
            },
            WeightedGroup {
                target_group_arn: "blue".into(),
                weight: 999,
            },
            WeightedGroup {
                target_group_arn: "green".into(),
                weight: 0,
            },
        ],
        stickiness: Stickiness {
            enabled: true,
            duration_seconds: Some(60),
        },
        shape: ForwardShape::Weighted,
    };
    let f = forward_at(&original, "blue", "green", Tenths(100), original.stickiness);
    assert_eq!(f.groups.len(), 3);
    assert_eq!(f.weight_of("old"), Some(0));
    assert_eq!(f.weight_of("blue"), Some(900));
    assert_eq!(f.weight_of("green"), Some(100));
    assert!(f.stickiness.enabled);
}

#[test]
fn stickiness_flag_overrides_during_steps_only() {
    let original = Forward::single("blue");
    let steps = parse_steps("50,100").unwrap();
    let mut i = input(&original, &steps, FinalRoute::KeepBlue);
    i.stickiness = Some(Duration::from_secs(600));
    let p = plan(&i);
    assert_eq!(p.steps[0].forward.stickiness.duration_seconds, Some(600));
    assert!(!p.promoted.stickiness.enabled);
}
