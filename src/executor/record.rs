//! The run's first mutations: its record in tags (written whole, then read
//! back to settle races between runs), its heartbeat, and the `--register`
//! targets.

use super::{apply, Executor};
use crate::alb::state_tags::{self, Heartbeat, RunRecord};
use crate::alb::{AlbError, HealthState, Target};
use crate::engine::Reason;
use crate::report::Progress;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// Pause between writing the run record and reading it back.
const RECORD_SETTLE: Duration = Duration::from_secs(1);

impl Executor<'_> {
    pub(super) async fn record(&mut self) -> Result<(), Reason> {
        self.checkpoint()?;
        self.added = self.targets_to_add().await?;
        let record = RunRecord {
            run_id: self.cfg.run_id.clone(),
            strategy: "canary".into(),
            started: self.cfg.started_unix,
            step: "starting".into(),
            green_arn: self.cfg.plan.green.clone(),
            original: self.cfg.plan.original.clone(),
            registered: self.added.clone(),
        };
        let mut tags = state_tags::encode(&record);
        tags.extend(self.heartbeat().tag());
        self.write_record(&tags).await?;
        // Read back after a settle delay: ELBv2 has no conditional write, so
        // two runs that passed preflight together both see the last writer
        // here, and only that one proceeds.
        tokio::time::sleep(RECORD_SETTLE).await;
        self.confirm_record(&record, &tags).await
    }

    /// The heartbeat as of now. Derived from the run's start and the
    /// monotonic clock, so wall-clock jumps do not fake a dead run.
    fn heartbeat(&self) -> Heartbeat {
        Heartbeat {
            at: self.cfg.started_unix + self.started.elapsed().as_secs(),
            every: self.cfg.interval.as_secs().max(1),
        }
    }

    /// Show `rollback` the run is alive: one AddTags, at most once per
    /// interval, only while the record is confirmed and nothing is
    /// cancelled. A failed beat is only logged: the next one may land.
    pub(super) async fn beat(&self) {
        // Set first, also when skipping: the caller sleeps until the next.
        *self.last_beat.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        if self.record_keys.is_empty() || self.cancel.is_cancelled() {
            return;
        }
        let tag = self.heartbeat().tag();
        if let Err(e) = self.src.lb.add_tags(self.cfg.route.owner_arn(), &tag).await {
            tracing::warn!(error = %e, "could not update the heartbeat tag");
        }
    }

    /// When the next beat is due (never sooner than a second: a zero
    /// interval must not turn the beat into a busy loop).
    pub(super) fn next_beat(&self) -> Instant {
        let every = self.cfg.interval.max(Duration::from_secs(1));
        *self.last_beat.lock().unwrap_or_else(|e| e.into_inner()) + every
    }

    /// The `--register` targets green does not already have (draining ones
    /// count as gone): only those are recorded, registered, and removed
    /// again by a revert or `rollback`, which must not take away a target
    /// the run never added.
    async fn targets_to_add(&self) -> Result<Vec<Target>, Reason> {
        if self.cfg.register.is_empty() {
            return Ok(vec![]);
        }
        let (lb, p, green) = (self.src.lb.clone(), self.cfg.apply, &self.cfg.plan.green);
        let health = apply::retry(p.write_attempts, p.backoff, || lb.target_health(green))
            .await
            .map_err(|e| {
                Reason::Error(format!(
                    "could not read green's targets before registering: {e}; nothing was changed"
                ))
            })?;
        let has = |t: &Target| {
            health.iter().any(|h| {
                h.target.id == t.id
                    && (t.port.is_none() || h.target.port == t.port)
                    && !matches!(
                        h.state,
                        HealthState::Draining | HealthState::UnhealthyDraining
                    )
            })
        };
        Ok(self
            .cfg
            .register
            .iter()
            .filter(|t| !has(t))
            .cloned()
            .collect())
    }

    /// Write the record's tags, replacing a leftover record (`--force`)
    /// whole rather than merging into it.
    async fn write_record(&self, tags: &BTreeMap<String, String>) -> Result<(), Reason> {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let owner = self.cfg.route.owner_arn();
        let not_recorded = |e: AlbError| {
            Reason::Error(format!(
                "could not record the run on {owner}: {e}; nothing was changed"
            ))
        };
        let before = apply::retry(p.write_attempts, p.backoff, || lb.tags(owner))
            .await
            .map_err(not_recorded)?;
        let stale = state_tags::stale_keys(&before, tags);
        apply::retry(p.write_attempts, p.backoff, || lb.add_tags(owner, tags))
            .await
            .map_err(not_recorded)?;
        if !stale.is_empty() {
            // If this fails, the read-back sees the mix and the run stops.
            let _ = apply::retry(p.write_attempts, p.backoff, || {
                lb.remove_tags(owner, &stale)
            })
            .await;
        }
        Ok(())
    }

    /// Only a run whose record reads back exactly as written goes on.
    async fn confirm_record(
        &mut self,
        record: &RunRecord,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), Reason> {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let owner = self.cfg.route.owner_arn().to_string();
        let back = apply::retry(p.write_attempts, p.backoff, || lb.tags(&owner)).await;
        let why = match back.map(|t| state_tags::decode(&t)) {
            Ok(Ok(Some(r))) if r == *record => {
                self.record_keys = tags.keys().cloned().collect();
                return Ok(());
            }
            Ok(Ok(Some(other))) if other.run_id != record.run_id => {
                return Err(Reason::Error(format!("another run ({}) recorded itself on {owner} at the same time; this run changed nothing and stops", other.run_id)))
            }
            Ok(Ok(Some(_))) => "it reads back different from what was written".to_string(),
            Ok(Ok(None)) => "it is gone".to_string(),
            Ok(Err(damaged)) => damaged,
            Err(e) => e.to_string(),
        };
        // Best effort: a run that cannot confirm its record will not start,
        // so it should not leave the record behind either.
        let keys: Vec<String> = tags.keys().cloned().collect();
        let _ = lb.remove_tags(&owner, &keys).await;
        Err(Reason::Error(format!(
            "the run record on {owner} could not be read back ({why}); nothing was changed"
        )))
    }

    pub(super) async fn register(&mut self) -> Result<(), Reason> {
        self.checkpoint()?;
        if self.added.is_empty() {
            return Ok(());
        }
        let lb = self.src.lb.clone();
        let (green, targets) = (self.cfg.plan.green.clone(), self.added.clone());
        apply::retry(
            self.cfg.apply.write_attempts,
            self.cfg.apply.backoff,
            || lb.register_targets(&green, &targets),
        )
        .await
        .map_err(|e| Reason::Error(e.to_string()))?;
        self.out.progress(Progress::Registered {
            targets: &self.added,
        });
        Ok(())
    }
}
