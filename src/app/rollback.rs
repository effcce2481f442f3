//! `alb-rollout rollback`: after a crash or `kill -9`, restore the route a
//! run recorded in its tags, deregister what it registered, remove the record.
//! A run killed while deregistering blue (`--deregister-blue`) first gets
//! blue's recorded targets back, healthy, before the route returns to blue.
//! With `--target-group`, a `rolling` run's group (`rollback_group`).

use super::{failed, invalid, print_json, EXIT_INCOMPLETE};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::state_tags::{self, Heartbeat, RunRecord};
use crate::alb::{LoadBalancerPort, RouteRef, Target};
use crate::cli::{Output, RollbackArgs};
use crate::engine::{recorded, revert, AbortMode, Action};
use crate::executor::apply::{self, ApplyPolicy};
use crate::preflight::InputError;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long `rollback` waits for re-registered targets to be healthy
/// before it gives up (and leaves the route and the record as they are).
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(600);
const HEALTH_POLL: Duration = Duration::from_secs(2);

/// Restore `record` on `route`. Returns what was done, or what is left.
/// The revert is derived from the record as a live run derives its own
/// (`engine::recorded`): a run that had confirmed its promotion is not
/// undone, only its record goes; a run that died while promoting (the
/// write sent, never verified) is undone like any other: see
/// docs/reliability.md. Always one write of the original route.
pub async fn restore(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    record: &RunRecord,
    keys: &[String],
) -> Result<Vec<String>, String> {
    let p = ApplyPolicy::default();
    let mut done = Vec::new();
    if record.step == state_tags::PROMOTED_STEP {
        done.push(format!(
            "run {} had promoted green; the route is left as it is",
            record.run_id
        ));
    } else if record.step == state_tags::DRAINING_BLUE_STEP {
        done.push(format!(
            "run {} stopped while deregistering blue: blue's targets are registered again and the original route is restored",
            record.run_id
        ));
    } else if record.step == state_tags::PROMOTING_STEP {
        done.push(format!(
            "run {} stopped while promoting: the promotion was never confirmed, so the original route is restored",
            record.run_id
        ));
    }
    let applied = recorded::applied_on(record, route.listener_arn());
    for action in revert::derive(&applied, AbortMode::Flip) {
        done.push(undo(lb, route, record, keys, &action, p).await?);
    }
    Ok(done)
}

/// One action of `rollback`'s revert; what it did, or what is left.
async fn undo(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    record: &RunRecord,
    keys: &[String],
    action: &Action,
    p: ApplyPolicy,
) -> Result<String, String> {
    match action {
        Action::WriteRoute(w) => {
            apply::apply(lb, route, &w.to, p)
                .await
                .map_err(|e| format!("the route was not restored: {e}"))?;
            Ok(format!(
                "restored the {route}: {}",
                super::dry_run::forward_text(&w.to)
            ))
        }
        Action::Deregister { group, targets } => deregister(lb, &group.arn, targets, p).await,
        Action::Register { group, targets } => {
            apply::retry(p.write_attempts, p.backoff, || {
                lb.register_targets(&group.arn, targets)
            })
            .await
            .map_err(|e| {
                format!(
                    "{}'s targets were not registered again: {e}; the route and the record are left as they are",
                    group.role
                )
            })?;
            Ok(format!(
                "registered {} target(s) in {} again",
                targets.len(),
                group.arn
            ))
        }
        Action::AwaitHealthy { group, targets } => await_healthy(lb, &group.arn, targets).await,
        Action::DeleteRule(r) => {
            super::routes::delete_if_run_owns(lb, route.listener_arn(), r.priority, &record.run_id)
                .await
        }
        Action::Unrecord => {
            apply::retry(p.write_attempts, p.backoff, || {
                lb.remove_tags(route.owner_arn(), keys)
            })
            .await
            .map_err(|e| format!("the run record tags remain on {}: {e}", route.owner_arn()))?;
            Ok(format!(
                "removed run record {} from {}",
                record.run_id,
                route.owner_arn()
            ))
        }
        other => Err(format!(
            "rollback cannot undo {other:?} yet; the run record tags remain on {}",
            route.owner_arn()
        )),
    }
}

/// Why `rollback` must not act now: the recorded run still beats, so it is
/// alive and its next write would race ours. `None` once its heartbeat is
/// stale (or it never recorded one: runs of older versions).
pub fn still_alive(
    tags: &BTreeMap<String, String>,
    record: &RunRecord,
    now: u64,
) -> Option<String> {
    let beat = Heartbeat::read(tags).filter(|b| !b.stale(now))?;
    Some(format!(
        "run {} is still alive: its last heartbeat was {}s ago and it beats every {}s, so a rollback now would race its next write. Cancel that run instead (it reverts itself), wait until its heartbeat is over {}s old, or pass --force if you know it is gone",
        record.run_id,
        beat.age(now),
        beat.every,
        Heartbeat::MISSED * beat.every
    ))
}

/// Wait until every one of `targets` is healthy in `group`: the route
/// goes back only to targets that serve.
async fn await_healthy(
    lb: &dyn LoadBalancerPort,
    group: &str,
    targets: &[Target],
) -> Result<String, String> {
    let start = tokio::time::Instant::now();
    loop {
        let health = lb.target_health(group).await;
        let healthy = |t: &Target| {
            health.as_ref().is_ok_and(|h| {
                h.iter().any(|x| {
                    x.target.id == t.id
                        && (t.port.is_none() || x.target.port == t.port)
                        && x.state == crate::alb::HealthState::Healthy
                })
            })
        };
        if targets.iter().all(healthy) {
            return Ok(format!(
                "{} target(s) in {group} are healthy",
                targets.len()
            ));
        }
        if start.elapsed() >= HEALTH_TIMEOUT {
            return Err(format!(
                "targets registered again in {group} did not become healthy within {}s; the route and the record are left as they are",
                HEALTH_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(HEALTH_POLL).await;
    }
}

/// Deregister the targets the run added (only those: see the record).
async fn deregister(
    lb: &dyn LoadBalancerPort,
    group: &str,
    targets: &[Target],
    p: ApplyPolicy,
) -> Result<String, String> {
    apply::retry(p.write_attempts, p.backoff, || {
        lb.deregister_targets(group, targets)
    })
    .await
    .map_err(|e| format!("route restored, but targets are still registered in {group}: {e}"))?;
    Ok(format!(
        "deregistered {} target(s) from {group}",
        targets.len()
    ))
}

/// What `--dry-run` says rollback would do.
fn dry_run_text(route: &RouteRef, record: &RunRecord) -> String {
    let back = match &record.deregistered {
        Some(d) if record.step != state_tags::PROMOTED_STEP => format!(
            "register {} target(s) in {} again and wait until they are healthy, then ",
            d.targets.len(),
            d.group
        ),
        _ => String::new(),
    };
    let rules = match record.rules.as_slice() {
        [] => String::new(),
        p => format!(
            "delete the rules at priority {} if they carry the run's tag, then ",
            p.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
        ),
    };
    let what = if record.step == state_tags::PROMOTED_STEP {
        format!(
            "run {} had promoted; would remove its record only",
            record.run_id
        )
    } else if !record.moves_route() {
        format!("would {rules}remove run record {}", record.run_id)
    } else {
        format!(
            "would {rules}{back}restore the {route} to {} and remove run record {}",
            super::dry_run::forward_text(&record.original),
            record.run_id
        )
    };
    format!("dry run: {what}")
}

pub(super) fn report(output: Output, result: &str, code: i32, lines: &[String]) -> i32 {
    crate::report::github::result_only(result, None);
    match output {
        Output::Json => {
            print_json(&serde_json::json!({"result": result, "exit_code": code, "done": lines}))
        }
        Output::Text => lines.iter().for_each(|d| println!("{d}")),
    }
    code
}

pub async fn run(config: &aws_config::SdkConfig, a: &RollbackArgs, output: Output) -> i32 {
    let env = crate::aws_env::check(config).await;
    if !env.is_empty() {
        return invalid(&env, output);
    }
    let lb = AwsLoadBalancer::new(config);
    let listener = match (&a.listener, &a.target_group) {
        (_, Some(group)) => return super::rollback_group::run(&lb, group, a, output).await,
        (Some(l), None) => l,
        (None, None) => {
            let e = InputError::new(
                "--listener",
                "give --listener (and --rule) or --target-group",
            );
            return invalid(&[e], output);
        }
    };
    let route = RouteRef::new(listener, a.rule.as_deref());
    let culprit = format!(
        "{} {}",
        if a.rule.is_some() {
            "--rule"
        } else {
            "--listener"
        },
        route.owner_arn()
    );
    let tags = match lb.tags(route.owner_arn()).await {
        Ok(t) => t,
        Err(e) => return invalid(&[InputError::new(culprit, e.to_string())], output),
    };
    let record = match state_tags::decode(&tags) {
        Ok(Some(r)) => r,
        Ok(None) => {
            let msg = format!(
                "no alb-rollout run is recorded on {}; nothing to roll back",
                route.owner_arn()
            );
            return report(output, "nothing-to-do", 0, &[msg]);
        }
        Err(e) => {
            return invalid(
                &[InputError::new(
                    culprit,
                    format!("the run record is damaged: {e}"),
                )],
                output,
            )
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if let Some(why) = still_alive(&tags, &record, now).filter(|_| !a.force) {
        return invalid(&[InputError::new(culprit, why)], output);
    }
    if a.dry_run {
        return report(output, "dry-run", 0, &[dry_run_text(&route, &record)]);
    }
    match restore(&lb, &route, &record, &state_tags::record_keys(&tags)).await {
        Ok(done) => report(output, "rolled-back", 0, &done),
        Err(e) => failed(&e, EXIT_INCOMPLETE, output),
    }
}

#[cfg(test)]
#[path = "rollback_tests.rs"]
mod tests;
