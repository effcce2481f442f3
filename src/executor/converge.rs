//! Applying the convergence (`engine::converge`) against the port: read a
//! snapshot, apply the first step the planner gives, read again, until
//! the snapshot is the goal. Shared by the live run's revert and
//! `rollback`.
//!
//! Deadlines are per step, never one for the whole revert: a route write
//! retries until its own `WRITE_DEADLINE`, a call until `CALL_DEADLINE`, a
//! wait for a floor until `--health-timeout`, and every step is tried at
//! least once. A step that failed is not tried again; the planner's next
//! one is (a wait that ran out lets the route go back with what is
//! healthy). After a cancel everything must end `--revert-timeout` after
//! the signal: each step gets what is left of it, waits are cut at the
//! signal so the planner can put the route first, and the settle shrinks
//! to leave room for the calls after it.

use super::apply::{self, ApplyPolicy};
use crate::alb::{Forward, HealthState, LoadBalancerPort, RouteRef, Target};
use crate::engine::converge::{self, Context, RuleSeen, Snapshot, Step};
use crate::engine::goal::Goal;
use crate::engine::Group;
use crate::signal::Cancel;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How long one route write (with its read-back) keeps retrying.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(60);
/// How long one register, deregister, rule delete or read keeps retrying.
pub const CALL_DEADLINE: Duration = Duration::from_secs(60);
/// After a cancel, what the settle leaves of the budget for the calls
/// that follow it (a deregistration, the record's removal).
const CANCEL_RESERVE: Duration = Duration::from_secs(2);
/// What one route write and its read-back is budgeted at after a cancel.
pub const WRITE_ESTIMATE: Duration = Duration::from_secs(1);
/// The pause between two steps of a gradual abort (none after a cancel).
pub const RAMP_PAUSE: Duration = Duration::from_secs(5);
const MAX_PAUSE: Duration = Duration::from_secs(10);

/// The settings of one convergence.
#[derive(Clone)]
pub struct Settings {
    pub health_timeout: Duration,
    pub health_poll: Duration,
    pub settle: Duration,
    pub revert_timeout: Duration,
    pub apply: ApplyPolicy,
    /// `--abort gradual`: the run's route stages, the original first.
    pub stages: Vec<Forward>,
}

/// What the convergence did, as it does it.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    Registered(Group, Vec<Target>),
    Deregistered(Group, Vec<Target>),
    RuleDeleted(u32),
    Attached(String),
    /// A gradual abort's step that is not the last.
    RampedBack(Forward),
    /// The goal route is written and read back.
    Restored(Forward),
    /// Another route of the run is back to its original, read back.
    OtherRestored(RouteRef, Forward),
    /// `--undo` ran on these targets.
    Undone(Vec<Target>),
    /// An `--undo` ended (passed or not): what the result records.
    Command(crate::report::result::BatchCommandRecord),
    Warning(String),
}

pub struct Converger<'a> {
    pub lb: &'a dyn LoadBalancerPort,
    pub route: Option<RouteRef>,
    pub listener_arn: String,
    pub run_id: String,
    pub goal: Goal,
    pub settings: Settings,
    pub cancel: Cancel,
    pub notes: &'a mut (dyn FnMut(Note) + Send),
    /// An in-place run's `--undo` (`converge_undo`); `None`: no undo.
    pub undo: Option<super::converge_undo::UndoRun>,
}

/// Run `fut` for at most `own`, and (after a cancel) no longer than
/// `revert_timeout` from the signal; a cancel that arrives meanwhile cuts
/// it to that.
pub async fn within<T>(
    cancel: &Cancel,
    revert_timeout: Duration,
    own: Duration,
    fut: impl Future<Output = T>,
) -> Result<T, String> {
    let budget = async {
        cancel.cancelled().await;
        let at = cancel.at().unwrap_or_else(Instant::now);
        tokio::time::sleep_until(at + revert_timeout).await;
    };
    tokio::select! {
        v = fut => Ok(v),
        _ = tokio::time::sleep(own) => Err(format!("did not finish within {}s", own.as_secs())),
        _ = budget => Err(format!(
            "did not finish within {}s of the signal (--revert-timeout)",
            revert_timeout.as_secs()
        )),
    }
}

/// A step's end: done, or what went wrong.
type Outcome = Result<(), String>;

impl Converger<'_> {
    /// Converge to the goal; `Err` says what is left.
    pub async fn run(&mut self) -> Outcome {
        let mut ctx = Context {
            stages: self.settings.stages.clone(),
            ..Context::default()
        };
        let mut failed: Vec<(Step, String)> = vec![];
        let mut last_done: Option<Step> = None;
        let mut warned = false;
        loop {
            ctx.cancelled = self.cancel.is_cancelled();
            let left = self.left();
            if left.is_some_and(|l| l.is_zero()) {
                return Err(self
                    .left_over("did not finish within --revert-timeout of the signal")
                    .await);
            }
            let snap = self
                .within(CALL_DEADLINE, self.snapshot())
                .await
                .and_then(|r| r)?;
            if let Some(left) = left {
                ctx.ramp_ok = self.ramp_fits(&snap, left, &mut warned);
            }
            let steps = converge::plan(&self.goal, &snap, &ctx);
            if steps.is_empty() {
                // Nothing to do: at the goal, or blocked by an invariant
                // (no healthy target to move traffic to).
                let off = converge::left(&self.goal, &snap, &ctx);
                return match off.is_empty() {
                    true => Ok(()),
                    false => Err(format!("the revert cannot go on now: {}", off.join("; "))),
                };
            }
            let Some(step) = steps
                .into_iter()
                .find(|s| !failed.iter().any(|(f, _)| f == s))
            else {
                let why: Vec<String> = failed.iter().map(|(_, e)| e.clone()).collect();
                return Err(format!(
                    "{}: {}",
                    converge::left(&self.goal, &snap, &ctx).join("; "),
                    why.join("; ")
                ));
            };
            if last_done.as_ref() == Some(&step) {
                failed.push((step, "it did not take effect".into()));
                continue;
            }
            let wait = matches!(
                step,
                Step::AwaitFloor { .. }
                    | Step::Settle
                    | Step::AwaitDrained { .. }
                    | Step::AwaitHealthy { .. }
            );
            match self.apply(&step, &mut ctx).await {
                // A wait may end early (a cancel) and be asked for again.
                Ok(()) if wait => last_done = None,
                Ok(()) => last_done = Some(step),
                Err(e) => {
                    (self.notes)(Note::Warning(format!("revert: {e}")));
                    failed.push((step, e));
                    last_done = None;
                }
            }
        }
    }

    /// After a cancel: whether the rest of a gradual abort fits what is
    /// left of the budget, at `WRITE_ESTIMATE` a write and one more call for
    /// the record; if not, it becomes one write (said once).
    fn ramp_fits(&mut self, snap: &Snapshot, left: Duration, warned: &mut bool) -> bool {
        let now = snap.route.as_ref().and_then(|r| r.as_forward());
        let writes = converge::ramp_writes(&self.settings.stages, now);
        let fits = WRITE_ESTIMATE * (writes as u32 + 1) <= left;
        if !fits && writes > 1 && !*warned {
            *warned = true;
            (self.notes)(Note::Warning(format!(
                "cancelled with {:.1}s of --revert-timeout left: the rest of the gradual abort is one write of the original route",
                left.as_secs_f64()
            )));
        }
        fits
    }

    /// What is left of the budget after a cancel (`None`: no cancel).
    fn left(&self) -> Option<Duration> {
        let at = self.cancel.at().filter(|_| self.cancel.is_cancelled())?;
        Some((at + self.settings.revert_timeout).saturating_duration_since(Instant::now()))
    }

    async fn left_over(&self, why: &str) -> String {
        let snap = tokio::time::timeout(Duration::from_secs(1), self.snapshot()).await;
        match snap {
            Ok(Ok(s)) => format!(
                "the revert {why}: {}",
                converge::differences(&self.goal, &s).join("; ")
            ),
            _ => format!("the revert {why}"),
        }
    }

    pub(super) async fn within<T>(
        &self,
        own: Duration,
        fut: impl Future<Output = T>,
    ) -> Result<T, String> {
        within(&self.cancel, self.settings.revert_timeout, own, fut).await
    }

    /// A wait that a cancel interrupts (the planner then decides again,
    /// route first); `Ok(false)` when it was interrupted.
    pub(super) async fn wait_unless_cancelled(&self, d: Duration) -> bool {
        if self.cancel.is_cancelled() {
            tokio::time::sleep(d).await;
            return true;
        }
        tokio::select! {
            _ = self.cancel.cancelled() => false,
            _ = tokio::time::sleep(d) => true,
        }
    }

    async fn snapshot(&self) -> Result<Snapshot, String> {
        let (lb, p) = (self.lb, self.settings.apply);
        let mut snap = Snapshot::default();
        if let (Some(route), Some(_)) = (&self.route, &self.goal.route) {
            let r = apply::retry(p.write_attempts, p.backoff, || lb.read_route(route)).await;
            snap.route = Some(r.map_err(|e| format!("could not read the {route}: {e}"))?);
        }
        for g in self.goal.groups_to_read() {
            let h = apply::retry(p.write_attempts, p.backoff, || lb.target_health(&g)).await;
            snap.health.insert(g, h.map_err(|e| e.to_string())?);
        }
        for o in &self.goal.others {
            let r = apply::retry(p.write_attempts, p.backoff, || lb.read_route(&o.route)).await;
            let r = r.map_err(|e| format!("could not read the {}: {e}", o.route))?;
            snap.others.insert(o.route.owner_arn().to_string(), r);
        }
        if !self.goal.rules.is_empty() {
            snap.rules = self.our_rules(&self.listener_arn, &self.goal.rules).await?;
        }
        let mut listeners: Vec<&str> = (self.goal.other_rules.iter())
            .map(|(l, _)| l.as_str())
            .collect();
        listeners.dedup();
        for l in listeners {
            let at: Vec<u32> = (self.goal.other_rules.iter())
                .filter(|(x, _)| x == l)
                .map(|(_, p)| *p)
                .collect();
            for r in self.our_rules(l, &at).await? {
                if !snap.rules.contains(&r) {
                    snap.rules.push(r);
                }
            }
        }
        Ok(snap)
    }

    /// The rules on `listener` at `priorities` that carry the run's tag.
    async fn our_rules(&self, listener: &str, priorities: &[u32]) -> Result<Vec<RuleSeen>, String> {
        let (lb, p) = (self.lb, self.settings.apply);
        let rules = apply::retry(p.write_attempts, p.backoff, || lb.rules(listener))
            .await
            .map_err(|e| e.to_string())?;
        let mut out = vec![];
        for r in rules
            .iter()
            .filter(|r| r.priority.parse().is_ok_and(|n| priorities.contains(&n)))
        {
            let tags = apply::retry(p.write_attempts, p.backoff, || lb.tags(&r.arn))
                .await
                .map_err(|e| e.to_string())?;
            if tags.get(super::RULE_TAG) == Some(&self.run_id) {
                out.push(RuleSeen {
                    arn: r.arn.clone(),
                    priority: r.priority.parse().unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    async fn apply(&mut self, step: &Step, ctx: &mut Context) -> Outcome {
        match step {
            Step::DeleteRule(r) => {
                self.call(
                    |lb| lb.delete_rule(&r.arn),
                    &format!("deleting the run's rule {}", r.arn),
                )
                .await?;
                (self.notes)(Note::RuleDeleted(r.priority));
                (ctx.moved, ctx.settled) = (true, false);
            }
            Step::Register { group, targets } => {
                let what = format!(
                    "registering {} in {} again",
                    crate::alb::list_targets(targets),
                    group.role
                );
                self.call(|lb| lb.register_targets(&group.arn, targets), &what)
                    .await?;
                (self.notes)(Note::Registered(group.clone(), targets.clone()));
            }
            Step::Deregister { group, targets } => {
                let what = format!(
                    "deregistering {} from {}",
                    crate::alb::list_targets(targets),
                    group.role
                );
                self.call(|lb| lb.deregister_targets(&group.arn, targets), &what)
                    .await?;
                (self.notes)(Note::Deregistered(group.clone(), targets.clone()));
            }
            Step::Attach { group, to } => {
                self.write(to).await?;
                (self.notes)(Note::Attached(group.clone()));
                (ctx.moved, ctx.settled) = (true, false);
            }
            Step::WriteRoute { to, restore } => {
                self.write(to).await?;
                (ctx.moved, ctx.settled) = (true, false);
                match restore {
                    true => (self.notes)(Note::Restored(to.clone())),
                    false => {
                        (self.notes)(Note::RampedBack(to.clone()));
                        if !self.cancel.is_cancelled() {
                            self.wait_unless_cancelled(RAMP_PAUSE).await;
                        }
                    }
                }
            }
            Step::WriteOther { route, to } => {
                self.write_to(route.clone(), to).await?;
                (ctx.moved, ctx.settled) = (true, false);
                (self.notes)(Note::OtherRestored(route.clone(), to.clone()));
            }
            Step::AwaitFloor { group, floor, of } => {
                self.await_floor(group, *floor, *of, ctx).await
            }
            Step::Settle => self.settle(ctx).await,
            Step::AwaitDrained { .. } | Step::Undo { .. } | Step::AwaitHealthy { .. } => {
                self.apply_undo(step, ctx).await?
            }
        }
        Ok(())
    }

    /// One call through `apply::retry`, within its own deadline.
    async fn call<'b, F, Fut>(&'b self, op: F, what: &str) -> Outcome
    where
        F: Fn(&'b dyn LoadBalancerPort) -> Fut,
        Fut: Future<Output = Result<(), crate::alb::AlbError>>,
    {
        let p = self.settings.apply;
        let lb = self.lb;
        let r = self.within(
            CALL_DEADLINE,
            apply::retry(p.write_attempts, p.backoff, || op(lb)),
        );
        match r.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("{what}: {e}")),
            Err(limit) => Err(format!("{what} {limit}")),
        }
    }

    /// Write `to` until a read-back shows it, within `WRITE_DEADLINE`.
    /// Errors that retrying cannot fix end it at once.
    async fn write(&self, to: &Forward) -> Outcome {
        let route = self.route.clone().ok_or("the run has no route to write")?;
        self.write_to(route, to).await
    }

    /// Write `to` to `route` (the run's or another of its routes) until a
    /// read-back shows it.
    async fn write_to(&self, route: RouteRef, to: &Forward) -> Outcome {
        let (lb, p) = (self.lb, self.settings.apply);
        let attempt = async {
            let mut pause = p.backoff;
            loop {
                let (err, again) = match apply::write(lb, &route, to, p).await {
                    Ok(()) => match apply::verify(lb, &route, to, p).await {
                        Ok(()) => return Ok(()),
                        Err(e) => (e, true),
                    },
                    Err(e) => (e.to_string(), e.is_retryable()),
                };
                if !again {
                    return Err(err);
                }
                tracing::warn!(error = %err, "revert write not verified yet; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
        };
        match self.within(WRITE_DEADLINE, attempt).await {
            Ok(r) => r.map_err(|e| format!("the {route} was not restored: {e}")),
            Err(limit) => Err(format!("writing the {route} {limit}")),
        }
    }

    /// Poll until `group` has `floor` healthy targets, for at most
    /// `--health-timeout`; when that runs out the planner goes on without.
    async fn await_floor(&mut self, group: &Group, floor: usize, of: usize, ctx: &mut Context) {
        let (lb, poll) = (self.lb, self.settings.health_poll);
        let wait = async {
            loop {
                let h = lb.target_health(&group.arn).await;
                let n = h.map(|h| h.iter().filter(|x| x.state == HealthState::Healthy).count());
                if n.is_ok_and(|n| n >= floor) {
                    return true;
                }
                if !self.wait_unless_cancelled(poll).await {
                    return false;
                }
            }
        };
        match self.within(self.settings.health_timeout, wait).await {
            Ok(true) => {}
            // A cancel arrived: decide again, route first.
            Ok(false) => {}
            Err(limit) => {
                (self.notes)(Note::Warning(format!(
                    "{} {} has fewer than {floor} of {of} targets healthy: the wait {limit} (--health-timeout); traffic goes back to what is healthy",
                    group.role, group.arn
                )));
                ctx.waited.push(group.arn.clone());
            }
        }
    }

    /// Let ALB's nodes see the route change before targets leave. After a
    /// cancel, no longer than leaves room for what follows.
    async fn settle(&self, ctx: &mut Context) {
        let mut d = self.settings.settle;
        if let Some(left) = self.left() {
            d = d.min(left.saturating_sub(CANCEL_RESERVE));
        }
        if self.wait_unless_cancelled(d).await {
            ctx.settled = true;
        }
    }
}
