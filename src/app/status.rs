//! `alb-rollout status`: a listener's routes (priority, conditions, forward
//! weights, stickiness), target-group health, and any run in progress. Also
//! prints a finished run's outcome in text mode.

use super::{failed, invalid, print_json};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::*;
use crate::alb::{group_record, state_tags};
use crate::cli::{Output, StatusArgs};
use crate::preflight::InputError;
use crate::report::RunReport;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct GroupStatus {
    pub arn: String,
    pub name: String,
    pub target_type: String,
    pub health: HealthCounts,
    pub targets: Vec<TargetHealth>,
    /// Why the group's targets read `unused` (`Target.NotInUse`): no
    /// listener or rule forwards to it, so AWS does not health-check it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unused: Option<String>,
}

/// Why `tg`'s targets read `unused`, when AWS says it is not in use.
pub(super) fn unused_why(tg: &TargetGroup, targets: &[TargetHealth]) -> Option<String> {
    let not_in_use = |t: &TargetHealth| {
        t.state == HealthState::Unused && t.reason.as_deref() == Some("Target.NotInUse")
    };
    if !targets.iter().any(not_in_use) {
        return None;
    }
    let who = match tg.load_balancer_arns.as_slice() {
        [] => "of any load balancer".to_string(),
        lbs => {
            let names: Vec<&str> = lbs.iter().map(|a| arn_resource(a)).collect();
            format!("of load balancer {}", names.join(", "))
        }
    };
    Some(format!(
        "no listener or rule {who} forwards to it; AWS does not health-check it (a deploy attaches it at weight 0 first)"
    ))
}

#[derive(Debug, Serialize)]
pub struct RunStatus {
    pub owner_arn: String,
    pub run_id: String,
    pub strategy: String,
    pub step: String,
    pub started_unix: u64,
    /// Seconds since the run last showed it was alive, and whether that is
    /// long enough ago for `rollback` to take over (no heartbeat recorded:
    /// `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_age_seconds: Option<u64>,
    pub stale: bool,
    /// The run's other routes (a multi-route run), by the ARN of each:
    /// the run moves them with this one, and `rollback` restores them all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub listener: Listener,
    pub routes: Vec<Rule>,
    pub target_groups: Vec<GroupStatus>,
    pub runs: Vec<RunStatus>,
    /// CloudWatch's newest minute for the groups (filled by the command,
    /// not by `gather`, which only reads the load balancer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<super::status_traffic::TrafficStatus>,
}

/// A failed lookup: the culprit, and whether it is the user's input (a
/// wrong ARN, missing permission: exit 2) or the service (exit 1).
pub struct GatherError {
    pub error: InputError,
    pub is_input: bool,
}

pub(super) fn lookup(culprit: &str) -> impl Fn(AlbError) -> GatherError + '_ {
    move |e| GatherError {
        is_input: matches!(
            e.kind,
            AlbErrorKind::NotFound | AlbErrorKind::AccessDenied | AlbErrorKind::Invalid
        ),
        error: InputError::new(culprit, e.to_string()),
    }
}

pub async fn gather(
    lb: &dyn LoadBalancerPort,
    listener_arn: &str,
    rule: Option<&str>,
) -> Result<Status, GatherError> {
    let culprit = format!("--listener {listener_arn}");
    let listener = lb.listener(listener_arn).await.map_err(lookup(&culprit))?;
    let mut routes = lb.rules(listener_arn).await.map_err(lookup(&culprit))?;
    if let Some(r) = rule {
        routes.retain(|x| x.arn == r);
        if routes.is_empty() {
            return Err(GatherError {
                error: InputError::new(
                    format!("--rule {r}"),
                    format!("does not belong to listener {listener_arn}"),
                ),
                is_input: true,
            });
        }
    }
    let mut arns: Vec<String> = routes
        .iter()
        .filter_map(|r| r.action.as_forward())
        .flat_map(|f| f.groups.iter().map(|g| g.target_group_arn.clone()))
        .collect();
    arns.sort();
    arns.dedup();
    let target_groups = group_statuses(lb, arns).await?;
    // Route runs record themselves on the listener or a rule, `rolling`
    // on the target group it works in.
    let owners = std::iter::once(listener_arn.to_string())
        .chain(
            routes
                .iter()
                .filter(|r| !r.is_default)
                .map(|r| r.arn.clone()),
        )
        .chain(target_groups.iter().map(|g| g.arn.clone()));
    let runs = recorded_runs(lb, owners).await;
    Ok(Status {
        listener,
        routes,
        target_groups,
        runs,
        traffic: None,
    })
}

pub(super) async fn group_statuses(
    lb: &dyn LoadBalancerPort,
    arns: Vec<String>,
) -> Result<Vec<GroupStatus>, GatherError> {
    let mut out = Vec::new();
    for arn in arns {
        let tg = lb.target_group(&arn).await.map_err(lookup(&arn))?;
        let targets = lb.target_health(&arn).await.map_err(lookup(&arn))?;
        out.push(GroupStatus {
            unused: unused_why(&tg, &targets),
            arn,
            name: tg.name,
            target_type: tg.target_type,
            health: HealthCounts::of(&targets),
            targets,
        });
    }
    Ok(out)
}

/// Runs recorded on the listener or its rules. A record that cannot be read
/// is left out: status reports, it does not judge.
pub(super) async fn recorded_runs(
    lb: &dyn LoadBalancerPort,
    owners: impl Iterator<Item = String>,
) -> Vec<RunStatus> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut runs = Vec::new();
    for owner in owners {
        let Ok(tags) = lb.tags(&owner).await else {
            continue;
        };
        let mut routes = vec![];
        let recorded = match group_record::decode(&tags) {
            Ok(Some(r)) => Some((r.run_id, r.strategy, r.step, r.started)),
            _ => match state_tags::decode(&tags) {
                Ok(Some(r)) => {
                    routes = r.routes.iter().map(|x| x.owner_arn().to_string()).collect();
                    Some((r.run_id, r.strategy, r.step, r.started))
                }
                _ => None,
            },
        };
        if let Some((run_id, strategy, step, started_unix)) = recorded {
            let beat = state_tags::Heartbeat::read(&tags);
            runs.push(RunStatus {
                owner_arn: owner,
                run_id,
                strategy,
                step,
                started_unix,
                heartbeat_age_seconds: beat.map(|b| b.age(now)),
                stale: beat.is_none_or(|b| b.stale(now)),
                routes,
            });
        }
    }
    runs
}

fn action_text(a: &RouteAction, groups: &[GroupStatus]) -> String {
    let name = |arn: &str| {
        groups
            .iter()
            .find(|g| g.arn == arn)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| arn_resource(arn).to_string())
    };
    match a {
        RouteAction::Other { action_type } => action_type.clone(),
        RouteAction::Forward(f) if f.shape == ForwardShape::Single && f.groups.len() == 1 => {
            format!("forward {} (100%)", name(&f.groups[0].target_group_arn))
        }
        RouteAction::Forward(f) => {
            let parts: Vec<String> = f
                .groups
                .iter()
                .map(|g| {
                    format!(
                        "{} {} ({:.1}%)",
                        name(&g.target_group_arn),
                        g.weight,
                        f.percent_of(&g.target_group_arn)
                    )
                })
                .collect();
            let sticky = if f.stickiness.enabled {
                format!("  sticky {}s", f.stickiness.duration_seconds.unwrap_or(0))
            } else {
                String::new()
            };
            format!("forward {}{sticky}", parts.join(", "))
        }
    }
}

fn conditions_text(r: &Rule) -> String {
    if r.conditions.is_empty() {
        return "-".into();
    }
    r.conditions
        .iter()
        .map(|c| {
            let field = match &c.key {
                Some(k) => format!("{}[{k}]", c.field),
                None => c.field.clone(),
            };
            // Regexes (RegexValues) read `~REGEX`, never as wildcards.
            let mut shown: Vec<String> = c.values.clone();
            shown.extend(c.regex_values.iter().map(|r| format!("~{r}")));
            format!("{field}={}", shown.join("|"))
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

pub fn print_text(s: &Status) {
    let l = &s.listener;
    println!(
        "listener {} ({}:{}) on {}",
        l.arn,
        l.protocol.as_deref().unwrap_or("?"),
        l.port.unwrap_or(0),
        arn_resource(&l.load_balancer_arn)
    );
    println!();
    println!("{:<9} {:<36} ACTION", "PRIORITY", "CONDITIONS");
    for r in &s.routes {
        let leading: String = r
            .leading
            .iter()
            .map(|l| format!("{} -> ", l.action_type))
            .collect();
        println!(
            "{:<9} {:<36} {leading}{}",
            r.priority,
            conditions_text(r),
            action_text(&r.action, &s.target_groups)
        );
    }
    println!();
    println!("{:<32} {:<9} HEALTH", "TARGET GROUP", "TYPE");
    for g in &s.target_groups {
        println!("{:<32} {:<9} {}", g.name, g.target_type, g.health);
        if let Some(why) = &g.unused {
            println!("  unused: {why}");
        }
    }
    if let Some(t) = &s.traffic {
        println!();
        super::status_traffic::lines(t)
            .iter()
            .for_each(|l| println!("{l}"));
    }
    for r in &s.runs {
        println!(
            "\nrun in progress: {} ({}, step {}) recorded on {}; {}",
            r.run_id,
            r.strategy,
            r.step,
            r.owner_arn,
            match (r.heartbeat_age_seconds, r.stale) {
                (Some(age), false) => format!("alive (last heartbeat {age} s ago)"),
                (Some(age), true) => format!(
                    "no heartbeat for {age} s: the run is gone, `alb-rollout rollback {}` restores",
                    match r.strategy.as_str() {
                        "rolling" => format!("--target-group {}", r.owner_arn),
                        _ => "--listener ...".to_string(),
                    }
                ),
                (None, _) => "no heartbeat recorded".to_string(),
            }
        );
        if !r.routes.is_empty() {
            // Each with its load balancer: the routes may be on several.
            let each: Vec<String> = (r.routes.iter())
                .map(|arn| match crate::preflight_lbs::lb_of_owner(arn) {
                    Some(lb) => format!("{arn} (load balancer {})", crate::alb::arn_resource(&lb)),
                    None => arn.clone(),
                })
                .collect();
            println!("  moved as one with: {}", each.join(", "));
        }
    }
}

pub async fn run(config: &aws_config::SdkConfig, a: &StatusArgs, output: Output) -> i32 {
    let env = crate::aws_env::check(config).await;
    if !env.is_empty() {
        return invalid(&env, output);
    }
    let lb = AwsLoadBalancer::new(config);
    let listener = match (&a.listener, &a.target_group) {
        (_, Some(group)) => return super::status_group::run(&lb, group, output).await,
        (Some(l), None) => l,
        (None, None) => {
            let e = InputError::new(
                "--listener",
                "give --listener (and --rule) or --target-group",
            );
            return invalid(&[e], output);
        }
    };
    match gather(&lb, listener, a.rule.as_deref()).await {
        Ok(mut s) => {
            s.traffic = super::status_traffic::read(config, &s).await;
            match output {
                Output::Json => print_json(&s),
                Output::Text => print_text(&s),
            }
            0
        }
        Err(GatherError {
            error,
            is_input: true,
        }) => invalid(&[error], output),
        Err(GatherError { error, .. }) => failed(&error.to_string(), super::EXIT_REVERTED, output),
    }
}

/// The closing lines of a canary in text mode.
pub fn print_outcome(r: &RunReport) {
    let took =
        humantime::format_duration(std::time::Duration::from_secs(r.duration_seconds as u64));
    match &r.reason {
        None => println!("result: {} (exit {}) after {took}", r.result, r.exit_code),
        Some(reason) => println!(
            "result: {} (exit {}) after {took}: {}",
            r.result,
            r.exit_code,
            crate::redact::text(reason.message())
        ),
    }
    if let Some(s) = r.detection_to_revert_seconds {
        println!("detection to verified revert: {s:.2}s");
    }
    if let Some(left) = &r.left_behind {
        println!("LEFT BEHIND: {left}");
    }
    if let Some(h) = r.failed_hook() {
        println!(
            "{} `{}`: {}; its last lines:",
            h.stage, h.command, h.outcome
        );
        for l in &h.tail {
            println!("  | {}", crate::redact::text(l));
        }
    }
}
