//! `routes` on the fake: only tagged rules are listed and removable, and
//! the rollback deletion leaves every rule the run did not create.

use super::*;
use crate::alb::fake::*;
use crate::alb::{Condition, Forward, RouteAction};

fn header(v: &str) -> Vec<Condition> {
    vec![Condition {
        field: "http-header".into(),
        key: Some("X-Variant".into()),
        values: vec![v.into()],
        ..Default::default()
    }]
}

async fn ours(fake: &FakeLoadBalancer, priority: u32, run: &str) -> String {
    let tags = BTreeMap::from([(RULE_TAG.to_string(), run.to_string())]);
    let conditions = header("b");
    let forward = Forward::single(DEMO_GREEN);
    let rule = crate::alb::NewRule {
        listener_arn: DEMO_LISTENER,
        priority,
        conditions: &conditions,
        carry_from: None,
        forward: &forward,
    };
    fake.create_rule(&rule, &tags).await.unwrap()
}

#[tokio::test]
async fn only_the_tools_rules_are_listed_and_removable() {
    let fake = FakeLoadBalancer::demo();
    fake.add_rule(
        DEMO_LISTENER,
        "foreign",
        1,
        RouteAction::Forward(Forward::single(DEMO_BLUE)),
    );
    let arn = ours(&fake, 2, "r-6a000000abcd").await;
    let listed = list(&fake, DEMO_LISTENER).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].rule_arn, arn);
    assert_eq!(listed[0].matches, vec!["header:X-Variant=b"]);
    assert_eq!(listed[0].created_unix, Some(0x6a00_0000));
    assert!(!listed[0].run_in_progress);
    let refused = removable(&fake, DEMO_LISTENER, "foreign")
        .await
        .unwrap_err();
    assert!(
        refused.message.contains("was not created by alb-rollout"),
        "{refused}"
    );
    let elsewhere = removable(&fake, DEMO_LISTENER, "nope").await.unwrap_err();
    assert!(
        elsewhere.message.contains("is not a rule of listener"),
        "{elsewhere}"
    );
    assert!(
        fake.mutating_calls().iter().all(|c| c.op == "CreateRule"),
        "{:?}",
        fake.mutating_calls()
    );
    assert_eq!(
        removable(&fake, DEMO_LISTENER, &arn)
            .await
            .unwrap()
            .rule_arn,
        arn
    );
}

#[tokio::test]
async fn rollback_deletes_only_the_rule_its_run_created() {
    let fake = FakeLoadBalancer::demo();
    fake.add_rule(
        DEMO_LISTENER,
        "foreign",
        1,
        RouteAction::Forward(Forward::single(DEMO_BLUE)),
    );
    ours(&fake, 2, "r-other").await;
    let mine = ours(&fake, 3, "r-mine").await;
    let goal = crate::engine::goal::Goal {
        rules: vec![1, 2, 3, 4],
        ..crate::engine::goal::Goal::nothing()
    };
    let said =
        super::super::rollback::converge_lines(&fake, None, DEMO_LISTENER, "r-mine", goal, None)
            .await
            .unwrap();
    assert_eq!(
        said,
        vec!["deleted rule at priority 3 (it carried the run's tag)".to_string()],
        "{mine}"
    );
    let left: Vec<String> = fake
        .rules(DEMO_LISTENER)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| !r.is_default)
        .map(|r| r.priority)
        .collect();
    assert_eq!(left, vec!["1", "2"]);
}

#[test]
fn run_ids_tell_when_they_started() {
    assert_eq!(run_started("r-6a0000001234"), Some(0x6a00_0000));
    assert_eq!(run_started("r-12"), None);
    assert_eq!(run_started("x"), None);
}
