//! A run over several routes (`--listener`/`--rule` given more than once,
//! every route forwarding to the same blue): the first route's plan, with
//! the same move of every other route (`Action::WriteOthers`) just after
//! each of the first route's step and detach writes, and just before its
//! promotion (whose read-back marks the run `promoted`: only once every
//! route reads it). A failure on any route of a step reverts them all. Each other
//! route keeps its own stickiness; the groups and weights are the first
//! route's. Attaching green at weight 0 (for its health checks) is done on
//! the first route only: one route forwarding to it is enough for AWS.

use crate::alb::{Forward, RouteRef};
use crate::engine::{Action, OtherWrite, Plan, Purpose, RouteWrite};

/// `plan` with every other route moved along with the first.
pub fn spread(mut plan: Plan, others: &[(RouteRef, Forward)]) -> Plan {
    if others.is_empty() {
        return plan;
    }
    let mut now: Vec<Forward> = others.iter().map(|(_, f)| f.clone()).collect();
    let mut out = Vec::with_capacity(plan.actions.len() * 2);
    for a in plan.actions.drain(..) {
        let Some(w) = a.route_write().filter(|w| moves_others(w)).cloned() else {
            out.push(a);
            continue;
        };
        let writes: Vec<OtherWrite> = {
            let w = &w;
            let writes = (others.iter().zip(now.iter_mut()))
                .map(|((route, original), cur)| {
                    let to = follow(w, original);
                    let from = std::mem::replace(cur, to.clone());
                    OtherWrite {
                        route: route.clone(),
                        from,
                        to,
                    }
                })
                .collect();
            writes
        };
        match w.purpose {
            Purpose::Promote { .. } => out.extend([Action::WriteOthers(writes), a]),
            _ => out.extend([a, Action::WriteOthers(writes)]),
        }
    }
    plan.actions = out;
    plan
}

fn moves_others(w: &RouteWrite) -> bool {
    !matches!(w.purpose, Purpose::Attach)
}

/// The first route's groups and weights, with this route's stickiness.
fn follow(w: &RouteWrite, original: &Forward) -> Forward {
    Forward {
        groups: w.to.groups.clone(),
        stickiness: original.stickiness,
        shape: w.to.shape,
    }
}

#[cfg(test)]
#[path = "multi_route_tests.rs"]
mod tests;
