//! `rolling --in-place` in the executor: a batch recorded before it
//! leaves, its deploy marked started in the record before the command
//! runs, and what the revert converges to. With `--undo`: the group's
//! original targets, every started batch undone newest first. Without:
//! the batch that failed after its deploy started stays out, the earlier
//! ones keep the new version, and the record stays (without its
//! heartbeat) so `rollback --target-group TG --undo COMMAND` can finish.

use super::batch_commands::BatchJob;
use super::converge_undo::UndoRun;
use super::{apply, Executor, Fail};
use crate::alb::in_place_record::{self, InPlace};
use crate::alb::{list_targets, Target};
use crate::command::CommandRunner;
use crate::engine::goal::Goal;
use crate::engine::{DeploySpec, GroupScope, Reason};
use crate::report::Progress;
use std::sync::Arc;
use std::time::Duration;

/// What an in-place run adds to a group run.
#[derive(Clone)]
pub struct InPlaceRun {
    /// The planner's batches, as the record names them.
    pub batches: Vec<Vec<Target>>,
    pub undo: Option<String>,
    /// The runner for `--deploy` and `--undo`; `None`: the run's own
    /// (`Sources::commands`, the one hooks use).
    pub commands: Option<Arc<dyn CommandRunner>>,
    /// Bound on one `--deploy` or `--undo` (`--hook-timeout`).
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL when a cancel stops `--deploy`.
    pub grace: Duration,
}

/// How far the batches are: deploys started, batches through their analysis.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct BatchesAt {
    pub started: usize,
    pub done: usize,
}

impl Executor<'_> {
    /// The runner the batch commands go through.
    fn batch_runner(&self) -> Option<Arc<dyn CommandRunner>> {
        let own = self.cfg.in_place.as_ref().and_then(|p| p.commands.clone());
        own.or_else(|| self.src.commands.runner.clone())
    }

    pub(super) fn in_place_record(&self, started: usize) -> Option<InPlace> {
        (self.cfg.in_place.as_ref()).map(|p| InPlace {
            batches: p.batches.clone(),
            started,
        })
    }

    /// Step 1 of a batch: the step tag names it before it leaves.
    pub(super) async fn start_batch(
        &mut self,
        index: usize,
        of: usize,
        targets: &[Target],
    ) -> Result<(), Reason> {
        self.checkpoint()?;
        self.set_step(&format!("batch {} of {of}", index + 1)).await;
        self.out.progress(Progress::Batch(format!(
            "batch {}/{of}: {} out of the group for --deploy",
            index + 1,
            list_targets(targets)
        )));
        Ok(())
    }

    /// The batch is marked started in the record (not marked: not run),
    /// then `--deploy` runs on it.
    pub(super) async fn deploy(&mut self, d: &DeploySpec) -> Result<(), Fail> {
        self.checkpoint()?;
        let (Some(run), Some(rec), Some(runner)) = (
            self.cfg.in_place.clone(),
            self.in_place_record(d.index + 1),
            self.batch_runner(),
        ) else {
            return Err(Fail::Before(Reason::Error(
                "the run has no --deploy".into(),
            )));
        };
        let tag = in_place_record::started_tag(&rec);
        let (lb, p, owner) = (
            self.src.lb.clone(),
            self.cfg.apply,
            self.cfg.scope.owner_arn().to_string(),
        );
        apply::retry(p.write_attempts, p.backoff, || lb.add_tags(&owner, &tag))
            .await
            .map_err(|e| Reason::Error(format!("could not record batch {}'s deploy as started on {owner}: {e}; --deploy was not run", d.index + 1)))?;
        self.batches_at.started = d.index + 1;
        let job = BatchJob {
            stage: "deploy",
            command: d.command.clone(),
            targets: d.targets.clone(),
            batch: d.index,
            of: d.of,
            group: owner.clone(),
            run_id: self.cfg.run_id.clone(),
        };
        self.checkpoint().map_err(Fail::After)?;
        self.out.progress(Progress::Batch(format!(
            "{}: --deploy started",
            job.label()
        )));
        let (record, result) =
            (job.run(runner.as_ref(), run.timeout, run.grace, &self.cancel)).await;
        if !record.passed {
            self.out
                .progress(Progress::Batch(failed_text(&job, &record)));
        }
        self.report.batch_commands.push(record);
        let failed = match result {
            Ok(()) => None,
            Err(_) if self.cancel.is_cancelled() => Some(Reason::Cancelled(self.cancel.reason())),
            Err(e) => Some(Reason::Error(e)),
        };
        match failed {
            None => {
                self.out
                    .progress(Progress::Batch(format!("{}: --deploy done", job.label())));
                Ok(())
            }
            Some(r) => Err(Fail::After(r)),
        }
    }

    /// A batch passed its analysis: it stands, even if a later one fails.
    pub(super) fn batch_done(&mut self, step: usize) {
        if self.cfg.in_place.is_some() {
            self.batches_at.done = step + 1;
        }
    }

    /// The batch that failed after its deploy started (none passed its
    /// analysis yet), when there is no `--undo` to put it back.
    pub(super) fn left_out(&self) -> Option<Vec<Target>> {
        let run = self.cfg.in_place.as_ref().filter(|p| p.undo.is_none())?;
        let at = self.batches_at;
        (at.started > at.done).then(|| run.batches[at.started - 1].clone())
    }

    /// The goal of a group run's revert.
    pub(super) fn group_goal(&self, g: &GroupScope) -> Goal {
        if let Some(out) = self.left_out() {
            return Goal::of_group_without(&g.arn, &g.original, &out);
        }
        let mut goal = Goal::of_group(&g.arn, &g.original);
        goal.healthy = self.cfg.in_place.is_some();
        if let Some(rec) = self.undo_run().map(|u| u.record) {
            goal.undo = rec.started_newest_first();
        }
        goal
    }

    pub(super) fn undo_run(&self) -> Option<UndoRun> {
        let run = self.cfg.in_place.as_ref()?;
        Some(UndoRun {
            commands: self.batch_runner()?,
            command: run.undo.clone()?,
            record: self.in_place_record(self.batches_at.started)?,
            group: self.cfg.scope.owner_arn().to_string(),
            run_id: self.cfg.run_id.clone(),
            timeout: run.timeout,
        })
    }

    /// The revert without `--undo` left `out` out of the group: the record
    /// stays for `rollback`, its heartbeat goes (so `rollback` need not
    /// wait for it to go stale), and the output says where each target is.
    pub(super) async fn keep_record(&mut self, out: &[Target]) {
        let (lb, p, owner) = (
            self.src.lb.clone(),
            self.cfg.apply,
            self.cfg.scope.owner_arn().to_string(),
        );
        let beat = vec![crate::alb::heartbeat::BEAT.to_string()];
        if let Err(e) = apply::retry(p.write_attempts, p.backoff, || {
            lb.remove_tags(&owner, &beat)
        })
        .await
        {
            self.warn(format!(
                "could not remove the heartbeat tag from {owner}: {e}; rollback will need --force"
            ));
        }
        let text = self.states_text(out, &owner);
        self.report.left_behind = Some(text);
    }

    fn states_text(&self, out: &[Target], owner: &str) -> String {
        let Some(run) = self.cfg.in_place.as_ref() else {
            return String::new();
        };
        let done = self.batches_at.done;
        let new: Vec<Target> = run.batches[..done].iter().flatten().cloned().collect();
        let old: Vec<Target> = (self
            .cfg
            .scope
            .group()
            .map(|g| g.original.clone())
            .unwrap_or_default()
            .into_iter())
        .filter(|t| !new.contains(t) && !out.contains(t))
        .collect();
        let mut parts = vec![];
        if !new.is_empty() {
            parts.push(format!(
                "{}: the new version, registered",
                list_targets(&new)
            ));
        }
        parts.push(format!(
            "{}: --deploy started or failed, out of the group",
            list_targets(out)
        ));
        if !old.is_empty() {
            parts.push(format!(
                "{}: the old version, registered",
                list_targets(&old)
            ));
        }
        format!(
            "{}. The run record stays on {owner}. Put the old version back on every batch whose deploy started and every target in the group with: alb-rollout rollback --target-group {owner} --undo COMMAND (or register the batch as it is: alb-rollout rollback --target-group {owner})",
            parts.join("; ")
        )
    }
}

/// A failed `--deploy` in the log: how it ended and its last lines.
fn failed_text(job: &BatchJob, r: &crate::report::result::BatchCommandRecord) -> String {
    let mut s = format!("{}: --deploy failed ({})", job.label(), r.outcome);
    if !r.tail.is_empty() {
        s.push_str("; its last lines:");
        for line in &r.tail {
            s.push_str(&format!("\n  | {line}"));
        }
    }
    s
}
