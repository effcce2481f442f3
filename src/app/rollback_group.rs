//! `alb-rollout rollback --target-group`: after a `rolling` run crashed or
//! was killed, converge the group to the exact original its record holds
//! (the live revert's convergence): missing ones registered (with their
//! port and zone), half of them healthy, then the added ones
//! deregistered after the settle time; then the record goes. Finding the
//! record and waiting for its run are `rollback`'s (`rollback_find`,
//! `rollback_wait`).

use super::{failed, invalid, EXIT_INCOMPLETE};
use crate::alb::group_record::{self, GroupRecord};
use crate::alb::state_tags;
use crate::alb::LoadBalancerPort;
use crate::cli::{Output, RollbackArgs};
use crate::command::ShellRunner;
use crate::engine::converge::{differences, Snapshot};
use crate::engine::goal::Goal;
use crate::executor::apply::{self, ApplyPolicy};
use crate::executor::converge_undo::{UndoRun, UNDO_DEADLINE};
use crate::preflight::InputError;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Restore the rolling run recorded in `tags` on group `arn` (found, and
/// no longer beating); `lines` go before what is done.
pub async fn run_found(
    lb: &dyn LoadBalancerPort,
    arn: &str,
    tags: &BTreeMap<String, String>,
    a: &RollbackArgs,
    output: Output,
    mut lines: Vec<String>,
) -> i32 {
    let culprit = format!("--target-group {arn}");
    let bad = |e: String| invalid(&[InputError::new(&culprit, e)], output);
    let record = match group_record::decode(tags) {
        Ok(Some(r)) => r,
        Ok(None) => {
            let msg =
                format!("no alb-rollout rolling run is recorded on {arn}; nothing to roll back");
            return super::rollback::report(output, "nothing-to-do", 0, &[msg]);
        }
        Err(e) => return bad(format!("the run record is damaged: {e}")),
    };
    let undo = match undo_run(arn, &record, a) {
        Ok(u) => u,
        Err(e) => return invalid(&[InputError::new("--undo", e)], output),
    };
    let goal = Goal::of_group_record(arn, &record, undo.is_some());
    if a.dry_run {
        let health = match lb.target_health(arn).await {
            Ok(h) => h,
            Err(e) => return bad(e.to_string()),
        };
        lines.push(format!(
            "dry run: would make {arn} hold its {} original targets again, then remove run record {}",
            record.original.len(),
            record.run_id
        ));
        let snap = Snapshot {
            health: [(arn.to_string(), health)].into(),
            ..Snapshot::default()
        };
        lines.extend(differences(&goal, &snap));
        if !goal.undo.is_empty() {
            lines.push(format!(
                "would run --undo on {} batch(es) whose deploy started, newest first, each out of the group",
                goal.undo.len()
            ));
        }
        return super::rollback::report(output, "dry-run", 0, &lines);
    }
    let keys = state_tags::record_keys(tags);
    match restore(lb, arn, &record, goal, &keys, undo).await {
        Ok(done) => {
            lines.extend(done);
            super::rollback::report(output, "rolled-back", 0, &lines)
        }
        Err(e) => failed(&e, EXIT_INCOMPLETE, output),
    }
}

/// `--undo` for the record's in-place batches; refused on a record of a
/// run that was not in place (it deployed nothing to undo).
fn undo_run(arn: &str, r: &GroupRecord, a: &RollbackArgs) -> Result<Option<UndoRun>, String> {
    let Some(command) = a.undo.undo.clone() else {
        return Ok(None);
    };
    let Some(p) = r.in_place.clone() else {
        return Err(format!(
            "run {} on {arn} was not an in-place run (rolling --in-place): it ran no --deploy to undo; leave --undo off",
            r.run_id
        ));
    };
    Ok(Some(UndoRun {
        commands: Arc::new(ShellRunner::from_env()),
        command,
        record: p,
        group: arn.to_string(),
        run_id: r.run_id.clone(),
        timeout: UNDO_DEADLINE,
    }))
}

async fn restore(
    lb: &dyn LoadBalancerPort,
    arn: &str,
    record: &GroupRecord,
    goal: Goal,
    keys: &[String],
    undo: Option<UndoRun>,
) -> Result<Vec<String>, String> {
    let mut done = vec![format!(
        "run {} stopped during its rounds: {} is given back its {} original targets",
        record.run_id,
        arn,
        record.original.len()
    )];
    let left = "the group is between its original and the run's targets; run rollback again";
    if let Some(u) = &undo {
        done.push(format!(
            "{} batch(es) whose deploy started get --undo, newest first",
            u.record.started
        ));
    } else if record.in_place.as_ref().is_some_and(|p| p.started > 0) {
        done.push(
            "no --undo given: the batches whose deploy started are registered again as they are"
                .into(),
        );
    }
    let lines = super::rollback::converge_lines(lb, None, "", &record.run_id, goal, undo)
        .await
        .map_err(|e| format!("{e}; {left}"))?;
    done.extend(lines);
    let p = ApplyPolicy::default();
    apply::retry(p.write_attempts, p.backoff, || lb.remove_tags(arn, keys))
        .await
        .map_err(|e| {
            format!("the targets are restored, but the run record tags remain on {arn}: {e}")
        })?;
    done.push(format!("removed run record {} from {arn}", record.run_id));
    Ok(done)
}
