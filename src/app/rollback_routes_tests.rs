//! `rollback` of a two-route run on the fake, given either route.

use super::*;
use crate::alb::fake::*;
use crate::alb::{Forward, RouteAction};

const RULE: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/demo/1/l1/r9";

fn half() -> RouteAction {
    RouteAction::Forward(Forward::weighted(&[(DEMO_BLUE, 50), (DEMO_GREEN, 50)]))
}

/// A two-route run killed at 50%: both routes moved, both recorded.
async fn killed(fake: &FakeLoadBalancer) -> (RouteRef, RouteRef, RunRecord) {
    let (first, second) = (
        RouteRef::new(DEMO_LISTENER, None),
        RouteRef::new(DEMO_LISTENER, Some(RULE)),
    );
    fake.add_rule(DEMO_LISTENER, RULE, 10, half());
    fake.force_route(&first, half());
    let record = RunRecord {
        run_id: "r-7".into(),
        strategy: "canary".into(),
        started: 0,
        generation: 0,
        step: "1 of 2 at 50".into(),
        green_arn: DEMO_GREEN.into(),
        original: Forward::single(DEMO_BLUE),
        registered: vec![],
        deregistered: None,
        rules: vec![],
        routes: vec![second.clone()],
    };
    let other = RunRecord {
        step: FOLLOWS_STEP.into(),
        routes: vec![first.clone()],
        original: Forward::weighted(&[(DEMO_BLUE, 1)]),
        ..record.clone()
    };
    let tag = |r: &RunRecord| state_tags::encode(r);
    fake.add_tags(first.owner_arn(), &tag(&record))
        .await
        .unwrap();
    fake.add_tags(second.owner_arn(), &tag(&other))
        .await
        .unwrap();
    (first, second, other)
}

#[tokio::test(start_paused = true)]
async fn rollback_given_the_second_route_restores_both_exactly_as_recorded() {
    let fake = FakeLoadBalancer::demo();
    let (first, second, other) = killed(&fake).await;
    let done = restore_all(&fake, &second, &other).await.unwrap();
    assert_eq!(
        fake.route(&first),
        RouteAction::Forward(Forward::single(DEMO_BLUE)),
        "{done:?}"
    );
    assert_eq!(
        fake.route(&second),
        RouteAction::Forward(Forward::weighted(&[(DEMO_BLUE, 1)])),
        "the second route's own original shape"
    );
    assert!(fake.tags_of(first.owner_arn()).is_empty());
    assert!(fake.tags_of(second.owner_arn()).is_empty());
}

#[tokio::test(start_paused = true)]
async fn rollback_given_the_first_route_restores_both() {
    let fake = FakeLoadBalancer::demo();
    let (first, second, _) = killed(&fake).await;
    let tags = fake.tags_of(first.owner_arn());
    let record = state_tags::decode(&tags).unwrap().unwrap();
    restore_all(&fake, &first, &record).await.unwrap();
    assert_eq!(
        fake.route(&first),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    assert_eq!(
        fake.route(&second),
        RouteAction::Forward(Forward::weighted(&[(DEMO_BLUE, 1)]))
    );
    assert!(fake.tags_of(second.owner_arn()).is_empty());
}

fn rollback_args(flags: &[&str]) -> crate::cli::RollbackArgs {
    use clap::Parser;
    let all = ["alb-rollout", "rollback"].iter().chain(flags);
    match crate::cli::Cli::try_parse_from(all).unwrap().command {
        crate::cli::Cmd::Rollback(a) => a,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn rollback_given_the_second_route_waits_on_the_first_routes_heartbeat() {
    let fake = FakeLoadBalancer::demo();
    let (first, _, _) = killed(&fake).await;
    let now = 1_000_000;
    let beat = state_tags::Heartbeat { at: now, every: 30 };
    fake.add_tags(first.owner_arn(), &beat.tag()).await.unwrap();
    let args = rollback_args(&["--listener", DEMO_LISTENER, "--rule", RULE]);
    let out = crate::cli::Output::Text;
    let code = super::super::rollback::run_on(&fake, &args, out, now + 5).await;
    assert_eq!(code, 2, "the run beats on the first route: refused");
    assert_eq!(
        fake.route(&first),
        half(),
        "nothing restored while it lives"
    );
    let code = super::super::rollback::run_on(&fake, &args, out, now + 600).await;
    assert_eq!(code, 0, "stale: every route restored");
    assert_eq!(
        fake.route(&first),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
}
