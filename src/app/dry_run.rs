//! `--dry-run`: the validated plan and the exact API calls a run would
//! make, in order, with nothing changed. The calls are derived from the
//! plan's actions and the revert the engine derives (`calls`). In GitHub
//! Actions the plan also goes to the job summary (`report::plan_summary`).

pub use super::calls::forward_text;
use super::calls::{calls, revert_calls, PlannedCall};
use super::print_json;
use crate::alb::arn_resource;
use crate::cli::Output;
use crate::engine::Plan;
use crate::preflight::Validated;
use crate::provider::probe::parse_probe_spec;
use crate::redact;
use crate::report::plan_summary::{Plan as SummaryPlan, Row};
use crate::settings::Analysis;
use crate::strategy::canary::CanaryPlan;

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
    plan: &Plan,
    an: &Analysis,
    output: Output,
) -> i32 {
    let scope = crate::engine::Scope::Route(v.route.clone());
    let calls = calls(&scope, plan, an);
    let on_failure = revert_calls(&scope, plan, an);
    let facts = vec![
        ("route".to_string(), format!("the {}", v.route)),
        ("now".to_string(), forward_text(&plan.original)),
        ("blue".to_string(), v.blue.arn.clone()),
        ("green".to_string(), v.green.arn.clone()),
        (
            "analysis".to_string(),
            humantime::format_duration(plan.total_bake()).to_string(),
        ),
    ];
    summarize(plan.strategy, facts, &calls, &on_failure);
    match output {
        Output::Json => print_json(&serde_json::json!({
            "result": "dry-run",
            "exit_code": 0,
            "strategy": plan.strategy,
            "route": v.route,
            "blue": v.blue.arn,
            "green": v.green.arn,
            "original": canary.original,
            "steps": canary.steps,
            "promoted": canary.promoted,
            "abort": plan.abort,
            "thresholds": an.thresholds,
            "sources": sources_json(an),
            "other_routes": other_routes(v, plan),
            "actions": plan.actions,
            "calls": calls,
            "on_failure": on_failure,
        })),
        Output::Text => print_text(v, plan, an, &calls, &on_failure),
    }
    0
}

/// Each other route of a multi-route run with its load balancer and the
/// pair it moves between (its own on another load balancer).
fn other_routes(v: &Validated, plan: &Plan) -> Vec<serde_json::Value> {
    (plan.others().into_iter())
        .map(|(route, original)| {
            let blue = (original.groups.iter())
                .max_by_key(|g| g.weight)
                .map_or(String::new(), |g| g.target_group_arn.clone());
            serde_json::json!({
                "route": route.owner_arn(),
                "load_balancer": crate::preflight_lbs::lb_of(&route, &v.load_balancer_arn),
                "blue": blue,
                "green": plan.green_of(&route),
            })
        })
        .collect()
}

fn print_text(
    v: &Validated,
    plan: &Plan,
    an: &Analysis,
    calls: &[PlannedCall],
    on_failure: &[PlannedCall],
) {
    println!("dry run: preflight passed, nothing was changed");
    println!("route:   the {}", v.route);
    println!("now:     {}", forward_text(&plan.original));
    println!("blue:    {}\ngreen:   {}", v.blue.arn, v.green.arn);
    for o in other_routes(v, plan) {
        let s = |k: &str| o[k].as_str().unwrap_or("").to_string();
        println!(
            "also:    the {} on load balancer {}: blue {}, green {}",
            s("route"),
            arn_resource(&s("load_balancer")),
            arn_resource(&s("blue")),
            arn_resource(&s("green"))
        );
    }
    print_sources(an);
    let shape = match plan.strategy {
        "canary" => format!("{} steps", plan.steps()),
        other => other.to_string(),
    };
    println!(
        "plan ({shape}, {} of analysis):",
        humantime::format_duration(plan.total_bake())
    );
    print_calls(calls, on_failure);
}

/// Write the plan to the job summary (in GitHub Actions), as a live run
/// writes its report.
pub fn summarize(
    strategy: &str,
    facts: Vec<(String, String)>,
    calls: &[PlannedCall],
    on_failure: &[PlannedCall],
) {
    let rows = |cs: &[PlannedCall]| -> Vec<Row> {
        cs.iter()
            .map(|c| Row {
                action: c.action.clone(),
                resource: c.resource.clone(),
                detail: c.detail.clone(),
            })
            .collect()
    };
    crate::report::github::plan_summary(&SummaryPlan {
        strategy: strategy.to_string(),
        facts,
        calls: rows(calls),
        on_failure: rows(on_failure),
    });
}

/// The calls of a plan, numbered, then those of its revert.
pub fn print_calls(calls: &[PlannedCall], on_failure: &[PlannedCall]) {
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
