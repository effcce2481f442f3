//! The writes of a multi-route run's other routes (`Action::WriteOthers`):
//! each route is checked for drift, written and read back in turn. A
//! failure on any of them after the first send fails the action after its
//! send, so the engine's revert converges every route (the first one's
//! goal and each other's, `engine::goal::Goal::with_others`) back: no
//! step is left half-applied.

use super::{apply, Executor, Fail};
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
            sent = true;
            apply::apply(lb.as_ref(), &w.route, &w.to, p)
                .await
                .map_err(|e| Fail::After(Reason::Error(e)))?;
        }
        Ok(())
    }
}
