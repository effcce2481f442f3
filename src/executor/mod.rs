//! Runs a plan: gives each action the engine issues effect through the
//! ports, turns its result into an event, and records what happened. One
//! executor for every strategy; the invariants live here, not in planners:
//! a cancel is checked before every write, the route is checked for drift
//! before every route write, no group gets more traffic while it has no
//! healthy target (weight 0 is allowed: that is how a group nothing
//! forwarded to is attached so that AWS health-checks it), and the last healthy target of a group that serves
//! traffic is never deregistered. The only module with cancellation
//! points: waits and reads are abandoned on a cancel, a write in flight
//! always completes, and the revert runs outside the cancel, each of its
//! steps under its own deadline and, after a cancel, all of it within
//! `--revert-timeout` of the signal.
//!
//! `record` writes the run record, `heart` its heartbeat (on its own
//! task); `hooks` runs a planned `--hook` through the command port; `steps` route writes, health waits and bakes; `targets`
//! registrations and rules; `rule_write` the rewrite of a rule the run
//! created at weight 0; `others` the writes of a multi-route run's other routes; `detach` the full deploy's last write (blue's
//! weight-0 entry out); `converge` applies the convergence to a goal (the
//! live revert and `rollback`), `revert` the live run's goal; `apply` a
//! route write and its read-back. `in_place` is `rolling --in-place`'s part
//! (a batch recorded and its deploy marked started before it runs, the
//! revert's goal), `batch_commands` its `--deploy`/`--undo` as commands for
//! the command port, `converge_undo` the convergence's undo steps.

pub mod apply;
pub mod batch_commands;
pub mod converge;
pub mod converge_undo;
mod detach;
mod heart;
mod hooks;
mod in_place;
mod others;
mod record;
mod revert;
mod rule_write;
mod shadow;
mod steps;
mod targets;

pub use crate::engine::{GroupScope, Scope};
pub use in_place::InPlaceRun;
pub use targets::RULE_TAG;

use crate::alb::Target;
use crate::analysis::collect::{Sources, Subjects};
use crate::analysis::{BakeTracker, Thresholds};
use crate::engine::{Action, Command, Engine, Event, Final, Plan, Reason};
use crate::report::{Progress, Reporter, RunReport};
use crate::signal::Cancel;
use apply::ApplyPolicy;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// Everything a canary run needs, decided before it starts.
pub struct RunConfig {
    pub run_id: String,
    /// The route the run moves, or the group it works in (`rolling`).
    pub scope: Scope,
    pub interval: Duration,
    pub health_timeout: Duration,
    /// Bound on waiting for deregistered targets to drain: more than the
    /// group's deregistration delay.
    pub drain_timeout: Duration,
    pub health_poll: Duration,
    pub thresholds: Thresholds,
    pub tracker: BakeTracker,
    /// Upper bound for the revert after a cancel (CI gives ~10 s).
    pub revert_timeout: Duration,
    pub subjects: Subjects,
    pub started_unix: u64,
    pub apply: ApplyPolicy,
    /// How long a revert waits after moving traffic before it removes
    /// targets that may still get requests (`--settle`).
    pub settle: Duration,
    /// `rolling --in-place`: its batches, `--undo` and the command runner.
    pub in_place: Option<InPlaceRun>,
}

pub struct Executor<'a> {
    cfg: RunConfig,
    src: Sources,
    cancel: Cancel,
    out: &'a mut dyn Reporter,
    report: RunReport,
    started: Instant,
    detected: Option<Instant>,
    record_keys: Vec<String>,
    /// When the current step's weights were written: only CloudWatch
    /// minutes that began after it are judged for the step.
    shifted_at: std::time::SystemTime,
    /// The run's actions, refined before the record is written.
    plan: Plan,
    /// The route as the run last wrote (or, before that, found) it.
    route_now: crate::alb::Forward,
    /// The record's step reads `promoted` (after a verified promotion).
    promoted_marked: bool,
    /// The record's step reads `draining-blue`: the route is promoted but
    /// blue's batches are still to come, so `rollback` would undo it all.
    draining_marked: bool,
    /// Targets deregistered so far, as the record lists them.
    deregistered: Vec<Target>,
    /// Priorities of the rules recorded so far (`alb-rollout:rules`).
    rules: Vec<u32>,
    /// The route run's record as last written (its head's generation).
    run_record: Option<crate::alb::state_tags::RunRecord>,
    /// The heartbeat's task, beating while the record is confirmed.
    heart: Option<heart::Heart>,
    /// A multi-route run's other routes: each one's record as written.
    other_records: Vec<(crate::alb::RouteRef, crate::alb::state_tags::RunRecord)>,
    /// An in-place run's batches: deploys started, batches through.
    batches_at: in_place::BatchesAt,
}

impl<'a> Executor<'a> {
    /// An executor for `plan` (any strategy's planner made it) with the
    /// run's settings.
    pub fn new(
        cfg: RunConfig,
        plan: Plan,
        src: Sources,
        cancel: Cancel,
        out: &'a mut dyn Reporter,
    ) -> Self {
        let report = RunReport {
            result: "running",
            exit_code: 0,
            run_id: cfg.run_id.clone(),
            strategy: plan.strategy,
            listener_arn: cfg.scope.listener_arn().to_string(),
            rule_arn: cfg.scope.rule_arn().map(str::to_string),
            target_group_arn: cfg.scope.group().map(|g| g.arn.clone()),
            rollback_command: cfg.scope.rollback_command(),
            blue: plan.blue.clone(),
            green: plan.green.clone(),
            steps: vec![],
            reason: None,
            failed_check: None,
            detection_to_revert_seconds: None,
            duration_seconds: 0.0,
            left_behind: None,
            warnings: vec![],
            ab: None,
            shadow: None,
            hooks: vec![],
            batch_commands: vec![],
        };
        Executor {
            route_now: plan.original.clone(),
            plan,
            cfg,
            src,
            cancel,
            out,
            report,
            started: Instant::now(),
            detected: None,
            record_keys: vec![],
            shifted_at: std::time::SystemTime::now(),
            promoted_marked: false,
            draining_marked: false,
            deregistered: vec![],
            rules: vec![],
            run_record: None,
            heart: None,
            other_records: vec![],
            batches_at: in_place::BatchesAt::default(),
        }
    }

    /// Run to one of the final states and return the report.
    pub async fn run(mut self) -> RunReport {
        self.out.progress(Progress::Started {
            run_id: &self.cfg.run_id,
            strategy: self.plan.strategy,
            scope: &self.cfg.scope,
            shape: &self.plan.shape(),
            total_bake: self.plan.total_bake(),
        });
        if let Err(reason) = self.prepare().await {
            self.finish(&Final::NotStarted { reason });
            return self.report;
        }
        self.heart_start();
        let mut engine = Engine::new(self.plan.actions.clone());
        let mut cmd = engine.start();
        loop {
            cmd = match cmd {
                Command::Do(action) => {
                    let event = self.execute(&action).await;
                    engine.next(event)
                }
                Command::Revert(reason) => {
                    let applied = engine.applied().to_vec();
                    self.start_revert(&reason, &applied);
                    let result = self.revert(&applied).await;
                    engine.reverted(result)
                }
                Command::Finish => break,
            };
        }
        self.heart_stop();
        let fin = engine.outcome().cloned().unwrap_or(Final::NotStarted {
            reason: Reason::Error("engine stopped without an outcome".into()),
        });
        self.finish(&fin);
        self.report
    }

    fn finish(&mut self, fin: &Final) {
        self.report.set_final(fin);
        self.report.duration_seconds = self.started.elapsed().as_secs_f64();
        if let Final::RevertIncomplete { error, .. } = fin {
            self.report.left_behind = Some(self.left_behind(error));
        }
        // In place without --undo: the revert put the group's old entries
        // back but not the old version, and a batch stays out, so the
        // group is not as it was.
        if self.report.result == "reverted" && self.left_out().is_some() {
            self.report.result = "failed";
        }
    }

    fn left_behind(&self, error: &str) -> String {
        let what = match &self.cfg.scope {
            Scope::Route(r) => format!("The {r} may still send traffic to {}", self.plan.green),
            Scope::Group(g) => format!(
                "Target group {} may still hold targets the run added, or miss ones it removed",
                g.arn
            ),
        };
        format!(
            "{error}. {what}, and the run record tags remain on {}. Fix with: {}",
            self.cfg.scope.owner_arn(),
            self.cfg.scope.rollback_command()
        )
    }

    /// The route the run moves; a group run has none, and its planner
    /// writes none.
    fn route(&self) -> Result<crate::alb::RouteRef, Reason> {
        self.cfg.scope.route().cloned().ok_or_else(|| {
            Reason::Error(format!(
                "the run on {} has no route to write",
                self.cfg.scope
            ))
        })
    }

    async fn execute(&mut self, action: &Action) -> Event {
        match self.forward(action).await {
            Ok(()) => Event::Done,
            Err(Fail::Before(reason)) => Event::Failed(reason),
            Err(Fail::After(reason)) => Event::FailedAfterSend(reason),
        }
    }

    async fn forward(&mut self, action: &Action) -> Result<(), Fail> {
        match action {
            Action::Record => Ok(self.record().await?),
            Action::Register { group, targets } => self.register(group, targets).await,
            Action::Deregister { group, targets } => self.deregister(group, targets).await,
            Action::AwaitHealthy { group, targets } => {
                Ok(self.await_healthy(group, targets).await?)
            }
            Action::AwaitDrained { group, targets } => {
                Ok(self.await_drained(group, targets).await?)
            }
            Action::WriteRoute(w) => self.write_route(w).await,
            Action::WriteOthers(ws) => self.write_others(ws).await,
            Action::CreateRule(r) => self.create_rule(r).await,
            Action::WriteRule(w) => self.write_rule(w).await,
            Action::DeleteRule(r) => self.delete_rule(r).await,
            Action::Bake(b) => {
                self.bake(b).await?;
                self.batch_done(b.step);
                Ok(())
            }
            Action::Shadow(s) => Ok(self.shadow(s).await?),
            Action::StartBatch { index, of, targets } => {
                Ok(self.start_batch(*index, *of, targets).await?)
            }
            Action::Deploy(d) => self.deploy(d).await,
            Action::Hook(h) => Ok(self.hook(h).await?),
            Action::Unrecord => Ok(self.unrecord_promoted().await?),
        }
    }

    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Every write is preceded by this: a signal that arrived while the run
    /// was reading or writing is honoured before the next change, so a
    /// cancel during the last shift or check reverts instead of promoting.
    fn checkpoint(&self) -> Result<(), Reason> {
        match self.cancel.is_cancelled() {
            true => Err(Reason::Cancelled(self.cancel.reason())),
            false => Ok(()),
        }
    }

    /// Await a read, abandoning it as soon as a cancel arrives: a CloudWatch
    /// read with SDK retries can take tens of seconds, and dropping a read
    /// changes nothing. Never used for writes: a write in flight completes.
    /// The heartbeat is not here: it runs on its own task (`heart`), so a
    /// slow AddTags never holds up a cancel.
    async fn unless_cancelled<T>(&self, read: impl Future<Output = T>) -> Result<T, Reason> {
        tokio::pin!(read);
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(Reason::Cancelled(self.cancel.reason())),
            v = &mut read => Ok(v),
        }
    }

    /// Sleep `d` unless cancelled first.
    /// A live reporter gets a tick every second with what is awaited.
    async fn wait(&mut self, d: Duration, label: &str) -> Result<(), Reason> {
        let tick = if self.out.live() {
            Duration::from_secs(1)
        } else {
            d
        };
        let end = Instant::now() + d;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            if self.out.live() {
                self.out.progress(Progress::Tick { label, left });
            }
            self.unless_cancelled(tokio::time::sleep(tick.min(left)))
                .await?;
        }
    }
}

/// A failed action: before its change was sent (nothing to undo), or after.
enum Fail {
    Before(Reason),
    After(Reason),
}

impl From<Reason> for Fail {
    fn from(r: Reason) -> Self {
        Fail::Before(r)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
#[path = "attach_tests.rs"]
mod attach_tests;

#[cfg(test)]
mod race_tests;

#[cfg(test)]
mod budget_tests;

#[cfg(test)]
mod scripted;

#[cfg(test)]
mod abort_tests;

#[cfg(test)]
mod plan_tests;

#[cfg(test)]
mod drain_tests;

#[cfg(test)]
mod rolling_tests;

#[cfg(test)]
mod converge_tests;

#[cfg(test)]
mod in_place_tests;

#[cfg(test)]
mod hook_tests;

#[cfg(test)]
mod multi_lb_tests;
#[cfg(test)]
mod multi_route_tests;

#[cfg(test)]
mod ab_multi_tests;

#[cfg(test)]
mod shadow_tests;
