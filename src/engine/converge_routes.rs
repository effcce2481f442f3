//! The run's other routes in the convergence (a run given `--listener` or
//! `--rule` more than once): each goes back to its own original in one
//! write, once the first route is back (so a gradual abort ramps the first
//! route and the others follow it), with the same capacity rule as the
//! first route and before anything is deregistered.

use super::converge::{capacity, Context, Snapshot, Step};
use super::goal::Goal;
use crate::alb::RouteAction;

/// The next writes (or the wait before one) that put the other routes back.
pub(super) fn other_steps(goal: &Goal, snap: &Snapshot, ctx: &Context) -> Vec<Step> {
    let mut out: Vec<Step> = vec![];
    for o in &goal.others {
        let Some(action) = snap.others.get(o.route.owner_arn()) else {
            continue;
        };
        let now = action.as_forward();
        if now.is_some_and(|f| f.same_routing(&o.original)) {
            continue;
        }
        let mut blocked = false;
        for g in &o.original.groups {
            let arn = &g.target_group_arn;
            let rises = now.is_none_or(|f| o.original.percent_of(arn) > f.percent_of(arn));
            if !rises {
                continue;
            }
            if let Some(wait) = capacity(goal, snap, ctx, arn, now) {
                if let Some(w) = wait.filter(|w| !out.contains(w)) {
                    out.push(w);
                }
                blocked = true;
                break;
            }
        }
        if !blocked {
            out.push(Step::WriteOther {
                route: o.route.clone(),
                to: o.original.clone(),
            });
        }
    }
    out
}

/// The other routes that are not back yet, in words.
pub(super) fn other_differences(goal: &Goal, snap: &Snapshot) -> Vec<String> {
    let mut out = vec![];
    for o in &goal.others {
        let now = snap.others.get(o.route.owner_arn());
        if !now
            .and_then(RouteAction::as_forward)
            .is_some_and(|f| f.same_routing(&o.original))
        {
            out.push(format!(
                "the {} is not back to {}",
                o.route,
                o.original.weights_text()
            ));
        }
    }
    out
}
