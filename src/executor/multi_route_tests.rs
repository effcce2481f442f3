//! Component tests of a run over two routes (the listener's default action
//! and a rule of it), on the fake under paused time: both promoted, both
//! reverted, and a write refused on the second route of a step ends with
//! both as recorded.

use super::tests::{config, rig, route, Rig, GREEN_DIM};
use crate::alb::fake::*;
use crate::alb::{AlbErrorKind, Forward, RouteAction, RouteRef};
use crate::report::RunReport;
use crate::strategy::multi_route::spread;
use std::time::Duration;

const RULE: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/demo/1/l1/r9";

fn rule() -> RouteRef {
    RouteRef::new(DEMO_LISTENER, Some(RULE))
}

fn blue() -> RouteAction {
    RouteAction::Forward(Forward::single(DEMO_BLUE))
}

/// A canary of `steps` over the listener and its rule.
async fn two_route_run(r: &Rig, steps: &str) -> RunReport {
    r.lb.add_rule(DEMO_LISTENER, RULE, 10, blue());
    let (cfg, plan) = config(steps, vec![]).split();
    let plan = spread(plan, &[(rule(), Forward::single(DEMO_BLUE))]);
    r.run(cfg, plan).await
}

#[tokio::test(start_paused = true)]
async fn a_good_green_is_promoted_on_both_routes_and_both_records_go() {
    let r = rig();
    let report = two_route_run(&r, "50:10m,100").await;
    assert_eq!(report.result, "promoted", "{report:?}");
    for rt in [route(), rule()] {
        let f = r.lb.route(&rt);
        assert_eq!(
            f.as_forward().unwrap().percent_of(DEMO_GREEN),
            100.0,
            "{rt}"
        );
    }
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty());
    assert!(r.lb.tags_of(RULE).is_empty(), "{:?}", r.lb.tags_of(RULE));
}

#[tokio::test(start_paused = true)]
async fn a_bad_green_is_reverted_on_both_routes() {
    let r = rig();
    let traffic = r.traffic.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(200)).await;
        traffic.set(GREEN_DIM, 100.0, 30.0);
    });
    let report = two_route_run(&r, "50:10m,100").await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(r.lb.route(&route()), blue());
    assert_eq!(r.lb.route(&rule()), blue());
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty());
    assert!(r.lb.tags_of(RULE).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_write_refused_on_the_second_route_of_a_step_reverts_the_first_too() {
    let r = rig();
    let lb = r.lb.clone();
    tokio::spawn(async move {
        // During step 1's bake: step 2 writes the listener, then the rule,
        // whose write is refused.
        tokio::time::sleep(Duration::from_secs(300)).await;
        lb.fail_next("ModifyRule", 1, AlbErrorKind::Invalid);
    });
    let report = two_route_run(&r, "20:10m,50:10m,100").await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let listener_writes = (r.lb.mutating_calls().iter())
        .filter(|c| c.op == "ModifyListener")
        .count();
    assert_eq!(listener_writes, 3, "step 1, step 2, the revert");
    assert_eq!(
        r.lb.route(&route()),
        blue(),
        "the listener's step 2 is undone"
    );
    assert_eq!(r.lb.route(&rule()), blue());
    assert!(r.lb.tags_of(RULE).is_empty());
}

#[tokio::test(start_paused = true)]
async fn each_route_carries_the_run_record_naming_the_others_before_the_first_write() {
    let r = rig();
    r.lb.fail_next("ModifyRule", 1, AlbErrorKind::Invalid);
    let report = two_route_run(&r, "50:10m,100").await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(r.lb.route(&rule()), blue());
    let calls = r.lb.mutating_calls();
    let first_write = calls.iter().position(|c| c.op == "ModifyListener").unwrap();
    let tagged: Vec<&str> = calls[..first_write]
        .iter()
        .filter(|c| c.op == "AddTags")
        .map(|c| c.resource.as_str())
        .collect();
    assert!(
        tagged.contains(&DEMO_LISTENER) && tagged.contains(&RULE),
        "{calls:?}"
    );
    assert!(r.lb.tags_of(RULE).is_empty(), "removed again");
}
