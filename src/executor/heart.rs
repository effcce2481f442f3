//! The run's heartbeat on its own task: one AddTags of `alb-rollout:beat`
//! every interval (at least a second), each bounded by `BEAT_TIMEOUT`,
//! while the record is confirmed and nothing is cancelled. Never inside
//! the select that watches for a cancel: a throttled AddTags there held a
//! SIGTERM until it returned, past the revert's budget.

use super::Executor;
use crate::alb::state_tags::Heartbeat;
use crate::alb::LoadBalancerPort;
use crate::signal::Cancel;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long one beat may take; a beat that does not land in time is
/// dropped (the next may), never waited on.
pub const BEAT_TIMEOUT: Duration = Duration::from_secs(5);

/// The task and the switch that says whether it beats.
pub struct Heart {
    on: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Heart {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Beat {
    lb: Arc<dyn LoadBalancerPort>,
    owner: String,
    started_unix: u64,
    started: Instant,
    every: Duration,
    cancel: Cancel,
    on: Arc<AtomicBool>,
}

impl Beat {
    async fn run(self) {
        loop {
            tokio::time::sleep(self.every).await;
            if !self.on.load(Ordering::SeqCst) || self.cancel.is_cancelled() {
                continue;
            }
            let tag = Heartbeat {
                at: self.started_unix + self.started.elapsed().as_secs(),
                every: self.every.as_secs().max(1),
            }
            .tag();
            match tokio::time::timeout(BEAT_TIMEOUT, self.lb.add_tags(&self.owner, &tag)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "could not update the heartbeat tag"),
                Err(_) => tracing::warn!(
                    "the heartbeat tag took over {}s; dropped",
                    BEAT_TIMEOUT.as_secs()
                ),
            }
        }
    }
}

impl Executor<'_> {
    /// Start the task (it beats once the record is confirmed).
    pub(super) fn heart_start(&mut self) {
        let on = Arc::new(AtomicBool::new(false));
        let beat = Beat {
            lb: self.src.lb.clone(),
            owner: self.cfg.scope.owner_arn().to_string(),
            started_unix: self.cfg.started_unix,
            started: self.started,
            every: self.cfg.interval.max(Duration::from_secs(1)),
            cancel: self.cancel.clone(),
            on: on.clone(),
        };
        self.heart = Some(Heart {
            on,
            task: tokio::spawn(beat.run()),
        });
    }

    /// The record is confirmed: beat.
    pub(super) fn heart_on(&self) {
        if let Some(h) = &self.heart {
            h.on.store(true, Ordering::SeqCst);
        }
    }

    /// The record goes (or the run ends): no more beats.
    pub(super) fn heart_stop(&mut self) {
        self.heart = None;
    }
}
