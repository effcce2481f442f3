//! `rollback` on the fake: a crashed run restored, a live one refused, a
//! promoted one left alone, one killed while draining blue brought back.

use super::*;
use crate::alb::fake::*;
use crate::alb::{Forward, RouteAction, Target};

fn recorded(fake: &FakeLoadBalancer, step: &str) -> (RouteRef, RunRecord, Vec<String>) {
    let route = RouteRef::new(DEMO_LISTENER, None);
    let record = RunRecord {
        run_id: "r-9".into(),
        strategy: "canary".into(),
        started: 0,
        generation: 0,
        step: step.into(),
        green_arn: DEMO_GREEN.into(),
        original: Forward::single(DEMO_BLUE),
        registered: vec![Target {
            id: "10.0.0.2".into(),
            port: None,
            az: None,
        }],
        deregistered: None,
        rules: vec![],
    };
    let tags = state_tags::encode(&record);
    fake.force_route(
        &route,
        RouteAction::Forward(crate::strategy::canary::forward_at(
            &record.original,
            DEMO_BLUE,
            DEMO_GREEN,
            crate::plan::Tenths(400),
            Default::default(),
        )),
    );
    (route, record, tags.keys().cloned().collect())
}

#[tokio::test]
async fn a_crashed_run_is_restored_and_cleaned() {
    let fake = FakeLoadBalancer::demo();
    let (route, record, keys) = recorded(&fake, "1 of 2 at 40");
    let done = restore(&fake, &route, &record, &keys).await.unwrap();
    assert_eq!(done.len(), 3, "{done:?}");
    assert_eq!(
        fake.route(&route),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    assert!(fake.targets_of(DEMO_GREEN).is_empty());
}

#[tokio::test]
async fn a_run_killed_while_promoting_is_restored() {
    let fake = FakeLoadBalancer::demo();
    let (route, record, keys) = recorded(&fake, state_tags::PROMOTING_STEP);
    fake.force_route(&route, RouteAction::Forward(Forward::single(DEMO_GREEN)));
    let done = restore(&fake, &route, &record, &keys).await.unwrap();
    assert!(done[0].contains("never confirmed"), "{done:?}");
    assert_eq!(
        fake.route(&route),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
}

#[tokio::test]
async fn a_promoted_run_only_loses_its_record() {
    let fake = FakeLoadBalancer::demo();
    let (route, record, keys) = recorded(&fake, state_tags::PROMOTED_STEP);
    let before = fake.route(&route);
    let done = restore(&fake, &route, &record, &keys).await.unwrap();
    assert!(done[0].contains("had promoted"), "{done:?}");
    assert_eq!(fake.route(&route), before);
    let ops: Vec<_> = fake.mutating_calls().into_iter().map(|c| c.op).collect();
    assert_eq!(ops, vec!["RemoveTags"]);
}

#[tokio::test]
async fn a_run_killed_while_draining_blue_gets_blue_back_before_the_route() {
    let fake = FakeLoadBalancer::demo();
    let (route, mut record, keys) = recorded(&fake, state_tags::DRAINING_BLUE_STEP);
    fake.force_route(&route, RouteAction::Forward(Forward::single(DEMO_GREEN)));
    let gone = Target {
        id: "10.0.0.1".into(),
        port: None,
        az: None,
    };
    fake.deregister_targets(DEMO_BLUE, std::slice::from_ref(&gone))
        .await
        .unwrap();
    record.deregistered = Some(state_tags::Deregistered {
        group: DEMO_BLUE.into(),
        targets: vec![gone],
    });
    let n = fake.calls().len();
    let done = restore(&fake, &route, &record, &keys).await.unwrap();
    assert!(done[0].contains("deregistering blue"), "{done:?}");
    let after: Vec<_> = fake.calls()[n..].iter().map(|c| c.op).collect();
    let ops: Vec<_> = after
        .iter()
        .copied()
        .filter(|o| crate::alb::fake::MUTATING_OPS.contains(o))
        .collect();
    assert_eq!(
        ops,
        [
            "RegisterTargets",
            "ModifyListener",
            "DeregisterTargets",
            "RemoveTags"
        ]
    );
    let health = after.iter().position(|o| *o == "DescribeTargetHealth");
    let write = after.iter().position(|o| *o == "ModifyListener");
    assert!(
        health.is_some() && health < write,
        "healthy first: {after:?}"
    );
    assert_eq!(
        fake.route(&route),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    assert_eq!(fake.targets_of(DEMO_BLUE).len(), 1);
}
