//! A run over several routes (`--listener`/`--rule` given more than once,
//! every route forwarding to the same blue): the first route's plan, with
//! the same move of every other route (`Action::WriteOthers`) just after
//! each of the first route's step and detach writes, and just before its
//! promotion (whose read-back marks the run `promoted`: only once every
//! route reads it). A failure on any route of a step reverts them all. Each other
//! route keeps its own stickiness; the groups and weights are the first
//! route's. Attaching green at weight 0 (for its health checks) is done on
//! the first route only: one route forwarding to it is enough for AWS.
//!
//! Routes on several load balancers (`spread_over`): each load balancer
//! has its own blue and green (a target group serves one load balancer),
//! so every other route follows through its `GroupMap`; each other load
//! balancer's green is attached at weight 0 on one of its routes and
//! awaited healthy next to the first green.

use crate::alb::{Forward, RouteRef, Target};
use crate::engine::{Action, Group, OtherWrite, Plan, Purpose, Role, RouteWrite};

/// One other route's groups instead of the first route's: on another load
/// balancer its own blue for the first route's blue and its own green for
/// the first route's green (a target group serves one load balancer).
/// Empty on the first route's load balancer: the same groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupMap(pub Vec<(String, String)>);

impl GroupMap {
    /// The map of a route on another load balancer.
    pub fn of(blue: (&str, &str), green: (&str, &str)) -> GroupMap {
        GroupMap(vec![
            (blue.0.into(), blue.1.into()),
            (green.0.into(), green.1.into()),
        ])
    }

    /// This route's group for one of the first route's.
    pub fn group<'a>(&'a self, arn: &'a str) -> &'a str {
        (self.0.iter())
            .find(|(from, _)| from == arn)
            .map_or(arn, |(_, to)| to.as_str())
    }
}

/// What a route on another load balancer adds to the plan: its green
/// attached at weight 0 (on the first route of that load balancer, when
/// no listener of it forwards to green yet) and awaited healthy, both
/// before the first route's own health wait ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherLb {
    /// Index into the other routes of the route green is attached on.
    pub route: usize,
    pub blue: String,
    pub green: String,
    pub attach: bool,
}

/// `plan` with every other route moved along with the first.
pub fn spread(plan: Plan, others: &[(RouteRef, Forward)]) -> Plan {
    spread_over(plan, others, &[], &[])
}

/// `spread` over routes on several load balancers: `maps[i]` is other
/// route `i`'s groups (missing: the first route's), `lbs` each other load
/// balancer's green.
pub fn spread_over(
    mut plan: Plan,
    others: &[(RouteRef, Forward)],
    maps: &[GroupMap],
    lbs: &[OtherLb],
) -> Plan {
    if others.is_empty() {
        return plan;
    }
    let same = GroupMap::default();
    let map = |i: usize| maps.get(i).unwrap_or(&same);
    let mut now: Vec<Forward> = others.iter().map(|(_, f)| f.clone()).collect();
    let mut out = Vec::with_capacity(plan.actions.len() * 2);
    let mut awaited = false;
    for a in plan.actions.drain(..) {
        if let (false, Action::AwaitHealthy { group, targets }) = (awaited, &a) {
            if group.role == Role::Green && !lbs.is_empty() {
                awaited = true;
                let (writes, waits) = other_lbs(others, &mut now, lbs, targets);
                if !writes.is_empty() {
                    out.push(Action::WriteOthers(writes));
                }
                out.push(a);
                out.extend(waits);
                continue;
            }
        }
        let Some(w) = a.route_write().filter(|w| moves_others(w)).cloned() else {
            out.push(a);
            continue;
        };
        let writes: Vec<OtherWrite> = (others.iter().zip(now.iter_mut()).enumerate())
            .map(|(i, ((route, original), cur))| {
                let to = follow(&w, original, map(i));
                let from = std::mem::replace(cur, to.clone());
                OtherWrite {
                    route: route.clone(),
                    from,
                    to,
                }
            })
            .collect();
        match w.purpose {
            Purpose::Promote { .. } => out.extend([Action::WriteOthers(writes), a]),
            _ => out.extend([a, Action::WriteOthers(writes)]),
        }
    }
    plan.actions = out;
    plan
}

/// Each other load balancer's green attached (one write of its routes) and
/// awaited healthy: AWS health-checks only the groups a listener of their
/// own load balancer forwards to.
fn other_lbs(
    others: &[(RouteRef, Forward)],
    now: &mut [Forward],
    lbs: &[OtherLb],
    targets: &[Target],
) -> (Vec<OtherWrite>, Vec<Action>) {
    let mut writes = vec![];
    let mut waits = vec![];
    for lb in lbs {
        if let (true, Some((route, _))) = (lb.attach, others.get(lb.route)) {
            let from = now[lb.route].clone();
            let to = super::canary::attached(&from, &lb.blue, &lb.green);
            now[lb.route] = to.clone();
            writes.push(OtherWrite {
                route: route.clone(),
                from,
                to,
            });
        }
        waits.push(Action::AwaitHealthy {
            group: Group {
                arn: lb.green.clone(),
                role: Role::Green,
            },
            targets: targets.to_vec(),
        });
    }
    (writes, waits)
}

fn moves_others(w: &RouteWrite) -> bool {
    !matches!(w.purpose, Purpose::Attach)
}

/// The first route's weights on this route's groups, with this route's
/// stickiness.
pub fn follow(w: &RouteWrite, original: &Forward, map: &GroupMap) -> Forward {
    let mut groups = w.to.groups.clone();
    for g in &mut groups {
        g.target_group_arn = map.group(&g.target_group_arn).to_string();
    }
    Forward {
        groups,
        stickiness: original.stickiness,
        shape: w.to.shape,
    }
}

#[cfg(test)]
#[path = "multi_route_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "multi_lb_tests.rs"]
mod lb_tests;
