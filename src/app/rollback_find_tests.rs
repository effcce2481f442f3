//! `rollback` finds the run from whatever the step knows: the listener of
//! a rolling run's group, a canary's green or blue group, a listener whose
//! rule holds the record; several records are refused with each one's
//! flags, and "nothing to roll back" only when none is reachable; and
//! `--wait` through the whole command.

use super::*;
use crate::alb::fake::*;
use crate::alb::group_record::GroupRecord;
use crate::alb::{Forward, HealthState, Target};
use crate::cli::{Cli, Cmd, Output};
use clap::Parser;
use std::time::Duration;

const RULE: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/demo/1/l1/r1";

fn args(flags: &[&str]) -> RollbackArgs {
    let cli = Cli::try_parse_from(["alb-rollout", "rollback"].iter().chain(flags)).unwrap();
    match cli.command {
        Cmd::Rollback(a) => a,
        other => panic!("{other:?}"),
    }
}

async fn rollback(fake: &FakeLoadBalancer, flags: &[&str]) -> i32 {
    crate::app::rollback::run_on(fake, &args(flags), Output::Text, 1_000_000).await
}

fn route_record(green: &str) -> RunRecord {
    RunRecord {
        run_id: "r-route".into(),
        strategy: "canary".into(),
        started: 0,
        generation: 0,
        step: "1 of 2 at 40".into(),
        green_arn: green.into(),
        original: Forward::single(DEMO_BLUE),
        registered: vec![],
        deregistered: None,
        rules: vec![],
        routes: vec![],
    }
}

async fn canary_at_40(fake: &FakeLoadBalancer, route: &RouteRef) {
    let w = Forward::weighted(&[(DEMO_BLUE, 60), (DEMO_GREEN, 40)]);
    fake.force_route(route, RouteAction::Forward(w));
    let tags = state_tags::encode(&route_record(DEMO_GREEN));
    fake.add_tags(route.owner_arn(), &tags).await.unwrap();
}

/// A rolling run on blue that had added 10.0.0.9 when it died.
async fn rolling_on_blue(fake: &FakeLoadBalancer) {
    let r = GroupRecord {
        run_id: "r-group".into(),
        strategy: "rolling".into(),
        started: 0,
        step: "round 1 of 2".into(),
        batch: 1,
        max_unavailable: 0,
        original: vec![Target::new("10.0.0.1", None)],
        in_place: None,
    };
    fake.add_target(
        DEMO_BLUE,
        Target::new("10.0.0.9", None),
        HealthState::Healthy,
    );
    fake.add_tags(DEMO_BLUE, &group_record::encode(&r))
        .await
        .unwrap();
}

fn ids(fake: &FakeLoadBalancer, tg: &str) -> Vec<String> {
    fake.targets_of(tg)
        .into_iter()
        .map(|t| t.target.id)
        .collect()
}

#[test]
fn several_reachable_records_are_refused_naming_each_ones_flags() {
    let f = |place: Place, run: &str| Found {
        place,
        run_id: run.into(),
        tags: BTreeMap::new(),
    };
    assert!(choose("listener L", vec![]).unwrap().is_none());
    let one = choose("listener L", vec![f(Place::Group("G".into()), "a")]).unwrap();
    assert_eq!(one.unwrap().place.flags(), "--target-group G");
    let rule = Place::Route(RouteRef::new("L", Some("R")));
    let why = choose(
        "listener L",
        vec![f(rule, "a"), f(Place::Group("G".into()), "b")],
    )
    .unwrap_err();
    for part in [
        "run a is recorded on rule R: pass --listener L --rule R",
        "run b is recorded on target group G: pass --target-group G",
    ] {
        assert!(why.contains(part), "{part}: {why}");
    }
}

#[tokio::test(start_paused = true)]
async fn listener_of_a_rolling_runs_group_restores_that_group() {
    let fake = FakeLoadBalancer::demo();
    rolling_on_blue(&fake).await;
    assert_eq!(rollback(&fake, &["--listener", DEMO_LISTENER]).await, 0);
    assert_eq!(ids(&fake, DEMO_BLUE), ["10.0.0.1"]);
    assert!(group_record::decode(&fake.tags_of(DEMO_BLUE))
        .unwrap()
        .is_none());
}

#[tokio::test(start_paused = true)]
async fn target_group_of_a_canarys_green_or_blue_restores_the_listener() {
    for tg in [DEMO_GREEN, DEMO_BLUE] {
        let fake = FakeLoadBalancer::demo();
        let route = RouteRef::new(DEMO_LISTENER, None);
        canary_at_40(&fake, &route).await;
        assert_eq!(rollback(&fake, &["--target-group", tg]).await, 0, "{tg}");
        let blue = RouteAction::Forward(Forward::single(DEMO_BLUE));
        assert_eq!(fake.route(&route), blue, "{tg}");
        assert!(state_tags::decode(&fake.tags_of(DEMO_LISTENER))
            .unwrap()
            .is_none());
    }
}

#[tokio::test(start_paused = true)]
async fn listener_whose_rule_holds_the_record_restores_the_rule() {
    let fake = FakeLoadBalancer::demo();
    let blue = RouteAction::Forward(Forward::single(DEMO_BLUE));
    fake.add_rule(DEMO_LISTENER, RULE, 10, blue.clone());
    let rule = RouteRef::new(DEMO_LISTENER, Some(RULE));
    canary_at_40(&fake, &rule).await;
    assert_eq!(rollback(&fake, &["--listener", DEMO_LISTENER]).await, 0);
    assert_eq!(fake.route(&rule), blue);
    assert!(state_tags::decode(&fake.tags_of(RULE)).unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn a_rule_given_for_a_run_on_the_listeners_default_action_finds_it() {
    let fake = FakeLoadBalancer::demo();
    let blue = RouteAction::Forward(Forward::single(DEMO_BLUE));
    fake.add_rule(DEMO_LISTENER, RULE, 10, blue.clone());
    let route = RouteRef::new(DEMO_LISTENER, None);
    canary_at_40(&fake, &route).await;
    let code = rollback(&fake, &["--listener", DEMO_LISTENER, "--rule", RULE]).await;
    assert_eq!(code, 0);
    assert_eq!(fake.route(&route), blue);
}

#[tokio::test(start_paused = true)]
async fn two_reachable_records_are_refused_without_a_change() {
    let fake = FakeLoadBalancer::demo();
    fake.add_rule(
        DEMO_LISTENER,
        RULE,
        10,
        RouteAction::Forward(Forward::single(DEMO_BLUE)),
    );
    canary_at_40(&fake, &RouteRef::new(DEMO_LISTENER, Some(RULE))).await;
    rolling_on_blue(&fake).await;
    let before = fake.mutating_calls().len();
    assert_eq!(rollback(&fake, &["--listener", DEMO_LISTENER]).await, 2);
    assert_eq!(fake.mutating_calls().len(), before);
}

#[tokio::test(start_paused = true)]
async fn a_record_elsewhere_on_the_load_balancer_is_not_someone_elses_group() {
    let fake = FakeLoadBalancer::demo();
    let route = RouteRef::new(DEMO_LISTENER, None);
    canary_at_40(&fake, &route).await;
    let other = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/o1";
    fake.add_group(other, "other", "vpc-1", "ip");
    fake.attach(other, DEMO_LB);
    let before = fake.mutating_calls().len();
    assert_eq!(rollback(&fake, &["--target-group", other]).await, 0);
    assert_eq!(fake.mutating_calls().len(), before, "nothing to do");
}

#[tokio::test(start_paused = true)]
async fn rollback_wait_restores_a_route_whose_run_stopped_beating() {
    let fake = FakeLoadBalancer::demo();
    let route = RouteRef::new(DEMO_LISTENER, None);
    canary_at_40(&fake, &route).await;
    let beat = crate::alb::state_tags::Heartbeat {
        at: 999_998,
        every: 2,
    };
    fake.add_tags(DEMO_LISTENER, &beat.tag()).await.unwrap();
    let before = fake.mutating_calls().len();
    assert_eq!(
        rollback(&fake, &["--listener", DEMO_LISTENER]).await,
        2,
        "alive"
    );
    assert_eq!(fake.mutating_calls().len(), before);
    let t0 = tokio::time::Instant::now();
    let code = rollback(&fake, &["--listener", DEMO_LISTENER, "--wait", "2m"]).await;
    assert_eq!(code, 0);
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let blue = RouteAction::Forward(Forward::single(DEMO_BLUE));
    assert_eq!(fake.route(&route), blue);
}

/// The DescribeTags calls `fake` has logged, each one's ARNs.
fn describe_tags_calls(fake: &FakeLoadBalancer) -> Vec<Vec<String>> {
    (fake.calls().into_iter())
        .filter(|c| c.op == "DescribeTags")
        .map(|c| c.resource.split(',').map(str::to_string).collect())
        .collect()
}

/// A listener of 25 rules (all forwarding to blue), the record on the last.
async fn listener_of_25_rules() -> (FakeLoadBalancer, RouteRef) {
    let fake = FakeLoadBalancer::demo();
    let blue = RouteAction::Forward(Forward::single(DEMO_BLUE));
    let rule = |i: u32| format!("{}r{i}", RULE.trim_end_matches("r1"));
    for i in 1..=25 {
        fake.add_rule(DEMO_LISTENER, &rule(i), 10 + i, blue.clone());
    }
    let last = RouteRef::new(DEMO_LISTENER, Some(&rule(25)));
    canary_at_40(&fake, &last).await;
    (fake, last)
}

#[tokio::test(start_paused = true)]
async fn the_search_reads_the_tags_of_20_places_a_call() {
    let (fake, last) = listener_of_25_rules().await;
    let from_listener = Place::Route(RouteRef::new(DEMO_LISTENER, None));
    let before = describe_tags_calls(&fake).len();
    let found = locate(&fake, &from_listener, &[]).await.unwrap().unwrap();
    assert_eq!(found.place, Place::Route(last.clone()));
    // The listener itself, then its 25 rules and the groups they forward
    // to (blue, and green at 40% on the last): 27 ARNs in 2 calls (one
    // DescribeTags each before: 28 calls).
    let calls = describe_tags_calls(&fake).split_off(before);
    let sizes: Vec<usize> = calls.iter().map(Vec::len).collect();
    assert_eq!(sizes, [1, 20, 7], "{calls:?}");
    // From blue: the listener's default action and its 25 rules, 26 ARNs.
    let before = describe_tags_calls(&fake).len();
    let group = Place::Group(DEMO_BLUE.into());
    let found = locate(&fake, &group, &[DEMO_LB.into()]).await.unwrap();
    assert_eq!(found.unwrap().place, Place::Route(last));
    let calls = describe_tags_calls(&fake).split_off(before);
    let sizes: Vec<usize> = calls.iter().map(Vec::len).collect();
    assert_eq!(sizes, [1, 20, 6], "{calls:?}");
}

#[tokio::test]
async fn describe_tags_takes_at_most_20_arns_as_elbv2_does() {
    let fake = FakeLoadBalancer::demo();
    let arns: Vec<String> = (0..41).map(|i| format!("{DEMO_BLUE}-{i}")).collect();
    let err = fake.tags_batch(&arns[..21]).await.unwrap_err();
    assert_eq!(err.kind, crate::alb::AlbErrorKind::Invalid, "{err}");
    let all = crate::alb::port::tags_all(&fake, &arns).await.unwrap();
    assert_eq!(all.len(), 41);
    let sizes: Vec<usize> = describe_tags_calls(&fake)[1..]
        .iter()
        .map(Vec::len)
        .collect();
    assert_eq!(sizes, [20, 20, 1]);
}
