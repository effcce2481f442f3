//! The dry run's calls come from the plan's actions and the revert's from
//! the engine's derivation, in the `--abort` shape.

use super::*;
use crate::alb::Forward;
use crate::cli::AnalysisArgs;
use crate::engine::AbortMode;
use crate::plan::parse_steps;
use crate::settings::{resolve, FileSettings};
use crate::strategy::canary::{plan, CanaryInput, FinalRoute};
use std::time::Duration;

fn canary(steps: &str, abort: AbortMode, register: &[Target]) -> Plan {
    let original = Forward::single("blue");
    let s = parse_steps(steps).unwrap();
    plan(&CanaryInput {
        original: &original,
        blue: "blue",
        green: "green",
        steps: &s,
        default_bake: Duration::from_secs(30),
        stickiness: None,
        final_route: FinalRoute::KeepBlue,
    })
    .with_abort(abort)
    .actions(register)
}

fn ops(calls: &[PlannedCall]) -> Vec<&str> {
    calls.iter().map(|c| c.action.as_str()).collect()
}

#[test]
fn the_calls_follow_the_plan_and_the_revert_follows_abort() {
    let route = Scope::Route(RouteRef::new("listener", None));
    let an = resolve(&AnalysisArgs::default(), FileSettings::default()).unwrap();
    let t = vec![Target {
        id: "10.0.0.7".into(),
        port: None,
        az: None,
    }];
    let p = canary("10,100", AbortMode::Flip, &t);
    assert_eq!(
        ops(&calls(&route, &p, &an)),
        vec![
            "DescribeTargetHealth",
            "DescribeTags",
            "AddTags",
            "DescribeTags",
            "RegisterTargets",
            "wait",
            "DescribeListeners",
            "DescribeTargetHealth",
            "ModifyListener",
            "AddTags",
            "analyse",
            "DescribeListeners",
            "DescribeTargetHealth",
            "ModifyListener",
            "AddTags",
            "DescribeListeners",
            "AddTags",
            "ModifyListener",
            "AddTags",
            "RemoveTags",
        ]
    );
    assert_eq!(
        ops(&revert_calls(&route, &p, &an)),
        vec!["ModifyListener", "wait", "DeregisterTargets", "RemoveTags"],
        "the route back, the settle, then green's added target leaves"
    );
    let g = canary("10,50,100", AbortMode::Gradual, &[]);
    let back = revert_calls(&route, &g, &an);
    assert_eq!(
        ops(&back),
        vec![
            "ModifyListener",
            "ModifyListener",
            "ModifyListener",
            "RemoveTags"
        ],
        "100 to 50 to 10 to the original; the promotion changed nothing"
    );
    assert!(
        back[2].detail.starts_with("forward to blue"),
        "{}",
        back[2].detail
    );
}

#[test]
fn the_full_deploy_records_each_batch_and_marks_promoted_after_the_last() {
    use crate::strategy::drain_blue::{batches, BatchSize, BlueDrain};
    let route = Scope::Route(RouteRef::new("listener", None));
    let an = resolve(&AnalysisArgs::default(), FileSettings::default()).unwrap();
    let original = Forward::single("blue");
    let s = parse_steps("100").unwrap();
    let targets: Vec<Target> = ["10.0.0.1", "10.0.0.2"]
        .iter()
        .map(|id| crate::alb::state_tags::parse_target(id))
        .collect();
    let p = plan(&CanaryInput {
        original: &original,
        blue: "blue",
        green: "green",
        steps: &s,
        default_bake: Duration::from_secs(30),
        stickiness: None,
        final_route: FinalRoute::KeepBlue,
    })
    .with_drain(Some(BlueDrain {
        batches: batches(&targets, BatchSize::Count(1)),
        settle: Duration::from_secs(15),
        check: Duration::from_secs(30),
    }))
    .actions(&[]);
    let c = calls(&route, &p, &an);
    let all = ops(&c);
    let tail = &all[all.len() - 10..all.len() - 1];
    let want = [
        "analyse",
        "AddTags",
        "DeregisterTargets",
        "wait",
        "analyse",
        "AddTags",
        "DeregisterTargets",
        "wait",
        "AddTags",
    ];
    assert_eq!(tail, &want[..], "{c:#?}");
    assert_eq!(ops(&c).last(), Some(&"RemoveTags"));
    assert!(c.iter().any(|x| x.detail.starts_with("step draining-blue")));
    let r = revert_calls(&route, &p, &an);
    // Every batch back in one call, half of blue healthy, then the route.
    let want = ["RegisterTargets", "wait", "ModifyListener", "RemoveTags"];
    assert_eq!(ops(&r), want, "no promoted mark in a revert: {r:#?}");
}

#[test]
fn the_dry_run_shows_the_attach_write_before_the_health_wait_and_its_undoing() {
    let route = Scope::Route(RouteRef::new("listener", None));
    let an = resolve(&AnalysisArgs::default(), FileSettings::default()).unwrap();
    let original = Forward::single("blue");
    let s = parse_steps("100").unwrap();
    let p = plan(&CanaryInput {
        original: &original,
        blue: "blue",
        green: "green",
        steps: &s,
        default_bake: Duration::from_secs(30),
        stickiness: None,
        final_route: FinalRoute::KeepBlue,
    })
    .with_attach(false)
    .actions(&[]);
    let c = calls(&route, &p, &an);
    let at = c.iter().position(|x| x.action == "wait").unwrap();
    assert_eq!(ops(&c[at - 2..at]), ["DescribeListeners", "ModifyListener"]);
    let attach = &c[at - 1].detail;
    assert!(attach.contains("attach green at weight 0"), "{attach}");
    assert!(attach.contains("Target.NotInUse"), "{attach}");
    assert!(attach.contains("green=0"), "{attach}");
    let r = revert_calls(&route, &p, &an);
    assert_eq!(ops(&r), ["ModifyListener", "RemoveTags"]);
    assert!(
        r[0].detail.starts_with("forward to blue"),
        "{}",
        r[0].detail
    );
}

#[test]
fn the_dry_run_of_a_rule_run_on_a_fresh_green_shows_the_rule_at_weight_zero_then_its_rewrite() {
    use crate::strategy::ab::{plan, RuleRunInput, AB};
    let route = Scope::Route(RouteRef::new("listener", None));
    let an = resolve(&AnalysisArgs::default(), FileSettings::default()).unwrap();
    let p = plan(&RuleRunInput {
        strategy: AB,
        route: &crate::alb::RouteRef::new("listener", None),
        others: &[],
        original: &Forward::single("blue"),
        blue: "blue",
        green: "green",
        priority: 7,
        conditions: vec![],
        duration: Duration::from_secs(60),
        keep: false,
        leading: &[],
        green_in_use: false,
    });
    let c = calls(&route, &p, &an);
    let all = ops(&c);
    let create = all.iter().position(|o| *o == "CreateRule").unwrap();
    assert_eq!(
        all[create..create + 6],
        [
            "CreateRule",
            "wait",
            "DescribeRules",
            "DescribeTags",
            "DescribeTargetHealth",
            "ModifyRule"
        ],
        "{c:#?}"
    );
    assert!(c[create].detail.contains("green=0"), "{}", c[create].detail);
}

#[test]
fn the_dry_run_of_two_routes_records_and_writes_the_second_route_too() {
    let route = Scope::Route(RouteRef::new("listener", None));
    let an = resolve(&AnalysisArgs::default(), FileSettings::default()).unwrap();
    let second = RouteRef::new("listener-2", None);
    let p = crate::strategy::multi_route::spread(
        canary("10,100", AbortMode::Flip, &[]),
        &[(second, Forward::single("blue"))],
    );
    let all = calls(&route, &p, &an);
    let on_second: Vec<&str> = (all.iter())
        .filter(|c| c.resource == "listener-2")
        .map(|c| c.action.as_str())
        .collect();
    assert_eq!(
        &on_second[..5],
        [
            "DescribeTags",
            "AddTags",
            "DescribeTags",
            "DescribeListeners",
            "ModifyListener"
        ]
    );
}

#[test]
fn the_dry_run_of_a_rule_run_over_two_listeners_records_and_creates_each_rule_on_its_own() {
    use crate::strategy::ab::{plan, RouteRule, RuleRunInput, DARK};
    let route = Scope::Route(RouteRef::new("l1", None));
    let an = resolve(&AnalysisArgs::default(), FileSettings::default()).unwrap();
    let other = RouteRule {
        route: RouteRef::new("l2", None),
        original: Forward::single("blue"),
        priority: 3,
        conditions: vec![],
        leading: vec![],
    };
    let p = plan(&RuleRunInput {
        strategy: DARK,
        route: &RouteRef::new("l1", None),
        others: std::slice::from_ref(&other),
        original: &Forward::single("blue"),
        blue: "blue",
        green: "green",
        priority: 7,
        conditions: vec![],
        duration: Duration::from_secs(60),
        keep: false,
        leading: &[],
        green_in_use: true,
    });
    let c = calls(&route, &p, &an);
    let on = |op: &str| -> Vec<&str> {
        (c.iter())
            .filter(|x| x.action == op)
            .map(|x| x.resource.as_str())
            .collect()
    };
    assert_eq!(on("CreateRule"), ["l1", "l2"]);
    assert_eq!(on("DeleteRule"), ["l1", "l2"]);
    let record_l2 = (c.iter())
        .position(|x| x.action == "AddTags" && x.resource == "l2")
        .expect("l2 carries a record");
    let first_create = (c.iter()).position(|x| x.action == "CreateRule").unwrap();
    assert!(record_l2 < first_create, "both recorded before any rule");
    let priority_3 = (c.iter())
        .find(|x| x.action == "AddTags" && x.detail.contains("priority 3"))
        .unwrap();
    assert_eq!(priority_3.resource, "l2", "recorded on its own route");
}
