//! The convergence's in-place undo steps against the ports (planned by
//! `engine::converge_undo`): waiting for a batch to drain, running
//! `--undo` on it (then lowering the record's count of started batches, so
//! a `rollback --undo` after a `kill -9` here does not undo it again), and
//! waiting for it to be healthy again. Each under its own deadline, cut
//! to `--revert-timeout` after a cancel like every other step.

use super::apply;
use super::batch_commands::BatchJob;
use super::converge::{Converger, Note};
use crate::alb::in_place_record::{self, InPlace};
use crate::alb::{HealthState, Target};
use crate::command::CommandRunner;
use crate::engine::converge::{Context, Step};
use std::sync::Arc;
use std::time::Duration;

/// How long one `--undo` may run when no `--hook-timeout` says otherwise.
pub const UNDO_DEADLINE: Duration = Duration::from_secs(600);

/// What the convergence needs to undo an in-place run's batches.
#[derive(Clone)]
pub struct UndoRun {
    pub commands: Arc<dyn CommandRunner>,
    pub command: String,
    /// The record's in-place part (its count of started batches is
    /// lowered as batches are undone).
    pub record: InPlace,
    pub group: String,
    pub run_id: String,
    pub timeout: Duration,
}

impl Converger<'_> {
    pub(super) async fn apply_undo(
        &mut self,
        step: &Step,
        ctx: &mut Context,
    ) -> Result<(), String> {
        match step {
            Step::AwaitDrained { group, targets } => {
                let what = format!("waiting for {} to drain", crate::alb::list_targets(targets));
                self.poll(&group.arn, targets, false, &what).await
            }
            Step::AwaitHealthy {
                group,
                targets,
                batch,
            } => {
                let what = format!(
                    "waiting for {} to be healthy after --undo",
                    crate::alb::list_targets(targets)
                );
                if let Err(e) = self.poll(&group.arn, targets, true, &what).await {
                    (self.notes)(Note::Warning(format!("{e}; the revert goes on")));
                    ctx.unhealthy.push(*batch);
                }
                Ok(())
            }
            Step::Undo { batch, targets } => self.undo(*batch, targets, ctx).await,
            _ => Ok(()),
        }
    }

    /// Run `--undo` on `goal.undo[i]`; the record then counts that batch
    /// and every newer one as undone.
    async fn undo(
        &mut self,
        i: usize,
        targets: &[Target],
        ctx: &mut Context,
    ) -> Result<(), String> {
        let Some(u) = self.undo.clone() else {
            return Err("no --undo command was given".into());
        };
        let index = u.record.started.saturating_sub(i + 1);
        let job = BatchJob {
            stage: "undo",
            command: u.command.clone(),
            targets: targets.to_vec(),
            batch: index,
            of: u.record.batches.len(),
            group: u.group.clone(),
            run_id: u.run_id.clone(),
        };
        // Its own cancel: a run's cancel turned into this revert, which
        // must still undo; `within` cuts it to --revert-timeout (dropped,
        // the runner stops its process group).
        let cancel = crate::signal::Cancel::new();
        let grace = crate::command::grace_for(self.settings.revert_timeout);
        let run = job.run(u.commands.as_ref(), u.timeout, grace, &cancel);
        let began = tokio::time::Instant::now();
        match self.within(u.timeout + grace, run).await {
            Ok((record, r)) => {
                (self.notes)(Note::Command(record));
                r?
            }
            // Dropped: the runner kills the command's process group.
            Err(limit) => {
                let outcome = format!("stopped: {limit}");
                let rec = job.record(None, &outcome, began.elapsed(), &[]);
                (self.notes)(Note::Command(rec));
                return Err(format!("{} {limit}", job.label()));
            }
        }
        ctx.undone.push(i);
        (self.notes)(Note::Undone(targets.to_vec()));
        self.lower_started(&u, index, targets).await;
        Ok(())
    }

    /// The record counts `started` batches as started now: a `rollback
    /// --undo` after a `kill -9` here undoes only those. A failure is a
    /// warning (that batch would be undone twice, which installs the same
    /// old version again).
    async fn lower_started(&mut self, u: &UndoRun, started: usize, targets: &[Target]) {
        let left = InPlace {
            started,
            ..u.record.clone()
        };
        let tag = in_place_record::started_tag(&left);
        let p = self.settings.apply;
        let lb = self.lb;
        if let Err(e) =
            apply::retry(p.write_attempts, p.backoff, || lb.add_tags(&u.group, &tag)).await
        {
            (self.notes)(Note::Warning(format!(
                "could not lower the record's count of started batches on {}: {e}; a rollback --undo would undo {} again",
                u.group,
                crate::alb::list_targets(targets)
            )));
        }
    }

    /// Poll until every one of `targets` is healthy (`healthy`) or gone
    /// (`!healthy`), for at most `--health-timeout`.
    async fn poll(
        &self,
        arn: &str,
        targets: &[Target],
        healthy: bool,
        what: &str,
    ) -> Result<(), String> {
        let (lb, every) = (self.lb, self.settings.health_poll);
        let wait = async {
            loop {
                if let Ok(h) = lb.target_health(arn).await {
                    let state = |t: &Target| {
                        h.iter()
                            .find(|x| x.target == *t && x.state != HealthState::Unused)
                            .map(|x| x.state)
                    };
                    let done = match healthy {
                        true => targets
                            .iter()
                            .all(|t| state(t) == Some(HealthState::Healthy)),
                        false => targets.iter().all(|t| state(t).is_none()),
                    };
                    if done {
                        return;
                    }
                }
                self.wait_unless_cancelled(every).await;
            }
        };
        self.within(self.settings.health_timeout, wait)
            .await
            .map_err(|limit| format!("{what} {limit}"))
    }
}
