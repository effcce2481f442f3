//! A green that no listener or rule forwards to (AWS does not health-check
//! it) is attached at weight 0 before its health is awaited, and the full
//! deploy with `--final-route green-only` keeps blue at weight 0 until its
//! last batch is gone: table tests of the planner and of the revert the
//! engine derives from a failure at every position.

use super::*;
use crate::engine::converge::Step;
use crate::engine::sim::route_revert;
use crate::plan::parse_steps;
use crate::strategy::blue_green::{self, BlueGreenInput};
use crate::strategy::drain_blue::BlueDrain;

fn kind(a: &Action) -> String {
    match a {
        Action::Record => "record".into(),
        Action::Register { .. } => "register".into(),
        Action::AwaitHealthy { group, .. } => format!("await-healthy {}", group.arn),
        Action::WriteOthers(_) => "write-others".into(),
        Action::WriteRoute(w) => match &w.purpose {
            Purpose::Step { index, .. } => format!("step {}", index + 1),
            Purpose::Promote { .. } => "promote".into(),
            Purpose::Attach => "attach".into(),
            Purpose::Detach => "detach".into(),
        },
        Action::Bake(_) => "bake".into(),
        Action::Deregister { .. } => "deregister".into(),
        Action::AwaitDrained { .. } => "await-drained".into(),
        Action::CreateRule(_) => "create-rule".into(),
        Action::DeleteRule(_) => "delete-rule".into(),
        Action::WriteRule(_) => "write-rule".into(),
        Action::Hook(h) => h.label(),
        Action::Unrecord => "unrecord".into(),
        Action::StartBatch { .. } => "start-batch".into(),
        Action::Deploy(_) => "deploy".into(),
        Action::Shadow(_) => "shadow".into(),
    }
}

fn kinds(p: &Plan) -> Vec<String> {
    p.actions.iter().map(kind).collect()
}

fn canary(final_route: FinalRoute) -> CanaryPlan {
    let original = Forward::single("blue");
    let steps = parse_steps("10,100").unwrap();
    plan(&CanaryInput {
        original: &original,
        blue: "blue",
        green: "green",
        steps: &steps,
        default_bake: Duration::from_secs(30),
        stickiness: None,
        final_route,
    })
}

fn t(id: &str) -> Target {
    Target {
        id: id.into(),
        port: None,
        az: None,
    }
}

#[test]
fn a_green_nothing_forwards_to_is_attached_at_weight_zero_before_its_health_is_awaited() {
    let p = canary(FinalRoute::KeepBlue)
        .with_attach(false)
        .actions(&[t("10.0.0.9")]);
    assert_eq!(
        kinds(&p)[..4],
        ["record", "register", "attach", "await-healthy green"]
    );
    let w = p.actions[2].route_write().unwrap();
    assert_eq!(
        w.from,
        Forward::single("blue"),
        "drift-checked against preflight's read"
    );
    assert_eq!(w.to.weight_of("green"), Some(0), "green gets no request");
    assert_eq!(w.to.percent_of("blue"), 100.0, "blue keeps all traffic");
    let step = p.actions[4].route_write().unwrap();
    assert_eq!(
        step.from, w.to,
        "the first step starts from the attached route"
    );
}

#[test]
fn a_green_already_in_use_needs_no_attach() {
    let p = canary(FinalRoute::KeepBlue).with_attach(true).actions(&[]);
    assert!(
        !kinds(&p).contains(&"attach".to_string()),
        "{:?}",
        kinds(&p)
    );
    assert_eq!(
        p.actions[2].route_write().unwrap().from,
        Forward::single("blue")
    );
}

#[test]
fn blue_green_and_the_preview_attach_green_before_green_is_awaited() {
    let original = Forward::single("blue");
    let bg = blue_green::plan(&BlueGreenInput {
        original: &original,
        blue: "blue",
        green: "green",
        bake: Duration::from_secs(60),
        keep_blue: Duration::ZERO,
        final_route: FinalRoute::KeepBlue,
    })
    .with_attach(false);
    assert_eq!(
        kinds(&bg.actions(&[]))[..3],
        ["record", "attach", "await-healthy green"]
    );
    let preview = Preview {
        shadow: None,
        rule: RuleSpec {
            listener_arn: "L".into(),
            priority: 3,
            conditions: vec![],
            forward: Forward::single("green"),
            carry: Default::default(),
        },
        duration: Duration::from_secs(60),
    };
    let p = canary(FinalRoute::KeepBlue)
        .with_preview(Some(preview))
        .with_attach(false)
        .actions(&[]);
    assert_eq!(
        kinds(&p)[..4],
        ["record", "attach", "await-healthy green", "create-rule"]
    );
}

/// A failure at every position after the attach: the revert converges to
/// the original route exactly, green's weight-0 entry included.
#[test]
fn a_revert_anywhere_after_the_attach_writes_the_original_route_back_exactly() {
    for abort in [AbortMode::Flip, AbortMode::Gradual] {
        let p = canary(FinalRoute::KeepBlue)
            .with_attach(false)
            .with_abort(abort)
            .actions(&[]);
        let promote = p.actions.iter().position(|a| kind(a) == "promote").unwrap();
        for at in 1..promote {
            let revert = route_revert(&p, at, true, &[t("10.0.1.1")]);
            let last = revert
                .iter()
                .filter_map(|s| match s {
                    Step::WriteRoute { to, .. } => Some(to),
                    _ => None,
                })
                .next_back()
                .unwrap();
            assert_eq!(
                *last,
                Forward::single("blue"),
                "{abort:?} at {}",
                kind(&p.actions[at])
            );
        }
    }
}

fn drain() -> BlueDrain {
    BlueDrain {
        batches: vec![vec![t("10.0.1.1")], vec![t("10.0.1.2")]],
        settle: Duration::from_secs(15),
        check: Duration::from_secs(30),
    }
}

#[test]
fn a_green_only_full_deploy_keeps_blue_at_weight_zero_until_its_last_batch_is_gone() {
    let p = canary(FinalRoute::GreenOnly)
        .with_drain(Some(drain()))
        .with_attach(true)
        .actions(&[]);
    let k = kinds(&p);
    let promote = k.iter().position(|a| a == "promote").unwrap();
    let w = p.actions[promote].route_write().unwrap();
    assert_eq!(
        w.to.weight_of("blue"),
        Some(0),
        "blue stays attached: {:?}",
        w.to
    );
    assert_eq!(w.to.percent_of("green"), 100.0);
    assert_eq!(
        k[k.len() - 3..],
        ["await-drained", "detach", "unrecord"],
        "the last batch, then blue leaves the route"
    );
    let d = p.actions[k.len() - 2].route_write().unwrap();
    assert_eq!((&d.from, &d.to), (&w.to, &Forward::single("green")));
    // A failure during the batches registers blue again while the route
    // still forwards to blue (at weight 0), so AWS checks its health.
    let last_batch = k.len() - 3;
    let blue = [t("10.0.1.1"), t("10.0.1.2")];
    let revert = route_revert(&p, last_batch - 1, true, &blue);
    let first_write = revert
        .iter()
        .position(|s| matches!(s, Step::WriteRoute { .. }))
        .unwrap();
    let awaits_blue = revert
        .iter()
        .position(|s| matches!(s, Step::AwaitFloor { group, .. } if group.arn == "blue"))
        .unwrap();
    assert!(awaits_blue < first_write, "{revert:?}");
    assert!(
        !revert.iter().any(|s| matches!(s, Step::Attach { .. })),
        "blue is still in the route at weight 0: no attach needed: {revert:?}"
    );
}

#[test]
fn a_keep_blue_or_drainless_green_only_run_has_no_detach() {
    let keep = canary(FinalRoute::KeepBlue)
        .with_drain(Some(drain()))
        .actions(&[]);
    assert!(!kinds(&keep).contains(&"detach".to_string()));
    let plain = canary(FinalRoute::GreenOnly).with_drain(None).actions(&[]);
    assert!(!kinds(&plain).contains(&"detach".to_string()));
    assert_eq!(
        plain.actions[plain.actions.len() - 2]
            .route_write()
            .unwrap()
            .to,
        Forward::single("green")
    );
}
