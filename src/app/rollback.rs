//! `alb-rollout rollback`: after a crash or `kill -9`, converge to the goal
//! the run recorded in its tags (the live revert's convergence): the route
//! as it was, blue's targets back (enough of them healthy before traffic
//! returns), green's added targets gone, no rule of the run; then the
//! record goes. With `--target-group`, a `rolling` run's group
//! (`rollback_group`).

use super::{failed, invalid, print_json, EXIT_INCOMPLETE};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::state_tags::{self, Heartbeat, RunRecord};
use crate::alb::{list_targets, LoadBalancerPort, RouteRef};
use crate::cli::{Output, RollbackArgs};
use crate::engine::goal::Goal;
use crate::executor::apply::{self, ApplyPolicy};
use crate::executor::converge::{Converger, Note, Settings};
use crate::preflight::InputError;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long `rollback` waits for re-registered targets to be healthy
/// before it gives up (and leaves the route and the record as they are).
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(600);
pub(super) const HEALTH_POLL: Duration = Duration::from_secs(2);

/// Restore `record` on `route`. Returns what was done, or what is left.
/// The revert is the live run's convergence (`executor::converge`) to the
/// goal the record describes (`engine::goal`): a run that had confirmed
/// its promotion is not undone, only its record goes; a run that died
/// while promoting (the write sent, never verified) is undone like any
/// other: see docs/reliability.md.
pub async fn restore(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    record: &RunRecord,
    keys: &[String],
) -> Result<Vec<String>, String> {
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
    let goal = Goal::of_route_record(record);
    let notes = converge_lines(
        lb,
        Some(route),
        route.listener_arn(),
        &record.run_id,
        goal,
        None,
    )
    .await
    .map_err(|e| format!("{e}; the record is left: run rollback again"))?;
    done.extend(notes);
    let p = ApplyPolicy::default();
    apply::retry(p.write_attempts, p.backoff, || {
        lb.remove_tags(route.owner_arn(), keys)
    })
    .await
    .map_err(|e| format!("the run record tags remain on {}: {e}", route.owner_arn()))?;
    done.push(format!(
        "removed run record {} from {}",
        record.run_id,
        route.owner_arn()
    ));
    Ok(done)
}

/// Converge to `goal` as `rollback` does (nobody cancels it: each step
/// has its own deadline, a wait for health `HEALTH_TIMEOUT`); the lines
/// say what it did.
pub async fn converge_lines(
    lb: &dyn LoadBalancerPort,
    route: Option<&RouteRef>,
    listener_arn: &str,
    run_id: &str,
    goal: Goal,
    undo: Option<crate::executor::converge_undo::UndoRun>,
) -> Result<Vec<String>, String> {
    let mut lines: Vec<String> = vec![];
    let mut notes = |n: Note| lines.push(note_line(route, n));
    let mut c = Converger {
        lb,
        route: route.cloned(),
        listener_arn: listener_arn.to_string(),
        run_id: run_id.to_string(),
        goal,
        settings: Settings {
            health_timeout: HEALTH_TIMEOUT,
            health_poll: HEALTH_POLL,
            settle: crate::strategy::drain_blue::default_settle(),
            revert_timeout: HEALTH_TIMEOUT,
            apply: ApplyPolicy::default(),
            stages: vec![],
        },
        cancel: crate::signal::Cancel::new(),
        notes: &mut notes,
        undo,
    };
    let r = c.run().await;
    r.map(|()| lines)
}

fn note_line(route: Option<&RouteRef>, n: Note) -> String {
    match n {
        Note::Registered(g, t) => format!("registered {} in {} again", list_targets(&t), g.arn),
        Note::Deregistered(g, t) => format!("deregistered {} from {}", list_targets(&t), g.arn),
        Note::RuleDeleted(p) => format!("deleted rule at priority {p} (it carried the run's tag)"),
        Note::Attached(g) => format!("attached {g} at weight 0 so AWS health-checks it"),
        Note::RampedBack(f) | Note::Restored(f) => match route {
            Some(r) => format!("restored the {r}: {}", super::dry_run::forward_text(&f)),
            None => format!("wrote {}", super::dry_run::forward_text(&f)),
        },
        Note::Undone(t) => format!("ran --undo on {}", list_targets(&t)),
        Note::Warning(w) => format!("warning: {w}"),
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

/// What `--dry-run` says rollback would do.
fn dry_run_text(route: &RouteRef, record: &RunRecord) -> String {
    let back = match &record.deregistered {
        Some(d) if record.step != state_tags::PROMOTED_STEP => format!(
            "register {} target(s) in {} again and wait until half of blue is healthy, then ",
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
