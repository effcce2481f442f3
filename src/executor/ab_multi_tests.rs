//! Component tests of `ab`/`dark` over two listeners of one load balancer,
//! on the fake under paused time: a rule on each, each recorded on its own
//! listener before the first CreateRule; a CreateRule refused on the
//! second listener, a green that fails under its rules, both end with no
//! rule of the run on either listener and no record left.

use super::tests::{config, Rig, BLUE_DIM, GREEN_DIM};
use crate::alb::fake::*;
use crate::alb::{AlbErrorKind, Condition, Forward, HealthState, LoadBalancerPort};
use crate::alb::{RouteAction, RouteRef};
use crate::provider::fake::FakeTraffic;
use crate::report::RunReport;
use crate::signal::Cancel;
use crate::strategy::ab::{plan, RouteRule, RuleRunInput, AB, DARK};
use std::sync::Arc;
use std::time::Duration;

const L2: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/demo/1/l2";

fn blue() -> RouteAction {
    RouteAction::Forward(Forward::single(DEMO_BLUE))
}

/// The demo load balancer with a second listener forwarding to blue;
/// green in use (`in_use`) or forwarded to by nothing.
fn two_listeners(in_use: bool) -> Rig {
    let traffic = Arc::new(FakeTraffic::default());
    traffic.set(BLUE_DIM, 1000.0, 0.0);
    traffic.set(GREEN_DIM, 100.0, 0.0);
    let lb = FakeLoadBalancer::demo();
    if in_use {
        lb.attach(DEMO_GREEN, DEMO_LB);
    }
    lb.add_listener(L2, DEMO_LB, blue());
    Rig {
        lb: Arc::new(lb),
        traffic,
        cancel: Cancel::new(),
    }
}

fn header() -> Vec<Condition> {
    vec![Condition {
        field: "http-header".into(),
        key: Some("X-Variant".into()),
        values: vec!["b".into()],
        regex_values: vec![],
    }]
}

fn two_route_plan(strategy: &'static str, in_use: bool) -> crate::engine::Plan {
    let other = RouteRule {
        route: RouteRef::new(L2, None),
        original: Forward::single(DEMO_BLUE),
        priority: 5,
        conditions: header(),
        leading: vec![],
    };
    plan(&RuleRunInput {
        strategy,
        route: &RouteRef::new(DEMO_LISTENER, None),
        others: &[other],
        original: &Forward::single(DEMO_BLUE),
        blue: DEMO_BLUE,
        green: DEMO_GREEN,
        priority: 7,
        conditions: header(),
        duration: Duration::from_secs(120),
        keep: false,
        leading: &[],
        green_in_use: in_use,
    })
}

async fn run(r: &Rig, plan: crate::engine::Plan) -> RunReport {
    let (cfg, _) = config("100", vec![]).split();
    r.run(cfg, plan).await
}

/// Neither listener has a rule or a record of the run left.
async fn nothing_left(r: &Rig) {
    for l in [DEMO_LISTENER, L2] {
        let rules = r.lb.rules(l).await.unwrap();
        assert_eq!(rules.len(), 1, "only {l}'s default: {rules:?}");
        assert!(r.lb.tags_of(l).is_empty(), "{l}: {:?}", r.lb.tags_of(l));
        assert_eq!(r.lb.route(&RouteRef::new(l, None)), blue(), "{l}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_rule_goes_on_each_listener_each_recorded_before_its_create() {
    let r = two_listeners(true);
    let report = run(&r, two_route_plan(AB, true)).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let calls = r.lb.mutating_calls();
    let create = |l: &str| {
        (calls.iter())
            .position(|c| c.op == "CreateRule" && c.resource == l)
            .expect("a CreateRule on each listener")
    };
    let tagged = |l: &str| {
        (calls.iter())
            .position(|c| c.op == "AddTags" && c.resource == l)
            .expect("each listener carries a record")
    };
    assert!(tagged(DEMO_LISTENER) < create(DEMO_LISTENER));
    assert!(tagged(L2) < create(DEMO_LISTENER), "all recorded first");
    assert_eq!(report.steps.len(), 1, "the two rules are one step");
    nothing_left(&r).await;
}

#[tokio::test(start_paused = true)]
async fn a_create_rule_refused_on_the_second_listener_removes_the_first_ones() {
    for (strategy, in_use) in [(AB, true), (DARK, false)] {
        let r = two_listeners(in_use);
        r.lb.fail_next_on("CreateRule", L2, 1, AlbErrorKind::Invalid);
        let report = run(&r, two_route_plan(strategy, in_use)).await;
        assert_eq!(report.result, "reverted", "{strategy}: {report:?}");
        let created = (r.lb.mutating_calls().iter())
            .filter(|c| c.op == "CreateRule")
            .count();
        assert_eq!(
            created, 2,
            "{strategy}: the first landed, the second refused"
        );
        nothing_left(&r).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_green_that_fails_under_its_rules_leaves_no_rule_on_either_listener() {
    let r = two_listeners(false);
    r.lb.set_health(DEMO_GREEN, "10.0.0.2", HealthState::Unhealthy);
    let report = run(&r, two_route_plan(DARK, false)).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert!(
        !(r.lb.mutating_calls().iter()).any(|c| c.op == "ModifyRule"),
        "the segment never reached green on either listener"
    );
    nothing_left(&r).await;
}

#[tokio::test(start_paused = true)]
async fn a_rewrite_refused_on_the_second_rule_reverts_the_first_rule_too() {
    let r = two_listeners(false);
    r.lb.fail_next_on("ModifyRule", L2, 1, AlbErrorKind::Invalid);
    let report = run(&r, two_route_plan(AB, false)).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let rewrites: Vec<String> = (r.lb.mutating_calls().iter())
        .filter(|c| c.op == "ModifyRule")
        .map(|c| c.resource.clone())
        .collect();
    assert_eq!(rewrites.len(), 2, "{rewrites:?}");
    assert!(
        rewrites[0].starts_with(DEMO_LISTENER),
        "the first rule's went through"
    );
    nothing_left(&r).await;
}
