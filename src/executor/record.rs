//! The run record: which targets the run will add (read before it is
//! written), the record in tags (written whole, then read back to settle
//! races between runs), its heartbeat, and its removal.

use super::{apply, Executor};
use crate::alb::group_record::{self, GroupRecord};
use crate::alb::state_tags::{self, Heartbeat, RunRecord};
use crate::alb::{AlbError, Target};
use crate::engine::GroupScope;
use crate::engine::{Reason, RuleSpec};
use std::collections::BTreeMap;
use std::time::Duration;

/// Pause between writing the run record and reading it back.
const RECORD_SETTLE: Duration = Duration::from_secs(1);

impl Executor<'_> {
    pub(super) async fn record(&mut self) -> Result<(), Reason> {
        self.checkpoint()?;
        if let Some(g) = self.cfg.scope.group().cloned() {
            return self.record_group(&g).await;
        }
        let record = RunRecord {
            run_id: self.cfg.run_id.clone(),
            strategy: self.plan.strategy.into(),
            started: self.cfg.started_unix,
            generation: 0,
            step: "starting".into(),
            green_arn: self.plan.green.clone(),
            original: self.plan.original.clone(),
            registered: self.plan.registered(),
            deregistered: None,
            rules: vec![],
            routes: self.plan.others().into_iter().map(|(r, _)| r).collect(),
        };
        let mut tags = state_tags::encode(&record);
        tags.extend(self.heartbeat().tag());
        self.write_record(&tags).await?;
        // Read back after a settle delay: ELBv2 has no conditional write, so
        // two runs that passed preflight together both see the last writer
        // here, and only that one proceeds.
        tokio::time::sleep(RECORD_SETTLE).await;
        let want = record.clone();
        self.confirm_record(&tags, |t| {
            state_tags::decode(t).map(|r| r.map(|r| (r == want, r.run_id)))
        })
        .await?;
        self.run_record = Some(record.clone());
        if let Err(e) = self.record_others(&record).await {
            let _ = self.unrecord().await;
            return Err(e);
        }
        Ok(())
    }

    /// A group run's record: the group's original targets, on the group.
    async fn record_group(&mut self, g: &GroupScope) -> Result<(), Reason> {
        let record = GroupRecord {
            run_id: self.cfg.run_id.clone(),
            strategy: self.plan.strategy.into(),
            started: self.cfg.started_unix,
            step: "starting".into(),
            batch: g.batch,
            max_unavailable: g.max_unavailable,
            original: g.original.clone(),
            in_place: self.in_place_record(0),
        };
        let mut tags = group_record::encode(&record);
        tags.extend(self.heartbeat().tag());
        self.write_record(&tags).await?;
        tokio::time::sleep(RECORD_SETTLE).await;
        // The codec keeps a set, in its own order: compare sorted.
        let mut want = record;
        want.original.sort();
        self.confirm_record(&tags, |t| {
            group_record::decode(t).map(|r| {
                r.map(|mut r| {
                    r.original.sort();
                    (r == want, r.run_id)
                })
            })
        })
        .await
    }

    /// The heartbeat as of now. Derived from the run's start and the
    /// monotonic clock, so wall-clock jumps do not fake a dead run.
    fn heartbeat(&self) -> Heartbeat {
        Heartbeat {
            at: self.cfg.started_unix + self.started.elapsed().as_secs(),
            every: self.cfg.interval.as_secs().max(1),
        }
    }

    /// Before the record: drop from the plan's registrations the targets
    /// their group already has (draining ones count as gone). Only the
    /// rest is recorded, registered, and removed again by a revert or
    /// `rollback`, which must not take away a target the run never added.
    /// A group run needs none: its preflight refused new targets the group
    /// already has, and its record keeps the whole original set.
    pub(super) async fn prepare(&mut self) -> Result<(), Reason> {
        if self.cfg.scope.group().is_some() {
            return Ok(());
        }
        let mut groups: Vec<String> = self
            .plan
            .registers()
            .into_iter()
            .map(|(g, _)| g.arn.clone())
            .collect();
        groups.dedup();
        for group in groups {
            self.checkpoint()?;
            let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
            let role = self.plan.role_of(&group);
            let health = apply::retry(p.write_attempts, p.backoff, || lb.target_health(&group))
                .await
                .map_err(|e| {
                    Reason::Error(format!(
                        "could not read {role}'s targets before registering: {e}; nothing was changed"
                    ))
                })?;
            self.plan = self.plan.clone().without_present(&group, &health);
        }
        Ok(())
    }

    /// Write the record's tags, replacing a leftover record (`--force`)
    /// whole rather than merging into it.
    async fn write_record(&self, tags: &BTreeMap<String, String>) -> Result<(), Reason> {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let owner = self.cfg.scope.owner_arn();
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
    /// `read` decodes the tags read back: whether they are the record
    /// written, and whose run they record.
    async fn confirm_record(
        &mut self,
        tags: &BTreeMap<String, String>,
        read: impl Fn(&BTreeMap<String, String>) -> Result<Option<(bool, String)>, String>,
    ) -> Result<(), Reason> {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let owner = self.cfg.scope.owner_arn().to_string();
        let back = apply::retry(p.write_attempts, p.backoff, || lb.tags(&owner)).await;
        let why = match back.map(|t| read(&t)) {
            Ok(Ok(Some((true, _)))) => {
                self.record_keys = tags.keys().cloned().collect();
                self.heart_on();
                return Ok(());
            }
            Ok(Ok(Some((false, other)))) if other != self.cfg.run_id => {
                return Err(Reason::Error(format!("another run ({other}) recorded itself on {owner} at the same time; this run changed nothing and stops")))
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

    /// Remove the run record at the end of a run that went through: a
    /// failure leaves the run's result standing, with a warning.
    pub(super) async fn unrecord_promoted(&mut self) -> Result<(), Reason> {
        self.mark_promoted_if_draining().await;
        self.heart_stop();
        let Err(problem) = self.unrecord().await else {
            return Ok(());
        };
        // A record not marked promoted would make `rollback` undo this
        // promotion: the user must know before reaching for it.
        let hint = match self.promoted_marked {
            true => "the next run will need --force",
            false => "the record does not say promoted, so `alb-rollout rollback` would restore the original route: remove the alb-rollout:* tags by hand instead",
        };
        self.warn(format!("promoted, but {problem}; {hint}"));
        Err(Reason::Error(problem))
    }

    /// Before a deregistration: add `targets` to the record's
    /// `alb-rollout:deregistered`, so `rollback` after a `kill -9` between
    /// this and the call registers them again (a no-op for a target that
    /// never left). Not recorded, not sent: the run reverts instead.
    pub(super) async fn record_deregistered(
        &mut self,
        group: &str,
        targets: &[Target],
    ) -> Result<(), Reason> {
        // A group run's record holds the group's original targets already.
        if self.record_keys.is_empty() || self.cfg.scope.group().is_some() {
            return Ok(());
        }
        // One group's list: the record names one group (blue), the only
        // one a plan deregisters from today; a second is refused unsent.
        if !self.deregistered.is_empty() && group != self.plan.blue {
            return Err(Reason::Error(format!(
                "the run record holds deregistered targets of one group only ({}); {group} was not changed",
                self.plan.blue
            )));
        }
        let mut all = self.deregistered.clone();
        for t in targets {
            if !all.contains(t) {
                all.push(t.clone());
            }
        }
        let Some(mut rec) = self.run_record.clone() else {
            return Ok(());
        };
        rec.generation += 1;
        let d = state_tags::Deregistered {
            group: group.to_string(),
            targets: all.clone(),
        };
        let tags = state_tags::deregistered_tags(&rec, &d);
        rec.deregistered = Some(d);
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let owner = self.cfg.scope.owner_arn();
        apply::retry(p.write_attempts, p.backoff, || lb.add_tags(owner, &tags))
            .await
            .map_err(|e| {
                Reason::Error(format!(
                    "could not record the targets about to leave blue on {owner}: {e}; they were not deregistered"
                ))
            })?;
        // A shorter coding leaves chunks of the longer one behind, which
        // would fail the record's checksum: they go before the call.
        let stale = state_tags::stale_chunks(&self.record_keys, &tags);
        if !stale.is_empty() {
            apply::retry(p.write_attempts, p.backoff, || lb.remove_tags(owner, &stale))
                .await
                .map_err(|e| {
                    Reason::Error(format!(
                        "could not update the record of the targets about to leave blue on {owner}: {e}; they were not deregistered"
                    ))
                })?;
            self.record_keys.retain(|k| !stale.contains(k));
        }
        for k in tags.into_keys() {
            if !self.record_keys.contains(&k) {
                self.record_keys.push(k);
            }
        }
        self.deregistered = all;
        self.run_record = Some(rec);
        Ok(())
    }

    /// Remove the record's keys (retried), the other routes' first; the
    /// error says what is left.
    pub(super) async fn unrecord(&self) -> Result<(), String> {
        self.unrecord_others().await?;
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let (owner, keys) = (self.cfg.scope.owner_arn(), &self.record_keys);
        apply::retry(p.write_attempts, p.backoff, || lb.remove_tags(owner, keys))
            .await
            .map_err(|e| format!("the run record tags remain on {owner}: {e}"))
    }

    /// Before a CreateRule: add its priority to the record's
    /// `alb-rollout:rules`, so `rollback` after a `kill -9` between this and
    /// the call deletes the rule (only if it carries the run's tag: a
    /// CreateRule that never landed leaves nothing of the run's there). A
    /// rule that splits another route of the run goes into that route's
    /// record (its priority is its listener's).
    pub(super) async fn record_rule(&mut self, r: &RuleSpec) -> Result<(), Reason> {
        if self.record_keys.is_empty() {
            return Ok(());
        }
        let priority = r.priority;
        let other =
            (self.other_records.iter()).position(|(route, _)| r.carry.from.as_ref() == Some(route));
        if let Some(i) = other {
            return self.record_other_rule(i, priority).await;
        }
        if !self.rules.contains(&priority) {
            self.rules.push(priority);
        }
        let tags = state_tags::rules_tags(&self.rules);
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let owner = self.cfg.scope.owner_arn();
        if let Err(e) =
            apply::retry(p.write_attempts, p.backoff, || lb.add_tags(owner, &tags)).await
        {
            self.rules.retain(|&r| r != priority);
            return Err(Reason::Error(format!(
                "could not record the rule about to be created (priority {priority}) on {owner}: {e}; it was not created"
            )));
        }
        for k in tags.into_keys() {
            if !self.record_keys.contains(&k) {
                self.record_keys.push(k);
            }
        }
        Ok(())
    }

    /// `record_rule` on another route's record (the `i`th).
    async fn record_other_rule(&mut self, i: usize, priority: u32) -> Result<(), Reason> {
        let (route, record) = &mut self.other_records[i];
        if !record.rules.contains(&priority) {
            record.rules.push(priority);
        }
        let tags = state_tags::rules_tags(&record.rules);
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let owner = route.owner_arn().to_string();
        if let Err(e) =
            apply::retry(p.write_attempts, p.backoff, || lb.add_tags(&owner, &tags)).await
        {
            record.rules.retain(|&r| r != priority);
            return Err(Reason::Error(format!(
                "could not record the rule about to be created (priority {priority}) on {owner}: {e}; it was not created"
            )));
        }
        Ok(())
    }
}
