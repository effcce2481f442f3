//! `alb-rollout routes list` and `routes remove`: the rules this tool
//! created on a listener (edge toggles left by `dark --keep` or `ab
//! --keep`, or a run's rule in progress), found by their
//! `alb-rollout:rule-of` tag, and the removal of one of them. A rule
//! without the tag is never deleted: `remove` refuses it with exit 2 and
//! sends no mutating call. `delete_if_run_owns` is the one deletion by
//! priority that `rollback` uses for a recorded run's rules.

use super::{failed, invalid, print_json};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::{arn_resource, state_tags, LoadBalancerPort, Rule};
use crate::cli::{Output, RoutesArgs, RoutesCmd, RoutesRemoveArgs};
use crate::executor::apply::{retry, ApplyPolicy};
use crate::executor::RULE_TAG;
use crate::preflight::InputError;
use crate::strategy::rules_render::match_forms;
use serde::Serialize;
use std::collections::BTreeMap;

/// One rule this tool created, as `routes list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedRule {
    pub rule_arn: String,
    pub priority: String,
    /// The conditions as `--match` forms (all must hold).
    pub matches: Vec<String>,
    /// Where matching requests go: `NAME WEIGHT, ...`, or the action type.
    pub target: String,
    pub run_id: String,
    /// Unix seconds the creating run started (from its run ID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_unix: Option<u64>,
    /// The creating run is still recorded on the listener (not finished).
    pub run_in_progress: bool,
}

/// When a run started, from its ID (`r-` + hex seconds + 4 hex digits).
pub fn run_started(run_id: &str) -> Option<u64> {
    let hex = run_id.strip_prefix("r-")?;
    let secs = hex.get(..hex.len().checked_sub(4)?)?;
    u64::from_str_radix(secs, 16).ok()
}

/// The rule as `routes list` shows it, if this tool created it.
pub fn managed(
    rule: &Rule,
    tags: &BTreeMap<String, String>,
    live_run: Option<&str>,
) -> Option<ManagedRule> {
    let run_id = tags.get(RULE_TAG)?.clone();
    let target = match rule.action.as_forward() {
        Some(f) => f.weights_text(),
        None => format!("{:?}", rule.action),
    };
    Some(ManagedRule {
        rule_arn: rule.arn.clone(),
        priority: rule.priority.clone(),
        matches: match_forms(&rule.conditions),
        target,
        created_unix: run_started(&run_id),
        run_in_progress: live_run == Some(run_id.as_str()),
        run_id,
    })
}

/// The listener's rules that carry the tool's tag, lowest priority first.
pub async fn list(lb: &dyn LoadBalancerPort, listener: &str) -> Result<Vec<ManagedRule>, String> {
    let p = ApplyPolicy::default();
    let rules = retry(p.write_attempts, p.backoff, || lb.rules(listener))
        .await
        .map_err(|e| e.to_string())?;
    let live = retry(p.write_attempts, p.backoff, || lb.tags(listener))
        .await
        .ok()
        .and_then(|t| state_tags::decode(&t).ok().flatten())
        .map(|r| r.run_id);
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| !r.is_default) {
        let tags = retry(p.write_attempts, p.backoff, || lb.tags(&rule.arn))
            .await
            .map_err(|e| e.to_string())?;
        out.extend(managed(rule, &tags, live.as_deref()));
    }
    Ok(out)
}

/// Why `rule_arn` may not be removed, or the rule as listed.
pub async fn removable(
    lb: &dyn LoadBalancerPort,
    listener: &str,
    rule_arn: &str,
) -> Result<ManagedRule, InputError> {
    let culprit = format!("--rule {rule_arn}");
    let all = list_all(lb, listener)
        .await
        .map_err(|e| InputError::new("--listener", e))?;
    let Some((rule, tags)) = all.iter().find(|(r, _)| r.arn == rule_arn) else {
        return Err(InputError::new(culprit, format!("is not a rule of listener {listener}; `alb-rollout routes list --listener {listener}` shows the rules this tool created")));
    };
    let live = lb
        .tags(listener)
        .await
        .ok()
        .and_then(|t| state_tags::decode(&t).ok().flatten());
    let Some(m) = managed(rule, tags, live.as_ref().map(|r| r.run_id.as_str())) else {
        return Err(InputError::new(culprit, format!("was not created by alb-rollout (it has no {RULE_TAG} tag), so it is not removed; delete it with the AWS console or CLI if you mean to")));
    };
    if m.run_in_progress {
        return Err(InputError::new(culprit, format!("belongs to run {} in progress on this listener; cancel that run (it deletes its rule) or, if it crashed, `alb-rollout rollback --listener {listener}`", m.run_id)));
    }
    Ok(m)
}

async fn list_all(
    lb: &dyn LoadBalancerPort,
    listener: &str,
) -> Result<Vec<(Rule, BTreeMap<String, String>)>, String> {
    let rules = lb.rules(listener).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for r in rules.into_iter().filter(|r| !r.is_default) {
        let tags = lb.tags(&r.arn).await.map_err(|e| e.to_string())?;
        out.push((r, tags));
    }
    Ok(out)
}

pub async fn run(config: &aws_config::SdkConfig, a: &RoutesArgs, output: Output) -> i32 {
    let env = crate::aws_env::check(config).await;
    if !env.is_empty() {
        return invalid(&env, output);
    }
    let lb = AwsLoadBalancer::new(config);
    match &a.command {
        RoutesCmd::List(l) => match list(&lb, &l.listener).await {
            Ok(rules) => print_list(&l.listener, &rules, output),
            Err(e) => invalid(
                &[InputError::new(format!("--listener {}", l.listener), e)],
                output,
            ),
        },
        RoutesCmd::Remove(r) => remove(&lb, r, output).await,
    }
}

async fn remove(lb: &dyn LoadBalancerPort, a: &RoutesRemoveArgs, output: Output) -> i32 {
    let m = match removable(lb, &a.listener, &a.rule).await {
        Ok(m) => m,
        Err(e) => return invalid(&[e], output),
    };
    let what = format!(
        "rule {} at priority {} ({} -> {}, created by run {})",
        m.rule_arn,
        m.priority,
        m.matches.join(" AND "),
        m.target,
        m.run_id
    );
    if a.dry_run {
        return done(
            output,
            "dry-run",
            &format!("dry run: would delete {what}"),
            &m,
        );
    }
    let p = ApplyPolicy::default();
    if let Err(e) = retry(p.write_attempts, p.backoff, || lb.delete_rule(&m.rule_arn)).await {
        return failed(&format!("{what} was not deleted: {e}"), 1, output);
    }
    done(output, "removed", &format!("removed {what}"), &m)
}

fn done(output: Output, result: &str, line: &str, m: &ManagedRule) -> i32 {
    crate::report::github::result_only(result, None);
    match output {
        Output::Json => {
            print_json(&serde_json::json!({"result": result, "exit_code": 0, "rule": m}))
        }
        Output::Text => println!("{line}"),
    }
    0
}

fn print_list(listener: &str, rules: &[ManagedRule], output: Output) -> i32 {
    crate::report::github::result_only("ok", None);
    if output == Output::Json {
        print_json(
            &serde_json::json!({"result": "ok", "exit_code": 0, "listener_arn": listener, "rules": rules}),
        );
        return 0;
    }
    if rules.is_empty() {
        println!(
            "no rules created by alb-rollout on {}",
            arn_resource(listener)
        );
        return 0;
    }
    for r in rules {
        let when = r
            .created_unix
            .map(|s| {
                humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(s),
                )
                .to_string()
            })
            .unwrap_or_else(|| "unknown".into());
        let live = if r.run_in_progress {
            " (run in progress)"
        } else {
            ""
        };
        println!(
            "priority {}: {} -> {}\n  created {when} by run {}{live}\n  {}",
            r.priority,
            r.matches.join(" AND "),
            r.target,
            r.run_id,
            r.rule_arn
        );
    }
    0
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
