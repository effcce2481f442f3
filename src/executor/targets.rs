//! Target and rule actions: register, deregister (never the last healthy
//! target of a group that serves traffic), wait until targets have
//! drained, create and delete the run's tagged rules. The same calls serve
//! a plan and a revert (`revert` wraps them in its budget).

use super::{apply, Executor, Fail};
use crate::alb::{HealthCounts, HealthState, NewRule, Target};
use crate::engine::{Group, Reason, RuleSpec};
use crate::report::Progress;
use std::collections::BTreeMap;
use tokio::time::Instant;

/// The tag on every rule a run creates: its run ID. A rule is deleted only
/// when it carries the deleting run's tag.
pub const RULE_TAG: &str = "alb-rollout:rule-of";

fn listed(targets: &[Target]) -> String {
    crate::alb::list_targets(targets)
}

/// What holds a rule's priority on its listener.
pub(super) enum RuleAt {
    None,
    Ours(String),
    Theirs(String),
}

fn same(a: &Target, b: &Target) -> bool {
    a.id == b.id && (a.port.is_none() || a.port == b.port)
}

impl Executor<'_> {
    pub(super) async fn register(&mut self, group: &Group, targets: &[Target]) -> Result<(), Fail> {
        self.checkpoint()?;
        self.register_now(group, targets)
            .await
            .map_err(|e| Fail::After(Reason::Error(e)))?;
        let label = self.group_label(group);
        self.out.progress(Progress::Registered {
            targets,
            group: &label,
        });
        Ok(())
    }

    /// How progress names a group: its role, or "the group" in a group run.
    fn group_label(&self, group: &Group) -> String {
        match self.cfg.scope.group() {
            Some(_) => "the group".into(),
            None => group.role.to_string(),
        }
    }

    pub(super) async fn register_now(
        &self,
        group: &Group,
        targets: &[Target],
    ) -> Result<(), String> {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        apply::retry(p.write_attempts, p.backoff, || {
            lb.register_targets(&group.arn, targets)
        })
        .await
        .map_err(|e| e.to_string())
    }

    pub(super) async fn deregister(
        &mut self,
        group: &Group,
        targets: &[Target],
    ) -> Result<(), Fail> {
        self.checkpoint()?;
        self.keeps_a_healthy_target(group, targets).await?;
        self.record_deregistered(&group.arn, targets).await?;
        self.checkpoint()?;
        self.deregister_now(group, targets)
            .await
            .map_err(|e| Fail::After(Reason::Error(e)))?;
        let label = self.group_label(group);
        self.out.progress(Progress::Deregistered {
            targets,
            group: &label,
        });
        Ok(())
    }

    pub(super) async fn deregister_now(
        &self,
        group: &Group,
        targets: &[Target],
    ) -> Result<(), String> {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        apply::retry(p.write_attempts, p.backoff, || {
            lb.deregister_targets(&group.arn, targets)
        })
        .await
        .map_err(|e| {
            format!(
                "targets {} are still registered in {}: {e}",
                listed(targets),
                group.role
            )
        })
    }

    /// The invariant: a group the route sends traffic to keeps a healthy
    /// target after `targets` leave. A group without weight is not read.
    pub(super) async fn keeps_a_healthy_target(
        &self,
        group: &Group,
        targets: &[Target],
    ) -> Result<(), Reason> {
        // A group run's group serves whatever routes reach it, and keeps
        // the floor `--max-unavailable` allows; a route's group keeps one.
        let floor = match self.cfg.scope.group() {
            Some(g) if g.arn == group.arn => g.floor.max(1),
            _ if self.route_now.weight_of(&group.arn).unwrap_or(0) == 0 => return Ok(()),
            _ => 1,
        };
        let lb = self.src.lb.clone();
        let health = lb
            .target_health(&group.arn)
            .await
            .map_err(|e| Reason::Error(e.to_string()))?;
        let left = health
            .iter()
            .filter(|h| h.state == HealthState::Healthy)
            .filter(|h| !targets.iter().any(|t| same(t, &h.target)))
            .count();
        match (left, floor) {
            (0, _) => Err(Reason::CheckFailed(format!(
                "health: deregistering {} would leave {} with no healthy target while it takes traffic ({})",
                listed(targets),
                group.role,
                HealthCounts::of(&health)
            ))),
            (n, f) if n < f => Err(Reason::CheckFailed(format!(
                "health: deregistering {} would leave {} with {n} healthy targets, under the {f} that --max-unavailable allows ({})",
                listed(targets),
                group.arn,
                HealthCounts::of(&health)
            ))),
            _ => Ok(()),
        }
    }

    /// Wait until none of `targets` is in the group any more (or only
    /// `unused`): their connections have drained.
    pub(super) async fn await_drained(
        &mut self,
        group: &Group,
        targets: &[Target],
    ) -> Result<(), Reason> {
        let start = Instant::now();
        loop {
            let health = self
                .unless_cancelled(self.src.lb.target_health(&group.arn))
                .await?;
            let draining = match &health {
                Ok(h) => h
                    .iter()
                    .filter(|h| h.state != HealthState::Unused)
                    .filter(|h| targets.iter().any(|t| same(t, &h.target)))
                    .count(),
                Err(_) => targets.len(),
            };
            if draining == 0 {
                return Ok(());
            }
            if start.elapsed() >= self.cfg.drain_timeout {
                return Err(Reason::Error(format!(
                    "{draining} target(s) of {} {} were still draining after {}s (--drain-timeout)",
                    group.role,
                    group.arn,
                    self.cfg.drain_timeout.as_secs()
                )));
            }
            let label = format!("waiting for {}'s targets to drain; next look", group.role);
            self.wait(self.cfg.health_poll, &label).await?;
        }
    }

    /// The rule's priority goes into the run record before CreateRule is
    /// sent, so `rollback` after a `kill -9` finds the rule; not recorded,
    /// not sent. The bake after it judges only what came after the rule.
    pub(super) async fn create_rule(&mut self, r: &RuleSpec) -> Result<(), Fail> {
        self.checkpoint()?;
        self.record_rule(r).await?;
        self.checkpoint()?;
        self.create_rule_now(r)
            .await
            .map_err(|e| Fail::After(Reason::Error(e)))?;
        // A rule created with green at weight 0 (to attach green) is not
        // yet the run's step: its rewrite is (`write_rule`).
        if r.forward.percent_of(&self.plan.green) > 0.0 {
            self.rule_started();
        }
        self.rule_progress("created", r);
        Ok(())
    }

    /// The rule is the run's one step: its intervals are reported under it
    /// (the segment all to green; the route's weights are untouched), and
    /// the bake after it judges only what came after.
    /// A run over several routes has one rule per route: one step, judged
    /// from its last rule on.
    pub(super) fn rule_started(&mut self) {
        self.shifted_at = std::time::SystemTime::now();
        if !self.report.steps.is_empty() {
            return;
        }
        let at = self.elapsed();
        self.report.record_step(crate::plan::Tenths::FULL, 0, 0, at);
    }

    pub(super) fn rule_progress(&mut self, verb: &'static str, r: &RuleSpec) {
        let matches = crate::strategy::rules_render::match_line(&r.conditions);
        self.out.progress(Progress::Rule {
            verb,
            priority: r.priority,
            matches: &matches,
            forward: &r.forward,
        });
    }

    pub(super) async fn create_rule_now(&self, r: &RuleSpec) -> Result<(), String> {
        let tags = BTreeMap::from([(RULE_TAG.to_string(), self.cfg.run_id.clone())]);
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let rule = NewRule {
            listener_arn: &r.listener_arn,
            priority: r.priority,
            conditions: &r.conditions,
            carry_from: r.carry.from.as_ref(),
            forward: &r.forward,
        };
        apply::retry(p.write_attempts, p.backoff, || lb.create_rule(&rule, &tags))
            .await
            .map_err(|e| e.to_string())?;
        self.read_back_rule(r).await
    }

    /// The created rule read back: at its priority, with the login steps of
    /// the route it splits in their order and its forward. A rule without
    /// them would let its requests reach green without logging in.
    async fn read_back_rule(&self, r: &RuleSpec) -> Result<(), String> {
        let rules = self
            .src
            .lb
            .rules(&r.listener_arn)
            .await
            .map_err(|e| format!("the created rule could not be read back: {e}"))?;
        let at = r.priority.to_string();
        let Some(live) = rules.iter().find(|x| x.priority == at) else {
            return Err(format!(
                "the rule created at priority {} is not on listener {}",
                r.priority, r.listener_arn
            ));
        };
        let types = |l: &[crate::alb::LeadingAction]| -> Vec<String> {
            l.iter().map(|a| a.action_type.clone()).collect()
        };
        if types(&live.leading) != types(&r.carry.leading) {
            return Err(format!(
                "rule {} reads back with leading actions [{}] where [{}] was sent; delete it (`alb-rollout routes remove`)",
                live.arn,
                crate::alb::leading_text(&live.leading),
                crate::alb::leading_text(&r.carry.leading)
            ));
        }
        match live.action.as_forward() {
            Some(f) if f.same_routing(&r.forward) => Ok(()),
            _ => Err(format!(
                "rule {} reads back with a {} action, not the forward that was sent",
                live.arn,
                live.action.type_name()
            )),
        }
    }

    /// Deleting a rule the run does not own is refused before anything is
    /// sent, so it has nothing to undo.
    pub(super) async fn delete_rule(&mut self, r: &RuleSpec) -> Result<(), Fail> {
        self.checkpoint()?;
        let arn = match self.rule_at(r).await.map_err(Reason::Error)? {
            RuleAt::None => return Ok(()),
            RuleAt::Ours(arn) => arn,
            RuleAt::Theirs(arn) => {
                return Err(Fail::Before(Reason::Error(format!(
                    "the rule at priority {} ({arn}) was not created by run {}; it is left alone",
                    r.priority, self.cfg.run_id
                ))))
            }
        };
        self.checkpoint()?;
        self.delete_rule_arn(&arn)
            .await
            .map_err(|e| Fail::After(Reason::Error(e)))?;
        self.rule_progress("deleted", r);
        Ok(())
    }

    /// The rule at the spec's priority, and whether this run created it.
    pub(super) async fn rule_at(&self, r: &RuleSpec) -> Result<RuleAt, String> {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let rules = apply::retry(p.write_attempts, p.backoff, || lb.rules(&r.listener_arn))
            .await
            .map_err(|e| e.to_string())?;
        let Some(rule) = rules.iter().find(|x| x.priority == r.priority.to_string()) else {
            return Ok(RuleAt::None);
        };
        let tags = apply::retry(p.write_attempts, p.backoff, || lb.tags(&rule.arn))
            .await
            .map_err(|e| e.to_string())?;
        Ok(match tags.get(RULE_TAG) == Some(&self.cfg.run_id) {
            true => RuleAt::Ours(rule.arn.clone()),
            false => RuleAt::Theirs(rule.arn.clone()),
        })
    }

    async fn delete_rule_arn(&self, arn: &str) -> Result<(), String> {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        apply::retry(p.write_attempts, p.backoff, || lb.delete_rule(arn))
            .await
            .map_err(|e| e.to_string())
    }
}
