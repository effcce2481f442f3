//! Pure translation between ELBv2 SDK types and the port's domain types.
//! No I/O here, so every mapping is unit-tested.

use super::model::*;
use aws_sdk_elasticloadbalancingv2::types as sdk;
use std::collections::BTreeMap;

/// The domain view of an action list. A list whose only meaningful action is
/// a forward maps to `Forward`; anything else (redirect, fixed-response, or
/// an authenticate step before the forward) is named so callers can refuse it.
pub fn route_action_from_sdk(actions: &[sdk::Action]) -> RouteAction {
    let mut sorted: Vec<&sdk::Action> = actions.iter().collect();
    sorted.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    if let Some(other) = sorted
        .iter()
        .find(|a| a.r#type() != Some(&sdk::ActionTypeEnum::Forward))
    {
        let action_type = other
            .r#type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        return RouteAction::Other { action_type };
    }
    match sorted.first() {
        Some(forward) => RouteAction::Forward(forward_from_sdk(forward)),
        None => RouteAction::Other {
            action_type: "none".to_string(),
        },
    }
}

fn forward_from_sdk(action: &sdk::Action) -> Forward {
    let config = action.forward_config();
    let groups: Vec<WeightedGroup> = config
        .map(|c| {
            c.target_groups()
                .iter()
                .filter_map(|t| {
                    Some(WeightedGroup {
                        target_group_arn: t.target_group_arn()?.to_string(),
                        weight: clamp_weight(t.weight().unwrap_or(1)),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let stickiness = config
        .and_then(|c| c.target_group_stickiness_config())
        .map(|s| Stickiness {
            enabled: s.enabled().unwrap_or(false),
            duration_seconds: s.duration_seconds(),
        })
        .unwrap_or_default();
    match (action.target_group_arn(), groups.is_empty()) {
        (Some(arn), true) => Forward::single(arn),
        // ELBv2 echoes a plain forward as TargetGroupArn plus a one-group
        // ForwardConfig; treat that as the single shape it was written in.
        (Some(arn), false) if groups.len() == 1 && groups[0].target_group_arn == arn => {
            Forward::single(arn)
        }
        _ => Forward {
            groups,
            stickiness,
            shape: ForwardShape::Weighted,
        },
    }
}

fn clamp_weight(w: i32) -> u16 {
    w.clamp(0, i32::from(u16::MAX)) as u16
}

/// The SDK action that writes `forward` in the shape it has.
pub fn forward_to_sdk(forward: &Forward) -> sdk::Action {
    let builder = sdk::Action::builder().r#type(sdk::ActionTypeEnum::Forward);
    if forward.shape == ForwardShape::Single && forward.groups.len() == 1 {
        return builder
            .target_group_arn(&forward.groups[0].target_group_arn)
            .build();
    }
    let mut config = sdk::ForwardActionConfig::builder();
    for g in &forward.groups {
        config = config.target_groups(
            sdk::TargetGroupTuple::builder()
                .target_group_arn(&g.target_group_arn)
                .weight(i32::from(g.weight))
                .build(),
        );
    }
    let mut sticky =
        sdk::TargetGroupStickinessConfig::builder().enabled(forward.stickiness.enabled);
    if forward.stickiness.enabled {
        sticky = sticky.set_duration_seconds(forward.stickiness.duration_seconds);
    }
    builder
        .forward_config(
            config
                .target_group_stickiness_config(sticky.build())
                .build(),
        )
        .build()
}

pub fn condition_from_sdk(c: &sdk::RuleCondition) -> Condition {
    let field = c.field().unwrap_or("unknown").to_string();
    let (key, values): (Option<String>, Vec<String>) = match field.as_str() {
        "http-header" => match c.http_header_config() {
            Some(h) => (
                h.http_header_name().map(str::to_string),
                h.values().to_vec(),
            ),
            None => (None, c.values().to_vec()),
        },
        "query-string" => (
            None,
            c.query_string_config()
                .map(|q| {
                    q.values()
                        .iter()
                        .map(|kv| match kv.key() {
                            Some(k) => format!("{k}={}", kv.value().unwrap_or("")),
                            None => kv.value().unwrap_or("").to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
        _ => (None, condition_values(c)),
    };
    Condition { field, key, values }
}

fn condition_values(c: &sdk::RuleCondition) -> Vec<String> {
    let specific = match c.field() {
        Some("path-pattern") => c.path_pattern_config().map(|p| p.values().to_vec()),
        Some("host-header") => c.host_header_config().map(|p| p.values().to_vec()),
        Some("source-ip") => c.source_ip_config().map(|p| p.values().to_vec()),
        Some("http-request-method") => c.http_request_method_config().map(|p| p.values().to_vec()),
        _ => None,
    };
    match specific {
        Some(v) if !v.is_empty() => v,
        _ => c.values().to_vec(),
    }
}

pub fn condition_to_sdk(c: &Condition) -> sdk::RuleCondition {
    let b = sdk::RuleCondition::builder().field(&c.field);
    match c.field.as_str() {
        "http-header" => b
            .http_header_config(
                sdk::HttpHeaderConditionConfig::builder()
                    .set_http_header_name(c.key.clone())
                    .set_values(Some(c.values.clone()))
                    .build(),
            )
            .build(),
        "query-string" => {
            let mut q = sdk::QueryStringConditionConfig::builder();
            for v in &c.values {
                let (key, value) = match v.split_once('=') {
                    Some((k, v)) => (Some(k.to_string()), v.to_string()),
                    None => (None, v.clone()),
                };
                q = q.values(
                    sdk::QueryStringKeyValuePair::builder()
                        .set_key(key)
                        .value(value)
                        .build(),
                );
            }
            b.query_string_config(q.build()).build()
        }
        "source-ip" => b
            .source_ip_config(
                sdk::SourceIpConditionConfig::builder()
                    .set_values(Some(c.values.clone()))
                    .build(),
            )
            .build(),
        _ => b.set_values(Some(c.values.clone())).build(),
    }
}

pub fn rule_from_sdk(r: &sdk::Rule) -> Rule {
    Rule {
        arn: r.rule_arn().unwrap_or_default().to_string(),
        priority: r.priority().unwrap_or("default").to_string(),
        is_default: r.is_default().unwrap_or(false),
        conditions: r.conditions().iter().map(condition_from_sdk).collect(),
        action: route_action_from_sdk(r.actions()),
    }
}

pub fn listener_from_sdk(l: &sdk::Listener) -> Listener {
    Listener {
        arn: l.listener_arn().unwrap_or_default().to_string(),
        load_balancer_arn: l.load_balancer_arn().unwrap_or_default().to_string(),
        protocol: l.protocol().map(|p| p.as_str().to_string()),
        port: l.port(),
        default_action: route_action_from_sdk(l.default_actions()),
    }
}

pub fn target_group_from_sdk(t: &sdk::TargetGroup) -> TargetGroup {
    TargetGroup {
        arn: t.target_group_arn().unwrap_or_default().to_string(),
        name: t.target_group_name().unwrap_or_default().to_string(),
        protocol: t.protocol().map(|p| p.as_str().to_string()),
        port: t.port(),
        vpc_id: t.vpc_id().map(str::to_string),
        target_type: t
            .target_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_else(|| "instance".to_string()),
        load_balancer_arns: t.load_balancer_arns().to_vec(),
    }
}

pub fn health_state_from_sdk(s: Option<&sdk::TargetHealthStateEnum>) -> HealthState {
    match s {
        Some(sdk::TargetHealthStateEnum::Healthy) => HealthState::Healthy,
        Some(sdk::TargetHealthStateEnum::Initial) => HealthState::Initial,
        Some(sdk::TargetHealthStateEnum::Unhealthy) => HealthState::Unhealthy,
        Some(sdk::TargetHealthStateEnum::UnhealthyDraining) => HealthState::UnhealthyDraining,
        Some(sdk::TargetHealthStateEnum::Draining) => HealthState::Draining,
        Some(sdk::TargetHealthStateEnum::Unused) => HealthState::Unused,
        _ => HealthState::Unavailable,
    }
}

pub fn target_health_from_sdk(d: &sdk::TargetHealthDescription) -> Option<TargetHealth> {
    let target = d.target()?;
    let health = d.target_health();
    Some(TargetHealth {
        target: Target {
            id: target.id()?.to_string(),
            port: target.port(),
        },
        state: health_state_from_sdk(health.and_then(|h| h.state())),
        reason: health
            .and_then(|h| h.reason())
            .map(|r| r.as_str().to_string()),
    })
}

pub fn target_to_sdk(t: &Target) -> sdk::TargetDescription {
    sdk::TargetDescription::builder()
        .id(&t.id)
        .set_port(t.port)
        .build()
}

pub fn tags_to_sdk(tags: &BTreeMap<String, String>) -> Vec<sdk::Tag> {
    tags.iter()
        .map(|(k, v)| sdk::Tag::builder().key(k).value(v).build())
        .collect()
}

#[cfg(test)]
#[path = "translate_tests.rs"]
mod tests;
