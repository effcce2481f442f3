//! Drives the engine against the ports: runs each command, turns its result
//! into an event, and records what happened. The only module with
//! cancellation points: waits and reads are abandoned on a cancel, a cancel
//! is checked before every write, a write in flight always completes, and
//! the revert runs outside the cancel under a budget counted from the signal.
//!
//! `record` writes the run record, the heartbeat and `--register` targets;
//! `steps` health, shifts, bakes and the promotion; `revert` the revert and
//! cleanup with their budgets; `apply` a route write and its read-back.

pub mod apply;
mod record;
mod revert;
mod steps;

use crate::alb::{RouteRef, Target};
use crate::analysis::collect::{Sources, Subjects};
use crate::analysis::{BakeTracker, Thresholds};
use crate::engine::{Command, Engine, Event, Final, Reason};
use crate::report::{Progress, Reporter, RunReport};
use crate::signal::Cancel;
use crate::strategy::canary::CanaryPlan;
use apply::ApplyPolicy;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// Everything a canary run needs, decided before it starts.
pub struct RunConfig {
    pub run_id: String,
    pub route: RouteRef,
    pub plan: CanaryPlan,
    pub register: Vec<Target>,
    pub interval: Duration,
    pub health_timeout: Duration,
    pub health_poll: Duration,
    pub thresholds: Thresholds,
    pub tracker: BakeTracker,
    /// Upper bound for the revert after a cancel (CI gives ~10 s).
    pub revert_timeout: Duration,
    pub subjects: Subjects,
    pub started_unix: u64,
    pub apply: ApplyPolicy,
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
    /// `--register` targets green did not have yet: the only ones a revert
    /// deregisters.
    added: Vec<Target>,
    /// Set just before the first route write is sent: a revert of a run
    /// that never wrote the route must not write it either.
    route_written: bool,
    /// The record's step reads `promoted` (after a verified promotion).
    promoted_marked: bool,
    /// When the run last wrote its heartbeat (or its record).
    last_beat: std::sync::Mutex<Instant>,
}

impl<'a> Executor<'a> {
    pub fn new(cfg: RunConfig, src: Sources, cancel: Cancel, out: &'a mut dyn Reporter) -> Self {
        let report = RunReport {
            result: "running",
            exit_code: 0,
            run_id: cfg.run_id.clone(),
            strategy: "canary",
            listener_arn: cfg.route.listener_arn().to_string(),
            rule_arn: match &cfg.route {
                RouteRef::Rule { rule_arn, .. } => Some(rule_arn.clone()),
                RouteRef::ListenerDefault { .. } => None,
            },
            blue: cfg.plan.blue.clone(),
            green: cfg.plan.green.clone(),
            steps: vec![],
            reason: None,
            failed_check: None,
            detection_to_revert_seconds: None,
            duration_seconds: 0.0,
            left_behind: None,
            warnings: vec![],
        };
        Executor {
            cfg,
            src,
            cancel,
            out,
            report,
            started: Instant::now(),
            detected: None,
            record_keys: vec![],
            shifted_at: std::time::SystemTime::now(),
            added: vec![],
            route_written: false,
            promoted_marked: false,
            last_beat: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// Run to one of the final states and return the report.
    pub async fn run(mut self) -> RunReport {
        let mut engine = Engine::new(self.cfg.plan.steps.len(), !self.cfg.register.is_empty());
        self.out.progress(Progress::Started {
            run_id: &self.cfg.run_id,
            route: &self.cfg.route,
            steps: self.cfg.plan.steps.len(),
            total_bake: self.cfg.plan.total_bake(),
        });
        let mut cmd = engine.start();
        while cmd != Command::Finish {
            let event = self.execute(cmd, &engine).await;
            if let (Event::Failed(r), false) = (&event, engine.reverting()) {
                // A cancel was detected when the signal arrived.
                self.detected = match r {
                    Reason::Cancelled(_) => self.cancel.at(),
                    _ => None,
                }
                .or_else(|| Some(Instant::now()));
                if cmd != Command::Record {
                    self.out.progress(Progress::Reverting { reason: r });
                }
            }
            cmd = engine.next(event);
        }
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
    }

    fn left_behind(&self, error: &str) -> String {
        let rule = match &self.cfg.route {
            RouteRef::Rule { rule_arn, .. } => format!(" --rule {rule_arn}"),
            RouteRef::ListenerDefault { .. } => String::new(),
        };
        format!(
            "{error}. The {} may still send traffic to {} and the run record tags remain on {}. Fix with: alb-rollout rollback --listener {}{rule}",
            self.cfg.route,
            self.cfg.plan.green,
            self.cfg.route.owner_arn(),
            self.cfg.route.listener_arn()
        )
    }

    async fn execute(&mut self, cmd: Command, engine: &Engine) -> Event {
        let r = match cmd {
            Command::Record => self.record().await,
            Command::Register => self.register().await,
            Command::AwaitHealthy => self.await_healthy().await,
            Command::Shift(i) => self.shift(i).await,
            Command::Bake(i) => self.bake(i).await,
            Command::Promote => self.promote().await,
            Command::Revert => self.revert().await,
            Command::Cleanup => self.cleanup(engine.reverting()).await,
            Command::Finish => Ok(()),
        };
        match r {
            Ok(()) => Event::Done,
            Err(reason) => Event::Failed(reason),
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
    /// Every wait goes through here too, so the run beats (see
    /// `record::beat`) even while a read hangs.
    async fn unless_cancelled<T>(&self, read: impl Future<Output = T>) -> Result<T, Reason> {
        tokio::pin!(read);
        loop {
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return Err(Reason::Cancelled(self.cancel.reason())),
                v = &mut read => return Ok(v),
                _ = tokio::time::sleep_until(self.next_beat()) => self.beat().await,
            }
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

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
mod race_tests;

#[cfg(test)]
mod budget_tests;

#[cfg(test)]
mod scripted;
