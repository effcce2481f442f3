//! What still differs between a snapshot and the goal, in words: the
//! convergence's account of what it could not close (the revert's error,
//! `rollback --dry-run`'s list).

use super::{live, serving, Context, Goal, Snapshot};
use crate::alb::Target;

/// What still differs from the goal, the undo's batches included.
pub fn left(goal: &Goal, snap: &Snapshot, ctx: &Context) -> Vec<String> {
    let mut out = differences(goal, snap);
    out.extend(crate::engine::converge_undo::differences(goal, ctx));
    out
}

/// What still differs from the goal, in words (empty: at the goal).
pub fn differences(goal: &Goal, snap: &Snapshot) -> Vec<String> {
    let mut out = vec![];
    for r in &snap.rules {
        out.push(format!(
            "the run's rule at priority {} ({}) is still there",
            r.priority, r.arn
        ));
    }
    if let (Some(want), Some(now)) = (&goal.route, &snap.route) {
        if !now.as_forward().is_some_and(|f| f.same_routing(want)) {
            out.push(format!("the route is not back to {}", want.weights_text()));
        }
    }
    for g in &goal.groups {
        let h = live(snap, &g.group.arn);
        let missing = g
            .present
            .iter()
            .filter(|t| !h.iter().any(|x| serving(x) && x.target == **t));
        let missing: Vec<Target> = missing.cloned().collect();
        if !missing.is_empty() {
            out.push(format!(
                "{} misses {}",
                g.group.role,
                crate::alb::list_targets(&missing)
            ));
        }
        let extra: Vec<Target> = (h.iter().filter(|x| serving(x) && g.removes(&x.target)))
            .map(|x| x.target.clone())
            .collect();
        if !extra.is_empty() {
            out.push(format!(
                "{} still holds {}",
                g.group.role,
                crate::alb::list_targets(&extra)
            ));
        }
    }
    out
}
