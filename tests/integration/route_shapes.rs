//! Every shape a listener's default action or a rule can have, read, shifted
//! like a canary step and restored through the real adapter
//! (`AwsLoadBalancer`) against the emulator: the final DescribeListeners /
//! DescribeRules answer equals the original in every field (SDK structs, not
//! the domain model).

use crate::support::*;
use alb_rollout::alb::aws::AwsLoadBalancer;
use alb_rollout::alb::*;
use alb_rollout::plan::Tenths;
use alb_rollout::strategy::canary::forward_at;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, HttpHeaderConditionConfig,
    PathPatternConditionConfig, QueryStringConditionConfig, QueryStringKeyValuePair, RuleCondition,
    TargetGroupStickinessConfig, TargetGroupTuple,
};

pub fn plain(arn: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(arn)
        .build()
}

pub fn config(groups: &[(&str, i32)], sticky: Option<(bool, Option<i32>)>) -> Action {
    let mut c = ForwardActionConfig::builder();
    for (arn, w) in groups {
        c = c.target_groups(
            TargetGroupTuple::builder()
                .target_group_arn(*arn)
                .weight(*w)
                .build(),
        );
    }
    if let Some((enabled, duration)) = sticky {
        c = c.target_group_stickiness_config(
            TargetGroupStickinessConfig::builder()
                .enabled(enabled)
                .set_duration_seconds(duration)
                .build(),
        );
    }
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(c.build())
        .build()
}

/// Three more target groups in the demo's VPC, for the wide shapes.
pub async fn extra_groups(client: &elbv2::Client, d: &Demo) -> Vec<String> {
    let out = client
        .describe_target_groups()
        .target_group_arns(&d.blue)
        .send()
        .await
        .unwrap();
    let vpc = out.target_groups()[0].vpc_id().unwrap().to_string();
    let mut arns = Vec::new();
    for i in 0..3 {
        let tg = client
            .create_target_group()
            .name(format!("shape-{i}"))
            .protocol(elbv2::types::ProtocolEnum::Http)
            .port(80)
            .vpc_id(&vpc)
            .target_type(elbv2::types::TargetTypeEnum::Ip)
            .send()
            .await
            .unwrap();
        arns.push(
            tg.target_groups()[0]
                .target_group_arn()
                .unwrap()
                .to_string(),
        );
    }
    arns
}

/// (name, the action that sets the route up, the shape it must read as)
pub fn shapes(blue: &str, green: &str, x: &[String]) -> Vec<(&'static str, Action, ForwardShape)> {
    use ForwardShape::*;
    vec![
        ("plain TargetGroupArn", plain(blue), Single),
        (
            "one group, no stickiness",
            config(&[(blue, 1)], None),
            Single,
        ),
        (
            "one group, sticky 3600 s",
            config(&[(blue, 1)], Some((true, Some(3600)))),
            Weighted,
        ),
        (
            "one group, off with a duration",
            config(&[(blue, 1)], Some((false, Some(600)))),
            Weighted,
        ),
        (
            "two groups, one at 0",
            config(&[(blue, 999), (&x[0], 0)], None),
            Weighted,
        ),
        (
            "three groups, zeros, sticky",
            config(
                &[(&x[0], 0), (blue, 500), (&x[1], 0)],
                Some((true, Some(120))),
            ),
            Weighted,
        ),
        (
            "five groups, zeros",
            config(
                &[(blue, 1), (&x[0], 0), (&x[1], 0), (&x[2], 0), (green, 0)],
                None,
            ),
            Weighted,
        ),
    ]
}

/// A canary step at 10% and back to the original, each write read back
/// exactly. Returns the original as read.
pub async fn shift_and_restore(
    lb: &AwsLoadBalancer,
    route: &RouteRef,
    blue: &str,
    green: &str,
) -> Forward {
    let original = lb
        .read_route(route)
        .await
        .unwrap()
        .as_forward()
        .unwrap()
        .clone();
    let step = forward_at(&original, blue, green, Tenths(100), original.stickiness);
    lb.write_forward(route, &step).await.unwrap();
    let shifted = lb.read_route(route).await.unwrap();
    assert_eq!(
        shifted,
        RouteAction::Forward(step.clone()),
        "the step reads back exactly"
    );
    assert_ne!(step, original);
    lb.write_forward(route, &original).await.unwrap();
    assert_eq!(
        lb.read_route(route).await.unwrap(),
        RouteAction::Forward(original.clone())
    );
    original
}

pub async fn describe_listener(client: &elbv2::Client, arn: &str) -> elbv2::types::Listener {
    let out = client
        .describe_listeners()
        .listener_arns(arn)
        .send()
        .await
        .unwrap();
    out.listeners()[0].clone()
}

pub async fn describe_rules(client: &elbv2::Client, listener: &str) -> Vec<elbv2::types::Rule> {
    let out = client
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
        .unwrap();
    out.rules().to_vec()
}

#[tokio::test]
async fn every_listener_shape_is_restored_field_for_field() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let cfg = emu.sdk_config().await;
    let (client, lb) = (elbv2::Client::new(&cfg), AwsLoadBalancer::new(&cfg));
    let x = extra_groups(&client, &d).await;
    let route = RouteRef::new(&d.listener, None);
    for (name, action, shape) in shapes(&d.blue, &d.green, &x) {
        client
            .modify_listener()
            .listener_arn(&d.listener)
            .default_actions(action)
            .send()
            .await
            .unwrap();
        let before = (
            describe_listener(&client, &d.listener).await,
            describe_rules(&client, &d.listener).await,
        );
        let original = shift_and_restore(&lb, &route, &d.blue, &d.green).await;
        assert_eq!(original.shape, shape, "{name}");
        let after = (
            describe_listener(&client, &d.listener).await,
            describe_rules(&client, &d.listener).await,
        );
        assert_eq!(after, before, "{name}: restored listener differs");
    }
}

fn conditions() -> Vec<RuleCondition> {
    vec![
        RuleCondition::builder()
            .field("path-pattern")
            .path_pattern_config(
                PathPatternConditionConfig::builder()
                    .values("/api/*")
                    .build(),
            )
            .build(),
        RuleCondition::builder()
            .field("http-header")
            .http_header_config(
                HttpHeaderConditionConfig::builder()
                    .http_header_name("X-Canary")
                    .values("1")
                    .build(),
            )
            .build(),
        RuleCondition::builder()
            .field("query-string")
            .query_string_config(
                QueryStringConditionConfig::builder()
                    .values(
                        QueryStringKeyValuePair::builder()
                            .key("variant")
                            .value("b")
                            .build(),
                    )
                    .build(),
            )
            .build(),
    ]
}

#[tokio::test]
async fn every_rule_shape_is_restored_with_conditions_and_priority_untouched() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let cfg = emu.sdk_config().await;
    let (client, lb) = (elbv2::Client::new(&cfg), AwsLoadBalancer::new(&cfg));
    let x = extra_groups(&client, &d).await;
    let out = client
        .create_rule()
        .listener_arn(&d.listener)
        .priority(10)
        .set_conditions(Some(conditions()))
        .actions(plain(&d.blue))
        .send()
        .await
        .unwrap();
    let rule = out.rules()[0].rule_arn().unwrap().to_string();
    let route = RouteRef::new(&d.listener, Some(&rule));
    for (name, action, shape) in shapes(&d.blue, &d.green, &x) {
        client
            .modify_rule()
            .rule_arn(&rule)
            .actions(action)
            .send()
            .await
            .unwrap();
        let before = describe_rules(&client, &d.listener).await;
        let original = shift_and_restore(&lb, &route, &d.blue, &d.green).await;
        assert_eq!(original.shape, shape, "{name}");
        let after = describe_rules(&client, &d.listener).await;
        assert_eq!(after, before, "{name}: restored rules differ");
        let r = after.iter().find(|r| r.rule_arn() == Some(&rule)).unwrap();
        assert_eq!(
            (r.priority(), r.conditions().len()),
            (Some("10"), 3),
            "{name}"
        );
    }
}
