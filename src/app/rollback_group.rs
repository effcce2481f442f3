//! `alb-rollout rollback --target-group`: after a `rolling` run crashed or
//! was killed, make the group's targets the exact original its record
//! holds again: missing ones registered (and healthy), added ones
//! deregistered (and drained), in rounds that keep the run's bounds
//! (`strategy::rolling::restore`); then the record goes.

use super::rollback::HEALTH_TIMEOUT;
use super::{failed, invalid, EXIT_INCOMPLETE};
use crate::alb::group_record::{self, GroupRecord};
use crate::alb::state_tags::{self, Heartbeat};
use crate::alb::{list_targets, HealthState, LoadBalancerPort, Target};
use crate::cli::{Output, RollbackArgs};
use crate::engine::Action;
use crate::executor::apply::{self, ApplyPolicy};
use crate::preflight::InputError;
use crate::strategy::rolling;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

const POLL: Duration = Duration::from_secs(2);
/// How long targets taken out by the restore may take to drain.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(900);

pub async fn run(
    lb: &dyn LoadBalancerPort,
    reference: &str,
    a: &RollbackArgs,
    output: Output,
) -> i32 {
    let culprit = format!("--target-group {reference}");
    let bad = |e: String| invalid(&[InputError::new(&culprit, e)], output);
    let group = match lb.target_group(reference).await {
        Ok(g) => g,
        Err(e) => return bad(e.to_string()),
    };
    let tags = match lb.tags(&group.arn).await {
        Ok(t) => t,
        Err(e) => return bad(e.to_string()),
    };
    let record = match group_record::decode(&tags) {
        Ok(Some(r)) => r,
        Ok(None) => {
            let msg = format!(
                "no alb-rollout rolling run is recorded on {}; nothing to roll back",
                group.arn
            );
            return super::rollback::report(output, "nothing-to-do", 0, &[msg]);
        }
        Err(e) => return bad(format!("the run record is damaged: {e}")),
    };
    if let Some(why) = alive(&tags, &record).filter(|_| !a.force) {
        return bad(why);
    }
    let health = match lb.target_health(&group.arn).await {
        Ok(h) => h,
        Err(e) => return bad(e.to_string()),
    };
    let actions = match rolling::restore(
        &group.arn,
        &record.original,
        &health,
        record.batch,
        record.max_unavailable,
    ) {
        Ok(a) => a,
        Err(e) => return bad(e.join("; ")),
    };
    if a.dry_run {
        let mut lines = vec![format!(
            "dry run: would make {} hold its {} original targets again, then remove run record {}",
            group.arn,
            record.original.len(),
            record.run_id
        )];
        lines.extend(actions.iter().map(describe));
        return super::rollback::report(output, "dry-run", 0, &lines);
    }
    let keys = state_tags::record_keys(&tags);
    match restore(lb, &group.arn, &record, &actions, &keys).await {
        Ok(done) => super::rollback::report(output, "rolled-back", 0, &done),
        Err(e) => failed(&e, EXIT_INCOMPLETE, output),
    }
}

fn alive(tags: &std::collections::BTreeMap<String, String>, r: &GroupRecord) -> Option<String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let beat = Heartbeat::read(tags).filter(|b| !b.stale(now))?;
    Some(format!(
        "run {} is still alive: its last heartbeat was {}s ago and it beats every {}s. Cancel that run instead (it reverts itself), wait until its heartbeat is over {}s old, or pass --force if you know it is gone",
        r.run_id,
        beat.age(now),
        beat.every,
        Heartbeat::MISSED * beat.every
    ))
}

fn describe(a: &Action) -> String {
    match a {
        Action::Register { targets, .. } => format!("register {}", list_targets(targets)),
        Action::AwaitHealthy { targets, .. } => {
            format!("wait until {} are healthy", list_targets(targets))
        }
        Action::Deregister { targets, .. } => format!("deregister {}", list_targets(targets)),
        Action::AwaitDrained { targets, .. } => {
            format!("wait until {} have drained", list_targets(targets))
        }
        other => format!("{other:?}"),
    }
}

async fn restore(
    lb: &dyn LoadBalancerPort,
    arn: &str,
    record: &GroupRecord,
    actions: &[Action],
    keys: &[String],
) -> Result<Vec<String>, String> {
    let p = ApplyPolicy::default();
    let mut done = vec![format!(
        "run {} stopped during its rounds: {} is given back its {} original targets",
        record.run_id,
        arn,
        record.original.len()
    )];
    for a in actions {
        let left = "the group is between its original and the run's targets; run rollback again";
        match a {
            Action::Register { targets, .. } => {
                apply::retry(p.write_attempts, p.backoff, || {
                    lb.register_targets(arn, targets)
                })
                .await
                .map_err(|e| format!("{e}; {left}"))?;
            }
            Action::Deregister { targets, .. } => {
                apply::retry(p.write_attempts, p.backoff, || {
                    lb.deregister_targets(arn, targets)
                })
                .await
                .map_err(|e| format!("{e}; {left}"))?;
            }
            Action::AwaitHealthy { targets, .. } => wait(lb, arn, targets, true, HEALTH_TIMEOUT)
                .await
                .map_err(|e| format!("{e}; {left}"))?,
            Action::AwaitDrained { targets, .. } => wait(lb, arn, targets, false, DRAIN_TIMEOUT)
                .await
                .map_err(|e| format!("{e}; {left}"))?,
            _ => continue,
        }
        done.push(describe(a));
    }
    apply::retry(p.write_attempts, p.backoff, || lb.remove_tags(arn, keys))
        .await
        .map_err(|e| {
            format!("the targets are restored, but the run record tags remain on {arn}: {e}")
        })?;
    done.push(format!("removed run record {} from {arn}", record.run_id));
    Ok(done)
}

/// Poll until every one of `targets` is healthy (`healthy`) or gone from
/// the group (drained).
async fn wait(
    lb: &dyn LoadBalancerPort,
    arn: &str,
    targets: &[Target],
    healthy: bool,
    limit: Duration,
) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if let Ok(h) = lb.target_health(arn).await {
            let state = |t: &Target| h.iter().find(|x| x.target == *t).map(|x| x.state);
            let ready = match healthy {
                true => targets
                    .iter()
                    .all(|t| state(t) == Some(HealthState::Healthy)),
                false => targets
                    .iter()
                    .all(|t| matches!(state(t), None | Some(HealthState::Unused))),
            };
            if ready {
                return Ok(());
            }
        }
        if start.elapsed() >= limit {
            let what = if healthy { "become healthy" } else { "drain" };
            return Err(format!(
                "{} in {arn} did not {what} within {}s",
                list_targets(targets),
                limit.as_secs()
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}
