//! Component tests of a run over routes on two load balancers, on the fake
//! under paused time: each load balancer with its own blue and green (the
//! fake, as ELBv2, refuses a forward to a group another load balancer
//! uses). A good green is promoted on both; a green failing only behind
//! the second load balancer (its CloudWatch numbers summed in) reverts
//! both; a second green with no healthy target never gets traffic.

use super::tests::{config, rig, route, Rig};
use crate::alb::fake::*;
use crate::alb::{Forward, HealthState, LoadBalancerPort, RouteAction, RouteRef};
use crate::analysis::collect::LbMetrics;
use crate::provider::MetricTarget;
use crate::report::RunReport;
use crate::strategy::multi_route::{spread_over, GroupMap, OtherLb};
use std::time::Duration;

const LB2: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/int/2";
const L2: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/int/2/l2";
const BLUE2: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue2/b2";
const GREEN2: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green2/g2";
const GREEN2_DIM: &str = "targetgroup/green2/g2";

fn internal() -> RouteRef {
    RouteRef::new(L2, None)
}

fn on(tg: &str) -> RouteAction {
    RouteAction::Forward(Forward::single(tg))
}

/// The second load balancer: its listener on its own blue, its green
/// (`green2` state) used by nothing yet.
fn second_lb(r: &Rig, green2: HealthState) {
    r.lb.add_load_balancer(LB2, "vpc-2");
    r.lb.add_listener(L2, LB2, on(BLUE2));
    r.lb.add_group(BLUE2, "blue2", "vpc-2", "ip");
    r.lb.add_group(GREEN2, "green2", "vpc-2", "ip");
    r.lb.set_health(BLUE2, "10.1.0.1", HealthState::Healthy);
    r.lb.set_health(GREEN2, "10.1.0.2", green2);
    r.traffic.set("targetgroup/blue2/b2", 500.0, 0.0);
    r.traffic.set(GREEN2_DIM, 100.0, 0.0);
}

async fn two_lb_run(r: &Rig, steps: &str) -> RunReport {
    let mut run = config(steps, vec![]);
    run.subjects.other_lbs = vec![LbMetrics {
        green_arn: GREEN2.into(),
        green: MetricTarget::from_arns(GREEN2, LB2),
        blue: MetricTarget::from_arns(BLUE2, LB2),
    }];
    let (cfg, plan) = run.split();
    let maps = [GroupMap::of((DEMO_BLUE, BLUE2), (DEMO_GREEN, GREEN2))];
    let lbs = [OtherLb {
        route: 0,
        blue: BLUE2.into(),
        green: GREEN2.into(),
        attach: true,
    }];
    let plan = spread_over(plan, &[(internal(), Forward::single(BLUE2))], &maps, &lbs);
    r.run(cfg, plan).await
}

#[tokio::test(start_paused = true)]
async fn a_good_green_is_promoted_on_both_load_balancers_each_on_its_own_green() {
    let r = rig();
    second_lb(&r, HealthState::Healthy);
    let report = two_lb_run(&r, "50:10m,100").await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let pct = |rt: &RouteRef, g: &str| r.lb.route(rt).as_forward().unwrap().percent_of(g);
    assert_eq!(pct(&route(), DEMO_GREEN), 100.0);
    assert_eq!(pct(&internal(), GREEN2), 100.0);
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty());
    assert!(r.lb.tags_of(L2).is_empty(), "{:?}", r.lb.tags_of(L2));
}

#[tokio::test(start_paused = true)]
async fn a_green_failing_only_behind_the_second_load_balancer_reverts_both() {
    let r = rig();
    second_lb(&r, HealthState::Healthy);
    let traffic = r.traffic.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(200)).await;
        traffic.set(GREEN2_DIM, 100.0, 30.0);
    });
    let report = two_lb_run(&r, "50:10m,100").await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(r.lb.route(&route()), on(DEMO_BLUE));
    assert_eq!(r.lb.route(&internal()), on(BLUE2));
    assert!(r.lb.tags_of(L2).is_empty());
    // The first green alone was fine: the second's errors decided.
    let f = report.failed_check.as_ref().expect("a failed check");
    assert!(format!("{f:?}").contains("error"), "{f:?}");
}

#[tokio::test(start_paused = true)]
async fn a_second_green_with_no_healthy_target_never_gets_traffic() {
    let r = rig();
    second_lb(&r, HealthState::Unhealthy);
    let report = two_lb_run(&r, "50:10m,100").await;
    assert_ne!(report.result, "promoted", "{report:?}");
    assert_eq!(r.lb.route(&route()), on(DEMO_BLUE));
    assert_eq!(r.lb.route(&internal()), on(BLUE2));
    let reason = format!("{:?}", report.reason);
    assert!(reason.contains(GREEN2), "{reason}");
    assert_eq!(report.steps.len(), 0, "no step was taken: {report:?}");
}

#[tokio::test]
async fn the_fake_refuses_a_forward_to_a_group_another_load_balancer_uses() {
    let r = rig();
    second_lb(&r, HealthState::Healthy);
    let both = Forward::weighted(&[(BLUE2, 90), (DEMO_GREEN, 10)]);
    let e = r.lb.write_forward(&internal(), &both).await.unwrap_err();
    assert!(e.to_string().contains("TargetGroupAssociationLimit"), "{e}");
    assert_eq!(r.lb.route(&internal()), on(BLUE2));
}
