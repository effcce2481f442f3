//! Rewriting the forward of a rule the run created (`Action::WriteRule`):
//! `ab` and `dark` create their rule with green at weight 0 when no
//! listener or rule forwarded to green yet (AWS health-checks only groups
//! in use), wait for green's health, then give the rule its real forward.
//! The same checks as a route write: cancel, the rule must be the run's
//! and read as created (drift), the health gate, the write and its read-back.

use super::targets::RuleAt;
use super::{apply, Executor, Fail};
use crate::alb::{RouteAction, RouteRef};
use crate::engine::{Purpose, Reason, RouteWrite, RuleWrite};

impl Executor<'_> {
    pub(super) async fn write_rule(&mut self, w: &RuleWrite) -> Result<(), Fail> {
        self.checkpoint()?;
        let r = &w.rule;
        let arn = match self.rule_at(r).await.map_err(Reason::Error)? {
            RuleAt::Ours(arn) => arn,
            RuleAt::None | RuleAt::Theirs(_) => {
                return Err(Fail::Before(Reason::Error(format!(
                    "the rule run {} created at priority {} on {} is gone; nothing was written",
                    self.cfg.run_id, r.priority, r.listener_arn
                ))))
            }
        };
        let route = RouteRef::new(&r.listener_arn, Some(&arn));
        let lb = self.src.lb.clone();
        let live = apply::retry(
            self.cfg.apply.write_attempts,
            self.cfg.apply.backoff,
            || lb.read_route(&route),
        )
        .await
        .map_err(|e| Reason::Error(e.to_string()))?;
        if !matches!(&live, RouteAction::Forward(f) if f.same_routing(&r.forward)) {
            return Err(Fail::Before(Reason::Error(format!(
                "rule {arn} no longer forwards as the run created it; someone changed it, nothing was written"
            ))));
        }
        let as_route = RouteWrite {
            from: r.forward.clone(),
            to: w.to.clone(),
            purpose: Purpose::Step {
                index: 0,
                of: 1,
                percent: crate::plan::Tenths::FULL,
            },
        };
        self.gate(&as_route).await?;
        self.checkpoint()?;
        apply::apply(lb.as_ref(), &route, &w.to, self.cfg.apply)
            .await
            .map_err(|e| Fail::After(Reason::Error(e)))?;
        self.rule_started();
        let now = crate::engine::RuleSpec {
            forward: w.to.clone(),
            ..r.clone()
        };
        self.rule_progress("rewritten", &now);
        Ok(())
    }
}
