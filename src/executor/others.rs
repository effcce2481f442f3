//! The writes of a multi-route run's other routes (`Action::WriteOthers`):
//! each route is checked for drift, written and read back in turn. A
//! failure on any of them after the first send fails the action after its
//! send, so the engine's revert converges every route (the first one's
//! goal and each other's, `engine::goal::Goal::with_others`) back: no
//! step is left half-applied. A route on another load balancer has its
//! own groups: those are health-gated here before its write.

use super::{apply, Executor, Fail};
use crate::alb::state_tags::{self, RunRecord};
use crate::alb::RouteAction;
use crate::engine::{OtherWrite, Reason};

impl Executor<'_> {
    pub(super) async fn write_others(&mut self, ws: &[OtherWrite]) -> Result<(), Fail> {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        let mut sent = false;
        let fail = |sent: bool, r: Reason| match sent {
            true => Fail::After(r),
            false => Fail::Before(r),
        };
        for w in ws {
            self.checkpoint().map_err(|r| fail(sent, r))?;
            let now = apply::retry(p.write_attempts, p.backoff, || lb.read_route(&w.route))
                .await
                .map_err(|e| {
                    let why = format!("could not read the {} before writing it: {e}", w.route);
                    fail(sent, Reason::Error(why))
                })?;
            if !matches!(&now, RouteAction::Forward(f) if f.same_routing(&w.from)) {
                let why = format!(
                    "the {} changed while the run was going (drift): it no longer reads {}",
                    w.route,
                    w.from.weights_text()
                );
                return Err(fail(sent, Reason::Error(why)));
            }
            self.gate_other(w).await.map_err(|r| fail(sent, r))?;
            sent = true;
            apply::apply(lb.as_ref(), &w.route, &w.to, p)
                .await
                .map_err(|e| Fail::After(Reason::Error(e)))?;
        }
        Ok(())
    }
}

impl Executor<'_> {
    /// The health gate for a route on another load balancer: its own
    /// groups were not gated by the first route's write (the first
    /// route's groups were), so each whose share rises must have a
    /// healthy target.
    async fn gate_other(&self, w: &OtherWrite) -> Result<(), Reason> {
        let (blue, green) = (&self.plan.blue, &self.plan.green);
        for g in &w.to.groups {
            let arn = &g.target_group_arn;
            if arn == blue || arn == green || w.to.percent_of(arn) <= w.from.percent_of(arn) {
                continue;
            }
            let health = self
                .unless_cancelled(self.src.lb.target_health(arn))
                .await?
                .map_err(|e| Reason::Error(e.to_string()))?;
            let counts = crate::alb::HealthCounts::of(&health);
            if counts.healthy == 0 {
                return Err(Reason::CheckFailed(format!(
                    "health: {arn} (on the {}) has no healthy target ({counts}); not shifting traffic to it",
                    w.route
                )));
            }
        }
        Ok(())
    }
}

impl Executor<'_> {
    /// After the first route's record: a record of the same run on each
    /// other route (its own original; `routes` names the first route
    /// first, then the rest), each read back, all before the first write.
    pub(super) async fn record_others(&mut self, first: &RunRecord) -> Result<(), Reason> {
        let others = self.plan.others();
        let Some(me) = self.cfg.scope.route().cloned() else {
            return Ok(());
        };
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        for (route, original) in &others {
            let rest = others.iter().map(|(r, _)| r).filter(|r| *r != route);
            let record = RunRecord {
                step: state_tags::FOLLOWS_STEP.into(),
                green_arn: self.plan.green_of(route),
                original: original.clone(),
                registered: vec![],
                deregistered: None,
                rules: vec![],
                routes: std::iter::once(me.clone()).chain(rest.cloned()).collect(),
                ..first.clone()
            };
            let tags = state_tags::encode(&record);
            let owner = route.owner_arn();
            let failed = |e: String| {
                Reason::Error(format!(
                    "could not record the run on the {route}: {e}; nothing was changed"
                ))
            };
            let before = apply::retry(p.write_attempts, p.backoff, || lb.tags(owner))
                .await
                .map_err(|e| failed(e.to_string()))?;
            // Preflight refused another run's record unless --force: then
            // it is replaced whole, as on the first route.
            let stale = state_tags::stale_keys(&before, &tags);
            self.other_records.push((route.clone(), record.clone()));
            apply::retry(p.write_attempts, p.backoff, || lb.add_tags(owner, &tags))
                .await
                .map_err(|e| failed(e.to_string()))?;
            if !stale.is_empty() {
                apply::retry(p.write_attempts, p.backoff, || {
                    lb.remove_tags(owner, &stale)
                })
                .await
                .map_err(|e| failed(e.to_string()))?;
            }
            let back = apply::retry(p.write_attempts, p.backoff, || lb.tags(owner))
                .await
                .map_err(|e| failed(e.to_string()))?;
            if state_tags::decode(&back) != Ok(Some(record)) {
                return Err(failed("it does not read back as written".into()));
            }
        }
        Ok(())
    }

    /// Remove the other routes' records (what is left is named).
    pub(super) async fn unrecord_others(&self) -> Result<(), String> {
        let (lb, p) = (self.src.lb.clone(), self.cfg.apply);
        for (route, record) in &self.other_records {
            let keys: Vec<String> = state_tags::encode(record).into_keys().collect();
            apply::retry(p.write_attempts, p.backoff, || {
                lb.remove_tags(route.owner_arn(), &keys)
            })
            .await
            .map_err(|e| format!("the run record tags remain on the {route}: {e}"))?;
        }
        Ok(())
    }
}
