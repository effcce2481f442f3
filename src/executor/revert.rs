//! The live run's revert: the goal from the record the run wrote (the
//! same goal `rollback` reads after a `kill -9`), converged to by
//! `converge::Converger` with this run's settings, then the record's
//! removal. Progress and the report learn what the convergence did.

use super::converge::{self, Converger, Note, Settings, CALL_DEADLINE};
use super::Executor;
use crate::alb::state_tags::PROMOTED_STEP;
use crate::engine::goal::Goal;
use crate::engine::{AbortMode, Action, Reason, Scope};
use crate::report::{Progress, Reporter, RunReport};
use tokio::time::Instant;

/// What the notes of a convergence change in the run's output.
struct Sink<'a> {
    out: &'a mut dyn Reporter,
    report: &'a mut RunReport,
    detected: Option<Instant>,
    group_run: bool,
    ramp: usize,
    ramps: usize,
}

impl Sink<'_> {
    fn note(&mut self, n: Note) {
        let label = |role: crate::engine::Role| match self.group_run {
            true => "the group".to_string(),
            false => role.to_string(),
        };
        match n {
            Note::Registered(g, t) => self.out.progress(Progress::Registered {
                targets: &t,
                group: &label(g.role),
            }),
            Note::Deregistered(g, t) => self.out.progress(Progress::Deregistered {
                targets: &t,
                group: &label(g.role),
            }),
            Note::RampedBack(f) => {
                self.out.progress(Progress::RampedBack {
                    step: self.ramp,
                    steps: self.ramps,
                    forward: &f,
                });
                self.ramp += 1;
            }
            Note::Restored(_) => {
                let secs = self.detected.map_or(0.0, |d| d.elapsed().as_secs_f64());
                self.report.detection_to_revert_seconds = Some(secs);
                self.out.progress(Progress::Reverted { seconds: secs });
            }
            Note::Warning(w) => {
                self.out.progress(Progress::Warning(w.clone()));
                self.report.warnings.push(w);
            }
            Note::OtherRestored(r, f) => {
                let w = format!("the {r} is restored: {}", f.weights_text());
                tracing::info!(route = %r, "{w}");
            }
            Note::Undone(t) => self.out.progress(Progress::Batch(format!(
                "--undo done on {}",
                crate::alb::list_targets(&t)
            ))),
            Note::Command(c) => {
                if !c.passed {
                    let tail: String = c.tail.iter().map(|l| format!("\n  | {l}")).collect();
                    self.out.progress(Progress::Batch(format!(
                        "undo batch {}/{}: --undo failed ({}){tail}",
                        c.batch, c.batches, c.outcome
                    )));
                }
                self.report.batch_commands.push(c);
            }
            Note::RuleDeleted(p) => tracing::info!(priority = p, "deleted the run's rule"),
            Note::Attached(g) => {
                tracing::info!(group = %g, "attached at weight 0 for its health checks")
            }
        }
    }
}

impl Executor<'_> {
    /// What the revert restores: the record as the run last wrote it.
    fn goal(&self, applied: &[Action]) -> Goal {
        let mut goal = self.record_goal();
        if !applied.iter().any(|a| a.route_write().is_some()) {
            // The run never wrote its route: the revert does not either
            // (someone else's change to it stays).
            goal.route = None;
        }
        if !applied.iter().any(|a| matches!(a, Action::WriteOthers(_))) {
            goal.others.clear();
        }
        goal
    }

    fn record_goal(&self) -> Goal {
        match &self.cfg.scope {
            Scope::Group(g) => self.group_goal(g),
            Scope::Route(_) => match &self.run_record {
                Some(r) => {
                    let mut r = r.clone();
                    r.rules = self.rules.clone();
                    if self.promoted_marked {
                        r.step = PROMOTED_STEP.into();
                    }
                    Goal::of_route_record(&r).with_others(&r, &self.other_records)
                }
                None => Goal::nothing(),
            },
        }
    }

    /// Converge to the goal and remove the record; `Err`: what is left.
    pub(super) async fn revert(&mut self, applied: &[Action]) -> Result<(), String> {
        let stages = match self.plan.abort {
            AbortMode::Flip => vec![],
            AbortMode::Gradual => std::iter::once(self.plan.original.clone())
                .chain(
                    applied
                        .iter()
                        .filter_map(Action::route_write)
                        .map(|w| w.to.clone()),
                )
                .collect(),
        };
        let settings = Settings {
            health_timeout: self.cfg.health_timeout,
            health_poll: self.cfg.health_poll,
            settle: self.cfg.settle,
            revert_timeout: self.cfg.revert_timeout,
            apply: self.cfg.apply,
            stages,
        };
        let goal = self.goal(applied);
        let undo = self.undo_run();
        let lb = self.src.lb.clone();
        let mut sink = Sink {
            out: &mut *self.out,
            report: &mut self.report,
            detected: self.detected,
            group_run: self.cfg.scope.group().is_some(),
            ramp: 0,
            ramps: settings.stages.len().saturating_sub(1),
        };
        let mut notes = |n: Note| sink.note(n);
        let mut c = Converger {
            lb: lb.as_ref(),
            route: self.cfg.scope.route().cloned(),
            listener_arn: self.cfg.scope.listener_arn().to_string(),
            run_id: self.cfg.run_id.clone(),
            goal,
            settings,
            cancel: self.cancel.clone(),
            notes: &mut notes,
            undo,
        };
        c.run().await?;
        self.heart_stop();
        if let Some(out) = self.left_out() {
            self.keep_record(&out).await;
            return Ok(());
        }
        match converge::within(
            &self.cancel,
            self.cfg.revert_timeout,
            CALL_DEADLINE,
            self.unrecord(),
        )
        .await
        {
            Ok(r) => r,
            Err(limit) => Err(format!(
                "the cleanup {limit}; the run record tags may remain on {}",
                self.cfg.scope.owner_arn()
            )),
        }
    }

    /// A failure or cancel turned the run into its revert.
    pub(super) fn start_revert(&mut self, r: &Reason, applied: &[Action]) {
        // A cancel was detected when the signal arrived.
        self.detected = match r {
            Reason::Cancelled(_) => self.cancel.at(),
            _ => None,
        }
        .or_else(|| Some(Instant::now()));
        self.out.progress(Progress::Reverting { reason: r });
        if !applied.iter().any(|a| a.route_write().is_some()) {
            // The run never wrote the route: nothing to move back.
            self.report.detection_to_revert_seconds = Some(0.0);
        }
    }
}
