//! `--dry-run`: the validated plan and the exact API calls a run would
//! make, in order, with nothing changed. The calls are derived from the
//! plan's actions (and the revert from the engine's derivation), so every
//! strategy that plans in actions gets its dry run from here.

use super::print_json;
use crate::alb::{arn_resource, Forward, ForwardShape, RouteRef, Target};
use crate::cli::Output;
use crate::engine::{revert, Action, BakeSpec, Group, Plan, Purpose, RouteWrite, RuleSpec};
use crate::preflight::Validated;
use crate::provider::probe::parse_probe_spec;
use crate::redact;
use crate::settings::Analysis;
use crate::strategy::canary::CanaryPlan;
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

/// Before the record: which targets each group the plan registers in
/// already has (those are neither registered nor removed again).
fn prepare_calls(plan: &Plan) -> Vec<PlannedCall> {
    plan.registers()
        .into_iter()
        .map(|(g, _)| {
            call(
                "DescribeTargetHealth",
                &g.arn,
                format!(
                    "which --register targets {} already has: those are kept on revert",
                    g.role
                ),
            )
        })
        .collect()
}

/// The record: the tags (a leftover record is replaced whole), the
/// record, its read-back.
fn record_calls(owner: &str) -> Vec<PlannedCall> {
    vec![
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
    ]
}

/// The calls of a plan, in order.
pub fn calls(route: &RouteRef, plan: &Plan, an: &Analysis) -> Vec<PlannedCall> {
    let mut out = prepare_calls(plan);
    for a in &plan.actions {
        out.extend(action_calls(route, plan, a, an));
    }
    out
}

/// The calls of the revert after a failure at the plan's last change
/// (`--abort` decides its shape; a flip is the same from any step).
pub fn revert_calls(route: &RouteRef, plan: &Plan, an: &Analysis) -> Vec<PlannedCall> {
    let applied: Vec<Action> = plan
        .actions
        .iter()
        .filter(|a| **a != Action::Unrecord)
        .cloned()
        .collect();
    revert::derive(&applied, plan.abort)
        .iter()
        .flat_map(|a| action_calls(route, plan, a, an))
        .collect()
}

fn action_calls(route: &RouteRef, plan: &Plan, a: &Action, an: &Analysis) -> Vec<PlannedCall> {
    let owner = route.owner_arn();
    let ids = |t: &[Target]| {
        t.iter()
            .map(Target::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match a {
        Action::Record => record_calls(owner),
        Action::Register { group, targets } => {
            vec![call("RegisterTargets", &group.arn, ids(targets))]
        }
        Action::Deregister { group, targets } => vec![
            call(
                "DescribeTargetHealth",
                &group.arn,
                format!(
                    "if {} takes traffic, it must keep a healthy target",
                    group.role
                ),
            ),
            call("DeregisterTargets", &group.arn, ids(targets)),
        ],
        Action::AwaitHealthy { group, .. } => vec![wait_call(group, "has healthy targets")],
        Action::AwaitDrained { group, .. } => {
            vec![wait_call(group, "no longer lists the targets (drained)")]
        }
        Action::WriteRoute(w) => write_calls(route, plan, w),
        Action::CreateRule(r) => vec![call(
            "CreateRule",
            &r.listener_arn,
            format!("{}, tagged with the run", rule_text(r)),
        )],
        Action::DeleteRule(r) => vec![
            call(
                "DescribeRules",
                &r.listener_arn,
                format!("find {}", rule_text(r)),
            ),
            call(
                "DescribeTags",
                &r.listener_arn,
                "delete it only if this run created it".into(),
            ),
            call("DeleteRule", &r.listener_arn, rule_text(r)),
        ],
        Action::Bake(b) => bake_call(plan, b, an).into_iter().collect(),
        Action::Unrecord => vec![call("RemoveTags", owner, "remove the run record".into())],
    }
}

fn rule_text(r: &RuleSpec) -> String {
    format!(
        "the rule at priority {}: {}",
        r.priority,
        forward_text(&r.forward)
    )
}

fn wait_call(group: &Group, what: &str) -> PlannedCall {
    call(
        "wait",
        &group.arn,
        format!("DescribeTargetHealth until {} {what}", group.role),
    )
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

/// A route write: the drift check, the health gate for every group whose
/// share rises, the marks around the write, the write with its read-back.
/// A revert's writes are the write alone.
fn write_calls(route: &RouteRef, plan: &Plan, w: &RouteWrite) -> Vec<PlannedCall> {
    let owner = route.owner_arn();
    let mut out = Vec::new();
    let first = w.from == plan.original;
    match &w.purpose {
        Purpose::Restore | Purpose::RampBack { .. } => return vec![write_call(route, &w.to)],
        Purpose::Step { .. } | Purpose::Promote { .. } => out.push(drift_call(
            route,
            match first {
                true => "the original read at preflight",
                false => "what the previous step wrote",
            },
        )),
    }
    for g in &w.to.groups {
        let arn = &g.target_group_arn;
        if w.to.percent_of(arn) > w.from.percent_of(arn) {
            let role = plan.role_of(arn);
            let why = format!("{role} must have a healthy target before it gets weight");
            out.push(call("DescribeTargetHealth", arn, why));
        }
    }
    match &w.purpose {
        Purpose::Step { index, of, .. } => {
            out.push(write_call(route, &w.to));
            out.push(call(
                "AddTags",
                owner,
                format!("step {} of {of}", index + 1),
            ));
        }
        _ => {
            out.push(call(
                "AddTags",
                owner,
                "step promoting: if the run dies before the promotion is verified, `rollback` restores the original".into(),
            ));
            out.push(write_call(route, &w.to));
            out.push(call(
                "AddTags",
                owner,
                "step promoted: from here `rollback` leaves the route alone".into(),
            ));
        }
    }
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

/// The hold with analysis of a step that has one.
fn bake_call(plan: &Plan, b: &BakeSpec, an: &Analysis) -> Option<PlannedCall> {
    if b.duration.is_zero() {
        return None;
    }
    let every = humantime::format_duration(an.interval);
    let hold = humantime::format_duration(b.duration);
    let how = if an.cloudwatch {
        format!(
            "until CloudWatch minutes covering {hold} after the shift have arrived and passed \
             (ALB metrics lag 1-3 min), checking every {every}"
        )
    } else {
        format!("for {hold}, checking every {every}")
    };
    Some(call(
        "analyse",
        &plan.green,
        format!("hold {} {how}", b.percent),
    ))
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
    canary: &CanaryPlan,
    register: &[Target],
    an: &Analysis,
    output: Output,
) -> i32 {
    let plan = canary.actions(register);
    let calls = calls(&v.route, &plan, an);
    let on_failure = revert_calls(&v.route, &plan, an);
    match output {
        Output::Json => print_json(&serde_json::json!({
            "result": "dry-run",
            "exit_code": 0,
            "route": v.route,
            "blue": v.blue.arn,
            "green": v.green.arn,
            "original": canary.original,
            "steps": canary.steps,
            "promoted": canary.promoted,
            "abort": plan.abort,
            "thresholds": an.thresholds,
            "sources": sources_json(an),
            "actions": plan.actions,
            "calls": calls,
            "on_failure": on_failure,
        })),
        Output::Text => print_text(v, canary, an, &calls, &on_failure),
    }
    0
}

fn print_text(
    v: &Validated,
    canary: &CanaryPlan,
    an: &Analysis,
    calls: &[PlannedCall],
    on_failure: &[PlannedCall],
) {
    println!("dry run: preflight passed, nothing was changed");
    println!("route:   the {}", v.route);
    println!("now:     {}", forward_text(&canary.original));
    println!("blue:    {}\ngreen:   {}", v.blue.arn, v.green.arn);
    print_sources(an);
    println!(
        "plan ({} steps, {} of analysis):",
        canary.steps.len(),
        humantime::format_duration(canary.total_bake())
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
    for (i, c) in on_failure.iter().enumerate() {
        let lead = match i {
            0 => "on a failed check or cancel:",
            _ => "  then",
        };
        println!(
            "{lead} {} {}  {}",
            c.action,
            arn_resource(&c.resource),
            c.detail
        );
    }
}
