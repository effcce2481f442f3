//! The preview (`--preview-header`) in the canary's plan: the rule and its
//! hold come after green is healthy and before any public traffic, and a
//! failure during the preview is undone by deleting the rule alone.

use super::*;
use crate::alb::Condition;
use crate::plan::parse_steps;

fn preview() -> Preview {
    Preview {
        shadow: None,
        rule: RuleSpec {
            listener_arn: "arn:listener".into(),
            priority: 1,
            conditions: vec![Condition {
                field: "http-header".into(),
                key: Some("X-Preview".into()),
                values: vec!["1".into()],
                ..Default::default()
            }],
            forward: Forward::single("arn:green"),
            carry: Default::default(),
        },
        duration: Duration::from_secs(60),
    }
}

fn canary() -> CanaryPlan {
    let steps = parse_steps("10,100").unwrap();
    plan(&CanaryInput {
        original: &Forward::single("arn:blue"),
        blue: "arn:blue",
        green: "arn:green",
        steps: &steps,
        default_bake: Duration::from_secs(30),
        stickiness: None,
        final_route: FinalRoute::KeepBlue,
    })
    .with_preview(Some(preview()))
}

fn kind(a: &Action) -> &'static str {
    match a {
        Action::Record => "record",
        Action::AwaitHealthy { .. } => "healthy",
        Action::CreateRule(_) => "create-rule",
        Action::DeleteRule(_) => "delete-rule",
        Action::Bake(b) if !b.public_traffic() => "preview",
        Action::Bake(_) => "bake",
        Action::WriteRoute(_) => "write",
        Action::Unrecord => "unrecord",
        _ => "other",
    }
}

/// The steps (10%, 100%) each write and hold; the promotion writes last.
/// The steps (10%, 100%) each write and hold; the promotion writes last.
#[test]
fn the_preview_comes_before_any_public_traffic() {
    let p = canary().actions(&[]);
    let kinds: Vec<&str> = p.actions.iter().map(kind).collect();
    assert_eq!(
        kinds,
        [
            "record",
            "healthy",
            "create-rule",
            "preview",
            "delete-rule",
            "write",
            "bake",
            "write",
            "bake",
            "write",
            "unrecord"
        ]
    );
}

#[test]
fn a_failed_preview_deletes_its_rule_and_never_touches_the_route() {
    let p = canary().actions(&[]);
    // Failed during the preview's hold: record, health and the rule applied.
    let blue = [crate::alb::Target::new("10.0.1.1", None)];
    let revert = crate::engine::sim::route_revert(&p, 2, true, &blue);
    assert!(
        matches!(
            revert.as_slice(),
            [crate::engine::converge::Step::DeleteRule(_)]
        ),
        "{revert:?}"
    );
}

#[test]
fn blue_green_previews_before_its_switch_too() {
    let bg = crate::strategy::blue_green::plan(&crate::strategy::blue_green::BlueGreenInput {
        original: &Forward::single("arn:blue"),
        blue: "arn:blue",
        green: "arn:green",
        bake: Duration::from_secs(60),
        keep_blue: Duration::ZERO,
        final_route: FinalRoute::KeepBlue,
    })
    .with_preview(Some(preview()));
    let kinds: Vec<&str> = bg.actions(&[]).actions.iter().map(kind).collect();
    assert_eq!(&kinds[2..5], ["create-rule", "preview", "delete-rule"]);
}
