//! The commands that move traffic and judge it: waiting for green's health,
//! shifting a step, baking it, promoting, reverting and cleaning up.

use super::{apply, Executor};
use crate::alb::{state_tags, HealthCounts, HealthState, RouteAction, TargetHealth};
use crate::analysis::collect::{collect, Window};
use crate::analysis::{judge, BakeDecision, Verdict};
use crate::engine::Reason;
use crate::provider::cloudwatch::{first_minute, unix, BUCKET_SECONDS};
use crate::report::{IntervalRecord, Progress};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// The step's bake after a judged interval. A judged CloudWatch minute
/// proves the traffic from the step's first whole minute to that minute's
/// end, whatever the wall clock says (data arrives minutes late); without
/// one, the interval's wall time counts.
fn baked_after(
    baked: Duration,
    slice: Duration,
    since: SystemTime,
    minute: Option<i64>,
) -> Duration {
    match minute {
        Some(m) => {
            let from = first_minute(unix(since));
            let covered = u64::try_from(m + BUCKET_SECONDS - from).unwrap_or(0);
            baked.max(Duration::from_secs(covered))
        }
        None => baked + slice,
    }
}

impl Executor<'_> {
    /// Green is ready when it has a healthy target and every target this
    /// run registered is healthy.
    fn ready(&self, health: &[TargetHealth]) -> bool {
        let counts = HealthCounts::of(health);
        let registered_ok = self.cfg.register.iter().all(|t| {
            health.iter().any(|h| {
                h.target.id == t.id
                    && (t.port.is_none() || h.target.port == t.port)
                    && h.state == HealthState::Healthy
            })
        });
        counts.healthy > 0 && registered_ok
    }

    pub(super) async fn await_healthy(&mut self) -> Result<(), Reason> {
        let start = Instant::now();
        loop {
            let health = self
                .unless_cancelled(self.src.lb.target_health(&self.cfg.plan.green))
                .await?;
            if let Ok(h) = &health {
                if self.ready(h) {
                    self.out.progress(Progress::Health {
                        counts: HealthCounts::of(h),
                        waited: start.elapsed(),
                    });
                    return Ok(());
                }
            }
            if start.elapsed() >= self.cfg.health_timeout {
                let seen = match health {
                    Ok(h) => HealthCounts::of(&h).to_string(),
                    Err(e) => e.to_string(),
                };
                return Err(Reason::Error(format!(
                    "green {} did not become healthy within {}s (--health-timeout): {seen}",
                    self.cfg.plan.green,
                    self.cfg.health_timeout.as_secs()
                )));
            }
            self.wait(
                self.cfg.health_poll,
                "waiting for green to be healthy; next look",
            )
            .await?;
        }
    }

    pub(super) async fn shift(&mut self, i: usize) -> Result<(), Reason> {
        self.checkpoint()?;
        // The invariant: never put weight on a group with no healthy target.
        let health = self
            .unless_cancelled(self.src.lb.target_health(&self.cfg.plan.green))
            .await?
            .map_err(|e| Reason::Error(e.to_string()))?;
        let counts = HealthCounts::of(&health);
        if counts.healthy == 0 {
            return Err(Reason::CheckFailed(format!(
                "health: green has no healthy target ({counts}); not shifting traffic to it"
            )));
        }
        self.ensure_unchanged(i).await?;
        let step = self.cfg.plan.steps[i].clone();
        self.checkpoint()?;
        self.route_written = true;
        let (lb, route, p) = (self.src.lb.as_ref(), &self.cfg.route, self.cfg.apply);
        apply::write(lb, route, &step.forward, p)
            .await
            .map_err(|e| Reason::Error(e.to_string()))?;
        // The read-back is only a read: a cancel need not wait for it.
        self.unless_cancelled(apply::verify(lb, route, &step.forward, p))
            .await?
            .map_err(Reason::Error)?;
        let (b, g) = (
            step.forward.weight_of(&self.cfg.plan.blue).unwrap_or(0),
            step.forward.weight_of(&self.cfg.plan.green).unwrap_or(0),
        );
        self.shifted_at = SystemTime::now();
        let at = self.elapsed();
        self.report.record_step(step.percent, b, g, at);
        self.out.progress(Progress::Shifted {
            step: i,
            steps: self.cfg.plan.steps.len(),
            percent: step.percent,
            forward: &step.forward,
        });
        let tag = state_tags::step_tag(&format!(
            "{} of {} at {}",
            i + 1,
            self.cfg.plan.steps.len(),
            step.percent.as_percent()
        ));
        self.checkpoint()?;
        if let Err(e) = self.src.lb.add_tags(self.cfg.route.owner_arn(), &tag).await {
            self.warn(format!("could not update the step tag: {e}"));
        }
        Ok(())
    }

    pub(super) async fn bake(&mut self, i: usize) -> Result<(), Reason> {
        let step = self.cfg.plan.steps[i].clone();
        let mut window = Window {
            since: self.shifted_at,
            after: None,
        };
        let mut baked = Duration::ZERO;
        let result = loop {
            if baked >= step.bake {
                break Ok(());
            }
            let slice = self.slice(step.bake - baked);
            let label = format!(
                "step {} at {}, {} left; next check",
                i + 1,
                step.percent,
                humantime::format_duration(Duration::from_secs((step.bake - baked).as_secs()))
            );
            if let Err(r) = self.wait(slice, &label).await {
                break Err(r);
            }
            let sample = match self
                .unless_cancelled(collect(&self.src, &self.cfg.subjects, window))
                .await
            {
                Ok(s) => s,
                Err(r) => break Err(r),
            };
            let outcome = judge(&sample, &self.cfg.thresholds);
            let decision = self.cfg.tracker.observe(&outcome, slice);
            if decision == BakeDecision::Continue {
                baked = baked_after(baked, slice, window.since, sample.judged_minute);
            }
            window.after = sample.judged_minute.or(window.after);
            self.out.progress(Progress::Interval {
                step: i,
                percent: step.percent,
                baked,
                bake: step.bake,
                outcome: &outcome,
                decision: &decision,
            });
            self.record_interval(&outcome);
            if let BakeDecision::Fail(why) = decision {
                if outcome.verdict == Verdict::Fail {
                    self.report.failed_check = Some(outcome);
                }
                break Err(Reason::CheckFailed(why));
            }
        };
        let now = self.elapsed();
        if let Some(s) = self.report.steps.last_mut() {
            s.duration_seconds = now - s.started_at_seconds;
        }
        result
    }

    /// The wait before the next check. With CloudWatch the bake is measured
    /// in judged minutes, whose arrival no timer predicts, so every wait is
    /// a whole interval; without it, the last wait ends with the bake.
    fn slice(&self, left: Duration) -> Duration {
        match self.src.traffic {
            Some(_) => self.cfg.interval,
            None => self.cfg.interval.min(left),
        }
    }

    fn record_interval(&mut self, outcome: &crate::analysis::CheckOutcome) {
        let at = self.elapsed();
        if let Some(s) = self.report.steps.last_mut() {
            s.intervals.push(IntervalRecord {
                at_seconds: at,
                verdict: outcome.verdict,
                checks: outcome.checks.clone(),
            });
        }
    }

    /// The route must still be what step `done` (count of steps written)
    /// left, or the original read at preflight before the first step:
    /// someone else changing it (also while green's health was awaited)
    /// stops the run rather than being silently overwritten.
    async fn ensure_unchanged(&self, done: usize) -> Result<(), Reason> {
        let (want, when) = match done.checked_sub(1) {
            Some(i) => (
                &self.cfg.plan.steps[i].forward,
                format!("during step {done}"),
            ),
            None => (&self.cfg.plan.original, "before its first step".to_string()),
        };
        match self
            .unless_cancelled(self.src.lb.read_route(&self.cfg.route))
            .await?
        {
            Ok(RouteAction::Forward(f)) if f.same_routing(want) => Ok(()),
            Ok(other) => Err(Reason::Error(format!(
                "the {} was changed outside alb-rollout {when}: it now {}, not {}",
                self.cfg.route,
                match &other {
                    RouteAction::Forward(f) => format!("forwards to {}", f.weights_text()),
                    RouteAction::Other { action_type } => format!("is a {action_type} action"),
                },
                want.weights_text()
            ))),
            Err(e) => Err(Reason::Error(e.to_string())),
        }
    }

    pub(super) async fn promote(&mut self) -> Result<(), Reason> {
        self.checkpoint()?;
        self.ensure_unchanged(self.cfg.plan.steps.len()).await?;
        let want = self.cfg.plan.promoted.clone();
        // Say first what `rollback` should do if the process dies between
        // the write and its confirmation: restore the original (see
        // docs/reliability.md). A failure here changes nothing about that,
        // since a record still at the last step is restored the same way.
        self.set_step(state_tags::PROMOTING_STEP).await;
        // Once this write is sent the promotion stands: no checkpoint after it.
        self.checkpoint()?;
        self.route_written = true;
        apply::apply(self.src.lb.as_ref(), &self.cfg.route, &want, self.cfg.apply)
            .await
            .map_err(Reason::Error)?;
        self.out.progress(Progress::Promoted { forward: &want });
        self.promoted_marked = self.set_step(state_tags::PROMOTED_STEP).await;
        Ok(())
    }

    /// Write the record's step tag (retried); a failure is a warning.
    async fn set_step(&mut self, step: &str) -> bool {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let (owner, tag) = (self.cfg.route.owner_arn(), state_tags::step_tag(step));
        match apply::retry(p.write_attempts, p.backoff, || lb.add_tags(owner, &tag)).await {
            Ok(()) => true,
            Err(e) => {
                self.warn(format!("could not mark the run {step}: {e}"));
                false
            }
        }
    }

    pub(super) fn warn(&mut self, w: String) {
        self.out.progress(Progress::Warning(w.clone()));
        self.report.warnings.push(w);
    }
}
