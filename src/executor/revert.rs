//! Undoing a run: restore the original route until a read-back proves it,
//! then deregister what the run added and remove its record.
//!
//! Two budgets. After a cancel, the CI runner kills the process about 10 s
//! after its signal, so the revert and cleanup must end `--revert-timeout`
//! after the signal arrived (not after the run noticed it). After a failed
//! check or an error nobody is about to kill the process, so the revert
//! keeps retrying with backoff for up to `REVERT_PERSIST`; a signal that
//! arrives meanwhile shrinks that to the cancel budget.

use super::{apply, Executor};
use crate::alb::{Forward, LoadBalancerPort, RouteAction, RouteRef};
use crate::engine::Reason;
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

    /// Restore the original route, within the budget.
    pub(super) async fn revert(&mut self) -> Result<(), Reason> {
        if !self.route_written {
            // Nothing to undo, and writing the original could overwrite a
            // change someone else made while the run waited.
            self.report.detection_to_revert_seconds = Some(0.0);
            return Ok(());
        }
        let (lb, route) = (self.src.lb.clone(), self.cfg.route.clone());
        let want = self.cfg.plan.original.clone();
        let fut = restore(lb.as_ref(), &route, &want, self.cfg.apply);
        match self.budget().run(fut).await {
            Ok(Ok(())) => {
                let secs = self
                    .detected
                    .map(|d| d.elapsed().as_secs_f64())
                    .unwrap_or(0.0);
                self.report.detection_to_revert_seconds = Some(secs);
                self.out.progress(Progress::Reverted { seconds: secs });
                Ok(())
            }
            Ok(Err(e)) => Err(Reason::Error(format!("revert failed: {e}"))),
            Err(limit) => Err(Reason::Error(format!("the revert {limit}"))),
        }
    }

    /// After a revert, deregister what the run added; always remove the
    /// run record. Both are retried; the outcome says what is left.
    pub(super) async fn cleanup(&mut self, reverted: bool) -> Result<(), Reason> {
        if !reverted {
            return self.cleanup_unbounded(false).await;
        }
        let budget = self.budget();
        match budget.run(self.cleanup_unbounded(true)).await {
            Ok(r) => r,
            Err(limit) => Err(Reason::Error(format!(
                "the cleanup {limit}; the run record tags may remain on {}",
                self.cfg.route.owner_arn()
            ))),
        }
    }
    async fn cleanup_unbounded(&mut self, reverted: bool) -> Result<(), Reason> {
        let lb = self.src.lb.clone();
        let p = self.cfg.apply;
        let mut problems = Vec::new();
        if reverted && !self.added.is_empty() {
            let (green, targets) = (self.cfg.plan.green.clone(), self.added.clone());
            if let Err(e) = apply::retry(p.write_attempts, p.backoff, || {
                lb.deregister_targets(&green, &targets)
            })
            .await
            {
                problems.push(format!(
                    "targets {} are still registered in green: {e}",
                    targets
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        let (owner, keys) = (
            self.cfg.route.owner_arn().to_string(),
            self.record_keys.clone(),
        );
        if let Err(e) = apply::retry(p.write_attempts, p.backoff, || {
            lb.remove_tags(&owner, &keys)
        })
        .await
        {
            problems.push(format!("the run record tags remain on {owner}: {e}"));
        }
        match (problems.is_empty(), reverted) {
            (true, _) => Ok(()),
            (false, true) => Err(Reason::Error(problems.join("; "))),
            (false, false) => {
                // A record not marked promoted would make `rollback` undo
                // this promotion: the user must know before reaching for it.
                let hint = match self.promoted_marked {
                    true => "the next run will need --force",
                    false => "the record does not say promoted, so `alb-rollout rollback` would restore the original route: remove the alb-rollout:* tags by hand instead",
                };
                self.warn(format!("promoted, but {}; {hint}", problems.join("; ")));
                Err(Reason::Error(problems.join("; ")))
            }
        }
    }
}
