//! Hook placement as a table: each strategy's plan with one hook of every
//! stage, read back as the sequence of actions and hooks.

use super::*;
use crate::alb::state_tags::parse_target;
use crate::alb::{Condition, Forward};
use crate::engine::{AbortMode, RuleSpec};
use crate::plan::parse_steps;
use crate::strategy::canary::{plan as canary, CanaryInput, FinalRoute, Preview};

fn all_stages() -> Hooks {
    Hooks {
        list: HookStage::ALL
            .iter()
            .map(|s| (*s, format!("./{s}.sh")))
            .collect(),
        timeout: Duration::from_secs(600),
    }
}

fn kind(a: &Action) -> String {
    match a {
        Action::Record => "record".into(),
        Action::Register { .. } => "register".into(),
        Action::Deregister { .. } => "deregister".into(),
        Action::AwaitHealthy { .. } => "healthy".into(),
        Action::AwaitDrained { .. } => "drained".into(),
        Action::WriteOthers(_) => "write-others".into(),
        Action::WriteRoute(w) => match &w.purpose {
            Purpose::Step { percent, .. } => format!("write {percent}"),
            Purpose::Promote { .. } => "promote".into(),
            p => format!("write {p:?}"),
        },
        Action::CreateRule(_) => "create-rule".into(),
        Action::WriteRule(_) => "write-rule".into(),
        Action::DeleteRule(_) => "delete-rule".into(),
        Action::Bake(b) => format!("bake {}", b.percent),
        Action::StartBatch { .. } => "start-batch".into(),
        Action::Deploy(_) => "deploy".into(),
        Action::Shadow(_) => "shadow".into(),
        Action::Hook(h) => h.label(),
        Action::Unrecord => "unrecord".into(),
    }
}

fn kinds(p: &Plan) -> Vec<String> {
    p.actions.iter().map(kind).collect()
}

fn canary_plan(preview: bool) -> Plan {
    let steps = parse_steps("10,100").unwrap();
    let p = canary(&CanaryInput {
        original: &Forward::single("arn:blue"),
        blue: "arn:blue",
        green: "arn:green",
        steps: &steps,
        default_bake: Duration::from_secs(30),
        stickiness: None,
        final_route: FinalRoute::KeepBlue,
    });
    let p = match preview {
        false => p,
        true => p.with_preview(Some(Preview {
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
        })),
    };
    p.actions(&[parse_target("i-1")])
}

#[test]
fn canary_hooks_run_before_traffic_after_each_step_and_around_the_promotion() {
    let p = place(canary_plan(false), &all_stages(), None);
    assert_eq!(
        kinds(&p),
        [
            "record",
            "register",
            "healthy",
            "hook pre-traffic",
            "write 10%",
            "bake 10%",
            "hook post-step 1",
            "write 100%",
            "bake 100%",
            "hook post-step 2",
            "hook pre-promote",
            "promote",
            "unrecord",
            "hook post-promote",
            "hook post-revert",
        ]
    );
    let hooks: Vec<&HookSpec> = p.actions.iter().filter_map(Action::hook).collect();
    let step_percent: Vec<(usize, String)> = hooks
        .iter()
        .map(|h| (h.step, h.green_percent.to_string()))
        .collect();
    assert_eq!(
        step_percent,
        [
            (0, "0%"),
            (1, "10%"),
            (2, "100%"),
            (2, "100%"),
            (2, "100%"),
            (2, "100%")
        ]
        .map(|(s, p)| (s, p.to_string()))
    );
    assert!(hooks.iter().all(|h| h.targets == vec![parse_target("i-1")]));
}

#[test]
fn with_a_preview_pre_traffic_runs_while_the_preview_rule_is_live() {
    let p = place(canary_plan(true), &all_stages(), Some("X-Preview=1"));
    let k = kinds(&p);
    assert_eq!(
        k[..8],
        [
            "record",
            "register",
            "healthy",
            "create-rule",
            "hook pre-traffic",
            "bake 0%",
            "delete-rule",
            "write 10%",
        ]
    );
    let pre = p.actions.iter().filter_map(Action::hook).next().unwrap();
    assert_eq!(pre.preview_header.as_deref(), Some("X-Preview=1"));
    let later = p.actions.iter().filter_map(Action::hook).skip(1);
    assert!(later.into_iter().all(|h| h.preview_header.is_none()));
}

#[test]
fn rolling_hooks_get_each_rounds_batch() {
    let t = |s: &str| parse_target(s);
    let group = crate::engine::Group {
        arn: "arn:tg".into(),
        role: crate::engine::Role::Green,
    };
    let round = |add: &str, old: &str, pct: u16, step: usize| {
        vec![
            Action::Register {
                group: group.clone(),
                targets: vec![t(add)],
            },
            Action::AwaitHealthy {
                group: group.clone(),
                targets: vec![t(add)],
            },
            Action::Deregister {
                group: group.clone(),
                targets: vec![t(old)],
            },
            Action::Bake(crate::engine::BakeSpec {
                step,
                percent: Tenths(pct),
                duration: Duration::from_secs(30),
            }),
        ]
    };
    let mut actions = vec![Action::Record];
    actions.extend(round("i-new1", "i-old1", 500, 0));
    actions.extend(round("i-new2", "i-old2", 1000, 1));
    actions.push(Action::Unrecord);
    let plan = Plan {
        strategy: "rolling",
        original: Forward::single("arn:tg"),
        blue: "arn:tg".into(),
        green: "arn:tg".into(),
        abort: AbortMode::Flip,
        actions,
    };
    let p = place(plan, &all_stages(), None);
    assert_eq!(kinds(&p)[..2], ["record", "hook pre-traffic"]);
    let batches: Vec<(String, Vec<Target>)> = (p.actions.iter().filter_map(Action::hook))
        .map(|h| (h.label(), h.targets.clone()))
        .collect();
    assert_eq!(batches[0], ("hook pre-traffic".into(), vec![t("i-new1")]));
    assert_eq!(batches[1], ("hook post-step 1".into(), vec![t("i-new1")]));
    assert_eq!(batches[2], ("hook post-step 2".into(), vec![t("i-new2")]));
    assert_eq!(batches[3].0, "hook pre-promote");
}

#[test]
fn no_hooks_leave_the_plan_as_it_was() {
    let p = canary_plan(false);
    assert_eq!(place(p.clone(), &Hooks::default(), None), p);
}

#[test]
fn hooks_of_one_stage_keep_their_order() {
    let hooks = Hooks {
        list: vec![
            (HookStage::PreTraffic, "first".into()),
            (HookStage::PreTraffic, "second".into()),
        ],
        timeout: Duration::from_secs(1),
    };
    let p = place(canary_plan(false), &hooks, None);
    let cmds: Vec<&str> = (p.actions.iter().filter_map(Action::hook))
        .map(|h| h.command.as_str())
        .collect();
    assert_eq!(cmds, ["first", "second"]);
}

fn rule_plan(strategy: &'static str, green_in_use: bool) -> Plan {
    use crate::strategy::ab::{plan, RuleRunInput};
    use crate::strategy::rules::{conditions, parse_matches};
    let m = parse_matches(&["header:X-Variant=b".to_string()]).unwrap();
    plan(&RuleRunInput {
        strategy,
        route: &crate::alb::RouteRef::new("L", None),
        others: &[],
        original: &Forward::single("blue"),
        blue: "blue",
        green: "green",
        priority: 7,
        conditions: conditions(&m),
        duration: Duration::from_secs(60),
        keep: false,
        leading: &[],
        green_in_use,
    })
}

#[test]
fn rule_runs_get_pre_traffic_before_the_rule_forwards_to_green() {
    for (in_use, before) in [(false, "write-rule"), (true, "create-rule")] {
        let p = place(rule_plan("ab", in_use), &all_stages(), None);
        let k = kinds(&p);
        let pre = k.iter().position(|a| a == "hook pre-traffic").unwrap();
        assert_eq!(k[pre + 1], before, "{k:?}");
        assert!(
            k[..pre].contains(&"healthy".to_string()),
            "green is healthy first: {k:?}"
        );
        let tail: Vec<&str> = k[pre + 2..].iter().map(String::as_str).collect();
        assert_eq!(
            tail,
            [
                "bake 100%",
                "hook post-step 1",
                "hook pre-promote",
                "delete-rule",
                "unrecord",
                "hook post-promote",
                "hook post-revert",
            ],
            "{k:?}"
        );
    }
}

#[test]
fn the_full_deploys_pre_promote_comes_before_the_promotion_not_after_blues_batches() {
    let mut p = canary_plan(false);
    // Blue's batches after the promotion, each with a hold (`--deregister-blue`).
    let at = p
        .actions
        .iter()
        .position(|a| a == &Action::Unrecord)
        .unwrap();
    p.actions.insert(
        at,
        Action::Bake(crate::engine::BakeSpec {
            step: 2,
            percent: Tenths::FULL,
            duration: Duration::from_secs(30),
        }),
    );
    let k = kinds(&place(p, &all_stages(), None));
    let pre = k.iter().position(|a| a == "hook pre-promote").unwrap();
    assert_eq!(k[pre + 1], "promote", "{k:?}");
}
