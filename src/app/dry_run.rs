//! `--dry-run`: the validated plan and the exact API calls a run would
//! make, in order, with nothing changed.

use super::print_json;
use crate::alb::{arn_resource, Forward, ForwardShape, RouteRef, Target};
use crate::cli::Output;
use crate::preflight::Validated;
use crate::provider::probe::parse_probe_spec;
use crate::redact;
use crate::settings::Analysis;
use crate::strategy::canary::{CanaryPlan, PlannedStep};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct PlannedCall {
    /// The ELBv2 operation, or `wait` / `analyse` for a pause.
    pub action: String,
    pub resource: String,
    pub detail: String,
}

fn call(action: &str, resource: &str, detail: String) -> PlannedCall {
    PlannedCall {
        action: action.into(),
        resource: resource.into(),
        detail,
    }
}

pub fn forward_text(f: &Forward) -> String {
    if f.shape == ForwardShape::Single && f.groups.len() == 1 {
        return format!("forward to {}", arn_resource(&f.groups[0].target_group_arn));
    }
    let groups: Vec<String> = f
        .groups
        .iter()
        .map(|g| format!("{}={}", arn_resource(&g.target_group_arn), g.weight))
        .collect();
    let sticky = match (f.stickiness.enabled, f.stickiness.duration_seconds) {
        (true, Some(d)) => format!(", stickiness {d}s"),
        (true, None) => ", stickiness on".into(),
        (false, _) => String::new(),
    };
    format!("weighted forward {}{sticky}", groups.join(" "))
}

fn write_call(route: &RouteRef, f: &Forward) -> PlannedCall {
    let (op, read) = match route {
        RouteRef::ListenerDefault { .. } => ("ModifyListener", "DescribeListeners"),
        RouteRef::Rule { .. } => ("ModifyRule", "DescribeRules"),
    };
    call(
        op,
        route.owner_arn(),
        format!(
            "{} (after a {read} of the live actions, so authenticate steps are kept); then {read} to verify",
            forward_text(f)
        ),
    )
}

/// Before the first change: which targets green has (with `--register`),
/// the tags (a leftover record is replaced whole), the record, its read-back.
fn record_calls(v: &Validated, register: &[Target]) -> Vec<PlannedCall> {
    let owner = v.route.owner_arn();
    let mut out = vec![];
    if !register.is_empty() {
        out.push(call(
            "DescribeTargetHealth",
            &v.green.arn,
            "which --register targets green already has: those are kept on revert".into(),
        ));
    }
    out.extend([
        call(
            "DescribeTags",
            owner,
            "a leftover record (--force) is replaced whole".into(),
        ),
        call(
            "AddTags",
            owner,
            "record the run: run id, original route, step, heartbeat (alb-rollout:*), the heartbeat then updated every interval".into(),
        ),
        call(
            "DescribeTags",
            owner,
            "read the record back after 1s; stop if another run wrote its own".into(),
        ),
    ]);
    out
}

pub fn calls(
    v: &Validated,
    plan: &CanaryPlan,
    register: &[Target],
    an: &Analysis,
) -> Vec<PlannedCall> {
    let owner = v.route.owner_arn();
    let mut out = record_calls(v, register);
    if !register.is_empty() {
        let ids: Vec<String> = register.iter().map(Target::to_string).collect();
        out.push(call("RegisterTargets", &v.green.arn, ids.join(", ")));
    }
    out.push(call(
        "wait",
        &v.green.arn,
        "DescribeTargetHealth until green has healthy targets".into(),
    ));
    for (i, step) in plan.steps.iter().enumerate() {
        out.extend(step_calls(v, i, plan.steps.len(), step, an));
    }
    out.push(drift_call(&v.route, "what the previous step wrote"));
    out.push(call(
        "AddTags",
        owner,
        "step promoting: if the run dies before the promotion is verified, `rollback` restores the original".into(),
    ));
    out.push(write_call(&v.route, &plan.promoted));
    out.push(call(
        "AddTags",
        owner,
        "step promoted: from here `rollback` leaves the route alone".into(),
    ));
    out.push(call("RemoveTags", owner, "remove the run record".into()));
    out
}

/// The read that stops a run whose route someone else changed.
fn drift_call(route: &RouteRef, what: &str) -> PlannedCall {
    let read = match route {
        RouteRef::ListenerDefault { .. } => "DescribeListeners",
        RouteRef::Rule { .. } => "DescribeRules",
    };
    call(
        read,
        route.owner_arn(),
        format!("the route must still be {what}"),
    )
}

/// One step: the drift check (against the original before the first
/// step, while green's health was awaited), the health gate, the
/// write with its read-back, the step tag, and the hold with analysis.
fn step_calls(
    v: &Validated,
    i: usize,
    n: usize,
    step: &PlannedStep,
    an: &Analysis,
) -> Vec<PlannedCall> {
    let owner = v.route.owner_arn();
    let mut out = Vec::new();
    out.push(drift_call(
        &v.route,
        match i {
            0 => "the original read at preflight",
            _ => "what the previous step wrote",
        },
    ));
    out.extend([
        call(
            "DescribeTargetHealth",
            &v.green.arn,
            "green must have a healthy target before it gets weight".into(),
        ),
        write_call(&v.route, &step.forward),
        call("AddTags", owner, format!("step {} of {n}", i + 1)),
    ]);
    if !step.bake.is_zero() {
        let every = humantime::format_duration(an.interval);
        let hold = humantime::format_duration(step.bake);
        let how = if an.cloudwatch {
            format!(
                "until CloudWatch minutes covering {hold} after the shift have arrived and passed \
                 (ALB metrics lag 1-3 min), checking every {every}"
            )
        } else {
            format!("for {hold}, checking every {every}")
        };
        out.push(call(
            "analyse",
            &v.green.arn,
            format!("hold {} {how}", step.percent),
        ));
    }
    out
}

/// The optional checks and where they read from, URLs masked: a probe or
/// Prometheus URL may carry a password or token.
fn sources_json(an: &Analysis) -> serde_json::Value {
    let probe = an
        .probe
        .as_deref()
        .map(|spec| match parse_probe_spec(spec) {
            Ok((url, status)) => {
                serde_json::json!({"url": redact::url(&url), "status": status.to_string()})
            }
            Err(_) => serde_json::json!({"url": redact::url(spec)}),
        });
    let prometheus = an
        .prometheus
        .as_ref()
        .map(|(url, query)| serde_json::json!({"url": redact::url(url), "query": query}));
    serde_json::json!({"probe": probe, "prometheus": prometheus})
}

fn print_sources(an: &Analysis) {
    let s = sources_json(an);
    if let Some(url) = s["probe"]["url"].as_str() {
        let status = s["probe"]["status"].as_str().unwrap_or("2xx");
        println!("probe:   GET {url} each interval, expecting {status}");
    }
    if let (Some(url), Some(q)) = (
        s["prometheus"]["url"].as_str(),
        s["prometheus"]["query"].as_str(),
    ) {
        let max = an.thresholds.prometheus_max.unwrap_or_default();
        println!("prometheus: `{q}` at {url}, max {max}");
    }
}

pub fn print(
    v: &Validated,
    plan: &CanaryPlan,
    register: &[Target],
    an: &Analysis,
    output: Output,
) -> i32 {
    let calls = calls(v, plan, register, an);
    let revert = write_call(&v.route, &plan.original);
    match output {
        Output::Json => print_json(&serde_json::json!({
            "result": "dry-run",
            "exit_code": 0,
            "route": v.route,
            "blue": v.blue.arn,
            "green": v.green.arn,
            "original": plan.original,
            "steps": plan.steps,
            "promoted": plan.promoted,
            "thresholds": an.thresholds,
            "sources": sources_json(an),
            "calls": calls,
            "on_failure": [revert],
        })),
        Output::Text => {
            println!("dry run: preflight passed, nothing was changed");
            println!("route:   the {}", v.route);
            println!("now:     {}", forward_text(&plan.original));
            println!("blue:    {}\ngreen:   {}", v.blue.arn, v.green.arn);
            print_sources(an);
            println!(
                "plan ({} steps, {} of analysis):",
                plan.steps.len(),
                humantime::format_duration(plan.total_bake())
            );
            for (i, c) in calls.iter().enumerate() {
                println!(
                    "  {:>2}. {:<16} {}  {}",
                    i + 1,
                    c.action,
                    arn_resource(&c.resource),
                    c.detail
                );
            }
            println!(
                "on a failed check or cancel: {} {}  {}",
                revert.action,
                arn_resource(&revert.resource),
                revert.detail
            );
        }
    }
    0
}
