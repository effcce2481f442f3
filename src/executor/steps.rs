//! The actions that move traffic and judge it: waiting for a group's
//! health, a route write (a step or the promotion) with its drift check,
//! health gate, marks and read-back, and a bake.

use super::{apply, Executor, Fail};
use crate::alb::{
    state_tags, Forward, HealthCounts, HealthState, RouteAction, Target, TargetHealth,
};
use crate::analysis::collect::{collect, Sources, Window};
use crate::analysis::minutes::Judged;
use crate::analysis::{judge, BakeDecision, Verdict};
use crate::engine::{BakeSpec, Group, Purpose, Reason, RouteWrite};
use crate::provider::cloudwatch::{first_minute, unix, BUCKET_SECONDS};
use crate::report::{IntervalRecord, Progress};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// A group is ready when it has a healthy target and every one of
/// `targets` is healthy.
fn ready(health: &[TargetHealth], targets: &[Target]) -> bool {
    let counts = HealthCounts::of(health);
    let all_ok = targets.iter().all(|t| {
        health.iter().any(|h| {
            h.target.id == t.id
                && (t.port.is_none() || h.target.port == t.port)
                && h.state == HealthState::Healthy
        })
    });
    counts.healthy > 0 && all_ok
}

/// What the drift check expects, in words, for a write with `purpose`.
fn when(purpose: &Purpose) -> String {
    match purpose {
        Purpose::Step { index: 0, .. } => "before its first step".to_string(),
        Purpose::Step { index, .. } => format!("during step {index}"),
        Purpose::Promote { after_steps } => format!("during step {after_steps}"),
        Purpose::Attach => "before green is attached at weight 0".to_string(),
        Purpose::Detach => "after blue's last batch".to_string(),
    }
}

impl Executor<'_> {
    pub(super) async fn await_healthy(
        &mut self,
        group: &Group,
        targets: &[Target],
    ) -> Result<(), Reason> {
        let start = Instant::now();
        loop {
            let health = self
                .unless_cancelled(self.src.lb.target_health(&group.arn))
                .await?;
            if let Ok(h) = &health {
                if ready(h, targets) {
                    let batch = (self.cfg.in_place.as_ref())
                        .filter(|_| self.batches_at.started > 0)
                        .map(|p| (self.batches_at.started, p.batches.len()));
                    self.out.progress(Progress::Health {
                        counts: HealthCounts::of(h),
                        waited: start.elapsed(),
                        batch,
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
                    "{} {} did not become healthy within {}s (--health-timeout): {seen}",
                    group.role,
                    group.arn,
                    self.cfg.health_timeout.as_secs()
                )));
            }
            let label = format!("waiting for {} to be healthy; next look", group.role);
            self.wait(self.cfg.health_poll, &label).await?;
        }
    }

    /// The invariant: never give more traffic to a group with no healthy
    /// target. Groups whose share does not rise are not read.
    pub(super) async fn gate(&self, w: &RouteWrite) -> Result<(), Reason> {
        for g in &w.to.groups {
            let arn = &g.target_group_arn;
            if w.to.percent_of(arn) <= w.from.percent_of(arn) {
                continue;
            }
            let health = self
                .unless_cancelled(self.src.lb.target_health(arn))
                .await?
                .map_err(|e| Reason::Error(e.to_string()))?;
            let counts = HealthCounts::of(&health);
            if counts.healthy == 0 {
                return Err(Reason::CheckFailed(format!(
                    "health: {} has no healthy target ({counts}); not shifting traffic to it",
                    self.plan.role_of(arn)
                )));
            }
        }
        Ok(())
    }

    /// A step or the promotion: cancel and drift checks, the health gate,
    /// the marks around the write, the write and its read-back.
    pub(super) async fn write_route(&mut self, w: &RouteWrite) -> Result<(), Fail> {
        if w.purpose == Purpose::Detach {
            self.detach(w).await;
            return Ok(());
        }
        self.checkpoint()?;
        self.ensure_unchanged(&w.from, &when(&w.purpose)).await?;
        self.gate(w).await?;
        let promote = matches!(w.purpose, Purpose::Promote { .. });
        if promote {
            // Say first what `rollback` should do if the process dies
            // between the write and its confirmation: restore the original
            // (see docs/reliability.md). A failure here changes nothing
            // about that, since a record at the last step is restored the same way.
            self.set_step(state_tags::PROMOTING_STEP).await;
        }
        self.checkpoint()?;
        let (lb, route, p) = (self.src.lb.clone(), self.route()?, self.cfg.apply);
        if promote {
            // Once this write is sent the promotion stands: no cancel point after it.
            apply::apply(lb.as_ref(), &route, &w.to, p)
                .await
                .map_err(|e| Fail::After(Reason::Error(e)))?;
        } else {
            apply::write(lb.as_ref(), &route, &w.to, p)
                .await
                .map_err(|e| Fail::After(Reason::Error(e.to_string())))?;
            // The read-back is only a read: a cancel need not wait for it.
            self.unless_cancelled(apply::verify(lb.as_ref(), &route, &w.to, p))
                .await
                .map_err(Fail::After)?
                .map_err(|e| Fail::After(Reason::Error(e)))?;
        }
        self.route_now = w.to.clone();
        match w.purpose {
            Purpose::Step { index, of, percent } => self.shifted(index, of, percent, &w.to).await,
            Purpose::Attach => {
                self.out.progress(Progress::Attached {
                    forward: &w.to,
                    attach: true,
                });
                Ok(())
            }
            _ if self.drains_blue() => {
                // Blue still leaves in batches: until its last batch is
                // gone the run reverts, and so does `rollback`.
                self.out.progress(Progress::Promoted { forward: &w.to });
                self.draining_marked = self.set_step(state_tags::DRAINING_BLUE_STEP).await;
                Ok(())
            }
            _ => {
                self.out.progress(Progress::Promoted { forward: &w.to });
                self.promoted_marked = self.set_step(state_tags::PROMOTED_STEP).await;
                Ok(())
            }
        }
    }

    /// After a step's write was verified: report it and mark the step.
    async fn shifted(
        &mut self,
        i: usize,
        n: usize,
        percent: crate::plan::Tenths,
        to: &Forward,
    ) -> Result<(), Fail> {
        let (b, g) = (
            to.weight_of(&self.plan.blue).unwrap_or(0),
            to.weight_of(&self.plan.green).unwrap_or(0),
        );
        self.shifted_at = SystemTime::now();
        let at = self.elapsed();
        self.report.record_step(percent, b, g, at);
        self.out.progress(Progress::Shifted {
            step: i,
            steps: n,
            percent,
            forward: to,
        });
        let tag = state_tags::step_tag(&format!("{} of {n} at {}", i + 1, percent.as_percent()));
        // The step is live: a cancel now must undo it.
        self.checkpoint().map_err(Fail::After)?;
        if let Err(e) = self.src.lb.add_tags(self.cfg.scope.owner_arn(), &tag).await {
            self.warn(format!("could not update the step tag: {e}"));
        }
        Ok(())
    }

    pub(super) async fn bake(&mut self, step: &BakeSpec) -> Result<(), Reason> {
        if self.cfg.scope.group().is_some() {
            self.round_done(step).await;
        }
        let since = self.shifted_at;
        let mut judged = Judged::new(first_minute(unix(since)));
        let mut baked = Duration::ZERO;
        let mut sources = match step.public_traffic() {
            true => self.src.clone(),
            false => Sources {
                traffic: None,
                ..self.src.clone()
            },
        };
        self.with_check_env(&mut sources, step);
        let result = loop {
            // A late minute before the newest judged one holds the step.
            if baked >= step.duration && judged.settled() {
                break Ok(());
            }
            let slice = self.slice(step.duration.saturating_sub(baked));
            let left = match step.duration.saturating_sub(baked).as_secs() {
                0 => "waiting for a late CloudWatch minute".to_string(),
                s => format!(
                    "{} left",
                    humantime::format_duration(Duration::from_secs(s))
                ),
            };
            let label = format!(
                "step {} at {}, {left}; next check",
                step.step + 1,
                step.percent
            );
            if let Err(r) = self.wait(slice, &label).await {
                break Err(r);
            }
            let window = Window {
                since,
                judged: &judged,
            };
            let samples = match self
                .unless_cancelled(collect(&sources, &self.cfg.subjects, window))
                .await
            {
                Ok(s) => s,
                Err(r) => break Err(r),
            };
            let mut failed = None;
            for (i, sample) in samples.into_iter().enumerate() {
                // The interval's wall time is counted once, whatever the number of minutes.
                let wall = if i == 0 { slice } else { Duration::ZERO };
                if let Err(r) = self.judge_one(step, &sample, wall, &mut baked) {
                    failed = Some(r);
                    break;
                }
                judged.minutes.extend(&sample.judged_minutes);
            }
            if let Some(r) = failed {
                break Err(r);
            }
        };
        let now = self.elapsed();
        if let Some(s) = self.report.steps.last_mut() {
            s.duration_seconds = now - s.started_at_seconds;
        }
        if result.is_ok() {
            // A further hold at the same weights (blue-green's --keep-blue)
            // judges only what came after this one: CloudWatch minutes
            // already judged must not count towards it again.
            self.shifted_at = SystemTime::now();
        }
        result
    }

    /// Judge one sample, report it, and count what it proves toward the
    /// bake: its judged minutes, or without CloudWatch the wall time.
    fn judge_one(
        &mut self,
        step: &BakeSpec,
        sample: &crate::analysis::Sample,
        wall: Duration,
        baked: &mut Duration,
    ) -> Result<(), Reason> {
        let outcome = judge(sample, &self.cfg.thresholds);
        let decision = self.cfg.tracker.observe(&outcome, wall);
        if decision == BakeDecision::Continue {
            let minutes = u64::try_from(sample.judged_minutes.len()).unwrap_or(0);
            *baked += match minutes {
                0 => wall,
                n => Duration::from_secs(n * BUCKET_SECONDS as u64),
            };
        }
        self.out.progress(Progress::Interval {
            step: step.step,
            percent: step.percent,
            baked: *baked,
            bake: step.duration,
            outcome: &outcome,
            decision: &decision,
        });
        self.record_interval(&outcome);
        if let BakeDecision::Fail(why) = decision {
            if outcome.verdict == Verdict::Fail {
                self.report.failed_check = Some(outcome);
            }
            return Err(Reason::CheckFailed(why));
        }
        Ok(())
    }

    /// A group run's round is in place: its analysis judges only what came
    /// after it, and the report, the progress and the step tag say so.
    async fn round_done(&mut self, step: &BakeSpec) {
        let rounds = (self.plan.actions.iter())
            .filter(|a| matches!(a, crate::engine::Action::Bake(_)))
            .count();
        self.shifted_at = SystemTime::now();
        let at = self.elapsed();
        self.report.record_step(step.percent, 0, 0, at);
        // Tagged before it is shown, so whoever reads the line finds the tag.
        let word = match self.cfg.in_place {
            Some(_) => "batch",
            None => "round",
        };
        self.set_step(&format!("{word} {} of {rounds}", step.step + 1))
            .await;
        self.out.progress(Progress::Round {
            round: step.step,
            rounds,
            percent: step.percent,
            in_place: self.cfg.in_place.is_some(),
        });
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

    /// The route must still be `want` (what the previous write left, or
    /// the original read at preflight before the first): someone else
    /// changing it (also while a group's health was awaited) stops the run
    /// rather than being silently overwritten.
    pub(super) async fn ensure_unchanged(&self, want: &Forward, when: &str) -> Result<(), Reason> {
        let route = self.route()?;
        match self
            .unless_cancelled(self.src.lb.read_route(&route))
            .await?
        {
            Ok(RouteAction::Forward(f)) if f.same_routing(want) => Ok(()),
            Ok(other) => Err(Reason::Error(format!(
                "the {} was changed outside alb-rollout {when}: it now {}, not {}",
                route,
                match &other {
                    RouteAction::Forward(f) => format!("forwards to {}", f.weights_text()),
                    RouteAction::Other { action_type } => format!("is a {action_type} action"),
                },
                want.weights_text()
            ))),
            Err(e) => Err(Reason::Error(e.to_string())),
        }
    }

    /// Whether the plan deregisters blue after its promotion.
    fn drains_blue(&self) -> bool {
        self.plan.actions.iter().any(|a| {
            matches!(a, crate::engine::Action::Deregister { group, .. } if group.arn == self.plan.blue)
        })
    }

    /// The end of a full deploy: blue's last batch is gone, so the run
    /// stands; `promoted` tells `rollback` so before the record goes.
    pub(super) async fn mark_promoted_if_draining(&mut self) {
        if self.draining_marked && !self.promoted_marked {
            self.promoted_marked = self.set_step(state_tags::PROMOTED_STEP).await;
        }
    }

    /// Write the record's step tag (retried); a failure is a warning.
    pub(super) async fn set_step(&mut self, step: &str) -> bool {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let (owner, tag) = (self.cfg.scope.owner_arn(), state_tags::step_tag(step));
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
