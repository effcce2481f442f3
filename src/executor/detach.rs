//! The full deploy's last write with `--final-route green-only`: blue stayed
//! in the route at weight 0 while its batches left (so that a revert could
//! have AWS health-check the targets it registers again), and now leaves it.
//! Blue's last batch is gone, so the run stands: the record is marked
//! `promoted` first (a `kill -9` after that leaves a weight-0 entry, never a
//! revert of a finished deploy), and a write that fails is a warning, not a
//! revert: the entry gets no request.

use super::{apply, Executor};
use crate::engine::RouteWrite;
use crate::report::Progress;

impl Executor<'_> {
    pub(super) async fn detach(&mut self, w: &RouteWrite) {
        self.mark_promoted_if_draining().await;
        // A route someone changed meanwhile is theirs now: left as it is.
        if let Err(e) = self
            .ensure_unchanged(&w.from, "after blue's last batch")
            .await
        {
            return self.warn(format!(
                "promoted; blue's weight-0 entry left in place: {}",
                e.message()
            ));
        }
        let route = match self.route() {
            Ok(r) => r,
            Err(e) => return self.warn(e.message().to_string()),
        };
        let lb = self.src.lb.clone();
        match apply::apply(lb.as_ref(), &route, &w.to, self.cfg.apply).await {
            Ok(()) => {
                self.route_now = w.to.clone();
                self.out.progress(Progress::Attached {
                    forward: &w.to,
                    attach: false,
                });
            }
            Err(e) => self.warn(format!(
                "promoted, but blue's weight-0 entry could not be taken out of the {route}: {e}; it gets no request, remove it by hand if you like"
            )),
        }
    }
}
