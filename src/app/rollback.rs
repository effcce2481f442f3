//! `alb-rollout rollback`: after a crash or `kill -9`, converge to the goal
//! the run recorded in its tags (the live revert's convergence): the route
//! as it was, blue's targets back (enough of them healthy before traffic
//! returns), green's added targets gone, no rule of the run; then the
//! record goes. With `--target-group`, a `rolling` run's group
//! (`rollback_group`). A multi-route run, from any of its routes, restores
//! every route (`rollback_routes`).

use super::rollback_find::{self, Found, Place};
use super::rollback_wait::{Waited, Watch};
use super::{failed, invalid, print_json, EXIT_INCOMPLETE};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::state_tags::{self, RunRecord};
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
        Note::OtherRestored(r, f) => {
            format!("restored the {r}: {}", super::dry_run::forward_text(&f))
        }
        Note::Undone(t) => format!("ran --undo on {}", list_targets(&t)),
        Note::Command(c) => format!(
            "--undo on batch {} of {} ({}): {}{}",
            c.batch,
            c.batches,
            c.targets.join(","),
            c.outcome,
            match c.tail.is_empty() {
                true => String::new(),
                false => format!("; last lines:\n  | {}", c.tail.join("\n  | ")),
            }
        ),
        Note::Warning(w) => format!("warning: {w}"),
    }
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
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    run_on(&lb, a, output, now).await
}

/// `rollback` on any port, at unix time `now`: find the record from the
/// flags (`rollback_find`), wait for its run to stop beating
/// (`rollback_wait`), then restore it.
pub async fn run_on(lb: &dyn LoadBalancerPort, a: &RollbackArgs, output: Output, now: u64) -> i32 {
    let limit = match a
        .wait
        .as_deref()
        .map(|w| crate::plan::parse_duration("--wait", w))
    {
        None => Duration::ZERO,
        Some(Ok(d)) => d,
        Some(Err(e)) => return invalid(&[InputError::new("--wait", e)], output),
    };
    let (named, found) = match find(lb, a).await {
        Ok((named, Some(f))) => (named, f),
        Ok((_, None)) => return nothing_recorded(a, output),
        Err(e) => return invalid(&[e], output),
    };
    // Another route of a multi-route run: the first route's record beats.
    let found = match super::rollback_routes::first_of(lb, found).await {
        Ok(f) => f,
        Err(e) => return invalid(&[e], output),
    };
    let culprit = found.place.flags();
    let mut lines = vec![];
    if found.place != named {
        lines.push(format!(
            "run {} is recorded on {}, reached from {}: rolling it back as {culprit}",
            found.run_id,
            found.place.describe(),
            named.describe(),
        ));
    }
    let tags = match until_stale(lb, &found, a.force, limit, now, output).await {
        Ok(t) => t,
        Err(code) => return code,
    };
    match &found.place {
        Place::Route(route) => restore_route(lb, route, &tags, a, output, lines).await,
        Place::Group(g) => super::rollback_group::run_found(lb, g, &tags, a, output, lines).await,
    }
}

/// The tags to restore from once the found run no longer beats (at once
/// with `--force`), or the exit code when it does not come to that.
async fn until_stale(
    lb: &dyn LoadBalancerPort,
    found: &Found,
    force: bool,
    limit: Duration,
    now: u64,
    output: Output,
) -> Result<BTreeMap<String, String>, i32> {
    if force {
        return Ok(found.tags.clone());
    }
    let culprit = found.place.flags();
    let run_of = |t: &BTreeMap<String, String>| found.place.run_of(t);
    let watch = Watch {
        owner: found.place.owner(),
        run_id: &found.run_id,
        run_of: &run_of,
        first: found.tags.clone(),
    };
    let mut say = |m: String| eprintln!("{m}");
    match super::rollback_wait::wait(lb, watch, limit, now, &mut say).await {
        Waited::Free(t) => Ok(t),
        Waited::Gone(m) => Err(report(output, "nothing-to-do", 0, &[m])),
        Waited::GiveUp(m) => {
            if !limit.is_zero() {
                eprintln!(
                    "rollback gave up waiting after {}",
                    humantime::format_duration(limit)
                );
            }
            Err(invalid(&[InputError::new(culprit, m)], output))
        }
        Waited::Error(e) => Err(invalid(&[InputError::new(culprit, e)], output)),
    }
}

/// The named place and the record there or reachable from it.
async fn find(
    lb: &dyn LoadBalancerPort,
    a: &RollbackArgs,
) -> Result<(Place, Option<Found>), InputError> {
    let (place, lbs, culprit) = match (&a.listener, &a.target_group) {
        (_, Some(reference)) => {
            let culprit = format!("--target-group {reference}");
            let g = lb
                .target_group(reference)
                .await
                .map_err(|e| InputError::new(&culprit, e.to_string()))?;
            (Place::Group(g.arn), g.load_balancer_arns, culprit)
        }
        (Some(_), None) => {
            let place = rollback_find::named(a, None).expect("a listener is given");
            let culprit = place.flags();
            (place, vec![], culprit)
        }
        (None, None) => {
            return Err(InputError::new(
                "--listener",
                "give --listener (and --rule) or --target-group",
            ))
        }
    };
    let found = rollback_find::locate(lb, &place, &lbs)
        .await
        .map_err(|e| InputError::new(culprit, e))?;
    Ok((place, found))
}

fn nothing_recorded(a: &RollbackArgs, output: Output) -> i32 {
    let (what, around) = match (&a.target_group, &a.rule, &a.listener) {
        (Some(g), _, _) => (
            format!("target group {g}"),
            "nor on a listener or rule that forwards to it",
        ),
        (None, Some(r), _) => (format!("rule {r}"), "nor on the groups it forwards to"),
        (None, None, l) => (
            format!("listener {}", l.as_deref().unwrap_or("")),
            "nor on its rules or the groups they forward to",
        ),
    };
    let msg = format!("no alb-rollout run is recorded on {what}, {around}; nothing to roll back");
    report(output, "nothing-to-do", 0, &[msg])
}

async fn restore_route(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    tags: &BTreeMap<String, String>,
    a: &RollbackArgs,
    output: Output,
    mut lines: Vec<String>,
) -> i32 {
    let culprit = Place::Route(route.clone()).flags();
    let record = match state_tags::decode(tags) {
        Ok(Some(r)) => r,
        Ok(None) => return nothing_recorded(a, output),
        Err(e) => {
            let why = format!("the run record is damaged: {e}");
            return invalid(&[InputError::new(culprit, why)], output);
        }
    };
    if a.dry_run {
        lines.push(dry_run_text(route, &record));
        return report(output, "dry-run", 0, &lines);
    }
    let restored = match record.routes.is_empty() {
        true => restore(lb, route, &record, &state_tags::record_keys(tags)).await,
        false => super::rollback_routes::restore_all(lb, route, &record).await,
    };
    match restored {
        Ok(done) => {
            lines.extend(done);
            report(output, "rolled-back", 0, &lines)
        }
        Err(e) => failed(&e, EXIT_INCOMPLETE, output),
    }
}

#[cfg(test)]
#[path = "rollback_tests.rs"]
mod tests;
