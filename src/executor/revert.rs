//! Undoing a run: each action of the revert the engine derived (route
//! writes until a read-back proves them, re-registering, deregistering what
//! the run added, removing its record), every one within the budget.
//!
//! Two budgets. After a cancel, the CI runner kills the process about 10 s
//! after its signal, so the revert and cleanup must end `--revert-timeout`
//! after the signal arrived (not after the run noticed it). After a failed
//! check or an error nobody is about to kill the process, so the revert
//! keeps retrying with backoff for up to `REVERT_PERSIST`; a signal that
//! arrives meanwhile shrinks that to the cancel budget.

use super::{apply, Executor};
use crate::alb::{Forward, LoadBalancerPort, RouteAction, RouteRef};
use crate::engine::{Action, Purpose, Reason, RouteWrite};
use crate::report::Progress;
use crate::signal::Cancel;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How long a revert after a failed check or an error keeps retrying
/// before the run gives up with `revert-incomplete`.
pub const REVERT_PERSIST: Duration = Duration::from_secs(300);
/// Longest pause between two revert attempts.
const MAX_REVERT_PAUSE: Duration = Duration::from_secs(10);

/// The limits a revert (or its cleanup) runs under; see the module header.
#[derive(Clone)]
struct Budget {
    cancel: Cancel,
    revert_timeout: Duration,
    persist_until: Instant,
}

impl Budget {
    /// Run `fut` within the budget, or say which limit it hit.
    async fn run<T>(&self, fut: impl Future<Output = T>) -> Result<T, String> {
        let after_signal = async {
            self.cancel.cancelled().await;
            let at = self.cancel.at().unwrap_or_else(Instant::now);
            tokio::time::sleep_until(at + self.revert_timeout).await;
        };
        tokio::select! {
            v = fut => Ok(v),
            _ = after_signal => Err(format!(
                "did not finish within {}s of the signal (--revert-timeout)",
                self.revert_timeout.as_secs()
            )),
            _ = tokio::time::sleep_until(self.persist_until) => Err(format!(
                "did not finish within {}s of trying",
                REVERT_PERSIST.as_secs()
            )),
        }
    }
}

/// Write `want` until a read-back shows it. Errors that retrying cannot fix
/// (access denied, invalid) end it at once; throttling, 5xx and stale reads
/// are retried with backoff until the budget ends it.
async fn restore(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    want: &Forward,
    p: apply::ApplyPolicy,
) -> Result<(), String> {
    let mut pause = p.backoff;
    loop {
        let (err, again) = match apply::write(lb, route, want, p).await {
            Ok(()) => match apply::verify(lb, route, want, p).await {
                Ok(()) => return Ok(()),
                Err(e) => (e, true),
            },
            Err(e) => (e.to_string(), e.is_retryable()),
        };
        // A write that failed (e.g. no ModifyListener permission) may have
        // had nothing to undo: the route is judged by reading it.
        if let Ok(RouteAction::Forward(f)) = lb.read_route(route).await {
            if f.same_routing(want) {
                return Ok(());
            }
        }
        if !again {
            return Err(err);
        }
        tracing::warn!(error = %err, "revert not verified yet; retrying");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_REVERT_PAUSE);
    }
}

impl Executor<'_> {
    fn budget(&self) -> Budget {
        Budget {
            cancel: self.cancel.clone(),
            revert_timeout: self.cfg.revert_timeout,
            persist_until: self.detected.unwrap_or_else(Instant::now) + REVERT_PERSIST,
        }
    }

    /// One action of the revert, within the budget. Reverts skip the drift
    /// and cancel checks (a revert is the answer to both) and the health
    /// gate (they go back to what served before the run).
    pub(super) async fn undo(&mut self, action: &Action) -> Result<(), Reason> {
        let budget = self.budget();
        let r = match action {
            Action::WriteRoute(w) => return self.undo_route(w, &budget).await,
            Action::Register { group, targets } => {
                budget.run(self.register_now(group, targets)).await
            }
            Action::Deregister { group, targets } => {
                budget
                    .run(async {
                        self.keeps_a_healthy_target(group, targets)
                            .await
                            .map_err(|r| r.message().to_string())?;
                        self.deregister_now(group, targets).await
                    })
                    .await
            }
            Action::AwaitHealthy { group, targets } => {
                // Each health wait may take its own --health-timeout: a
                // rolling revert re-registers one round at a time, so
                // one fixed window for the whole revert could not hold
                // them. A cancel still ends it at --revert-timeout.
                let mut budget = budget.clone();
                let own = Instant::now() + self.cfg.health_timeout;
                budget.persist_until = budget.persist_until.max(own);
                budget
                    .run(async {
                        self.await_healthy_uncancelled(group, targets)
                            .await
                            .map_err(|r| r.message().to_string())
                    })
                    .await
            }
            Action::CreateRule(r) => budget.run(self.create_rule_now(r)).await,
            Action::DeleteRule(r) => budget.run(self.delete_rule_now(r)).await,
            Action::Unrecord => budget.run(self.unrecord()).await,
            // Never derived: the record, waits, bakes and a rule's rewrite
            // (the rule is deleted instead) have no inverse.
            Action::Record
            | Action::AwaitDrained { .. }
            | Action::Bake(_)
            | Action::WriteRule(_) => Ok(Ok(())),
        };
        match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Reason::Error(e)),
            Err(limit) => Err(Reason::Error(match action {
                Action::Unrecord => format!(
                    "the cleanup {limit}; the run record tags may remain on {}",
                    self.cfg.scope.owner_arn()
                ),
                _ => format!("the revert {limit}"),
            })),
        }
    }

    /// A revert route write: written until a read-back proves it. The one
    /// that puts the original back reports the revert as done.
    async fn undo_route(&mut self, w: &RouteWrite, budget: &Budget) -> Result<(), Reason> {
        let (lb, route) = (self.src.lb.clone(), self.route()?);
        let fut = restore(lb.as_ref(), &route, &w.to, self.cfg.apply);
        match budget.run(fut).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Reason::Error(format!("revert failed: {e}"))),
            Err(limit) => return Err(Reason::Error(format!("the revert {limit}"))),
        }
        self.route_now = w.to.clone();
        let last = match w.purpose {
            Purpose::RampBack { index, of } => index + 1 == of,
            _ => true,
        };
        if let (false, Purpose::RampBack { index, of }) = (last, &w.purpose) {
            self.out.progress(Progress::RampedBack {
                step: *index,
                steps: *of,
                forward: &w.to,
            });
            return Ok(());
        }
        let secs = self
            .detected
            .map(|d| d.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        self.report.detection_to_revert_seconds = Some(secs);
        self.out.progress(Progress::Reverted { seconds: secs });
        Ok(())
    }
}
