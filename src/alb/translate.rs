//! Pure translation between ELBv2 SDK types and the port's domain types
//! (action lists and forward shapes are in `route_sdk`, re-exported here).
//! No I/O here, so every mapping is unit-tested.

use super::model::*;
pub use super::route_sdk::{
    forward_from_sdk, forward_to_sdk, leading_from_sdk, route_action_from_sdk, splice_forward,
};
use aws_sdk_elasticloadbalancingv2::types as sdk;
use std::collections::BTreeMap;

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
    Condition {
        regex_values: regex_values(c),
        field,
        key,
        values,
    }
}

/// `RegexValues` (ALB regex matching, 2025), from the field's config where
/// ELBv2 puts them, or from the condition itself.
fn regex_values(c: &sdk::RuleCondition) -> Vec<String> {
    let specific = match c.field() {
        Some("path-pattern") => c.path_pattern_config().map(|p| p.regex_values().to_vec()),
        Some("host-header") => c.host_header_config().map(|p| p.regex_values().to_vec()),
        Some("http-header") => c.http_header_config().map(|p| p.regex_values().to_vec()),
        _ => None,
    };
    match specific {
        Some(v) if !v.is_empty() => v,
        _ => c.regex_values().to_vec(),
    }
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

/// `Some(list)` when there is something to send: ELBv2 refuses an empty
/// `Values` next to `RegexValues`.
fn some(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

/// Each field in its own config (ELBv2 takes the legacy top-level `Values`
/// for host-header and path-pattern only), regexes included.
pub fn condition_to_sdk(c: &Condition) -> sdk::RuleCondition {
    let b = sdk::RuleCondition::builder().field(&c.field);
    let (values, regex) = (some(&c.values), some(&c.regex_values));
    match c.field.as_str() {
        "http-header" => b
            .http_header_config(
                sdk::HttpHeaderConditionConfig::builder()
                    .set_http_header_name(c.key.clone())
                    .set_values(values)
                    .set_regex_values(regex)
                    .build(),
            )
            .build(),
        "query-string" => b.query_string_config(query_to_sdk(&c.values)).build(),
        "source-ip" => b
            .source_ip_config(
                sdk::SourceIpConditionConfig::builder()
                    .set_values(values)
                    .build(),
            )
            .build(),
        "http-request-method" => b
            .http_request_method_config(
                sdk::HttpRequestMethodConditionConfig::builder()
                    .set_values(values)
                    .build(),
            )
            .build(),
        "host-header" => b
            .host_header_config(
                sdk::HostHeaderConditionConfig::builder()
                    .set_values(values)
                    .set_regex_values(regex)
                    .build(),
            )
            .build(),
        "path-pattern" => b
            .path_pattern_config(
                sdk::PathPatternConditionConfig::builder()
                    .set_values(values)
                    .set_regex_values(regex)
                    .build(),
            )
            .build(),
        _ => b.set_values(values).build(),
    }
}

fn query_to_sdk(values: &[String]) -> sdk::QueryStringConditionConfig {
    let mut q = sdk::QueryStringConditionConfig::builder();
    for v in values {
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
    q.build()
}

pub fn rule_from_sdk(r: &sdk::Rule) -> Rule {
    Rule {
        arn: r.rule_arn().unwrap_or_default().to_string(),
        priority: r.priority().unwrap_or("default").to_string(),
        is_default: r.is_default().unwrap_or(false),
        conditions: r.conditions().iter().map(condition_from_sdk).collect(),
        leading: leading_from_sdk(r.actions()),
        action: route_action_from_sdk(r.actions()),
    }
}

pub fn listener_from_sdk(l: &sdk::Listener) -> Listener {
    Listener {
        arn: l.listener_arn().unwrap_or_default().to_string(),
        load_balancer_arn: l.load_balancer_arn().unwrap_or_default().to_string(),
        protocol: l.protocol().map(|p| p.as_str().to_string()),
        port: l.port(),
        leading: leading_from_sdk(l.default_actions()),
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
            az: target.availability_zone().map(str::to_string),
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
        .set_availability_zone(t.az.clone())
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
