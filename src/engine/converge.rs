//! The revert as a convergence: from the goal (`goal`) and a live
//! snapshot, the next actions that close the difference. Pure; the
//! executor applies the first one, reads the state again and asks again,
//! until nothing is left (then the state is the goal, and asking once more
//! gives nothing: running it twice is a no-op). `docs/reliability.md`
//! gives the order and why:
//!
//! 1. Rules tagged by the run go (they send requests to green; no health
//!    is needed to take them away).
//! 2. Targets the goal adds are registered (add before remove).
//! 3. The route goes back once each group that gains traffic has enough
//!    healthy targets to serve: `floor` of its size before the run. A
//!    group no listener uses reads `unused` (AWS health-checks only groups
//!    a route forwards to), so it is first attached at weight 0. The wait
//!    for the floor has its own deadline; once it ran out the route goes
//!    back with whatever is healthy (capacity never blocks moving traffic
//!    back), but never to a group with no healthy target. After a cancel
//!    the route is the first thing written, with one healthy target enough.
//! 4. After a settle time (ALB nodes take seconds to see a route change),
//!    targets the goal removes are deregistered, never the last healthy
//!    one of a group that still takes traffic.
//!
//! `--abort gradual` only changes step 3: the route steps back through
//! the run's own stages (newest first) instead of one write.

use super::action::Group;
use super::goal::{Goal, GroupGoal};
use crate::alb::{
    Forward, ForwardShape, HealthState, RouteAction, Target, TargetHealth, WeightedGroup,
};
use std::collections::BTreeMap;

#[path = "converge_diff.rs"]
mod diff;
pub use diff::{differences, left};

/// What the convergence reads before each decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The route now (`None` when the goal leaves it alone).
    pub route: Option<RouteAction>,
    /// Each read group's targets with their health.
    pub health: BTreeMap<String, Vec<TargetHealth>>,
    /// Rules at the recorded priorities that carry the run's tag.
    pub rules: Vec<RuleSeen>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSeen {
    pub arn: String,
    pub priority: u32,
}

/// What the executor knows beyond the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// A cancel arrived: the route first, one healthy target is enough.
    pub cancelled: bool,
    /// After a cancel, what is left of the budget holds the rest of a
    /// gradual abort (else its rest is one write).
    pub ramp_ok: bool,
    /// `--abort gradual`: the run's route stages, the original first.
    pub stages: Vec<Forward>,
    /// This convergence moved traffic (a route write, a rule deleted):
    /// targets that read `unused` now may still get requests for a while.
    pub moved: bool,
    /// The settle time since traffic last moved has passed.
    pub settled: bool,
    /// Groups whose wait for the floor ran out.
    pub waited: Vec<String>,
    /// In-place undo: batches (indexes into `Goal::undo`) whose `--undo`
    /// ran, and those whose wait for health afterwards ran out.
    pub undone: Vec<usize>,
    pub unhealthy: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    DeleteRule(RuleSeen),
    Register {
        group: Group,
        targets: Vec<Target>,
    },
    /// Write the route with `group` added at weight 0, so AWS health-checks it.
    Attach {
        group: String,
        to: Forward,
    },
    /// Wait until `group` has `floor` healthy targets (of `of`).
    AwaitFloor {
        group: Group,
        floor: usize,
        of: usize,
    },
    /// `restore`: this write puts the goal route back.
    WriteRoute {
        to: Forward,
        restore: bool,
    },
    Settle,
    Deregister {
        group: Group,
        targets: Vec<Target>,
    },
    /// In-place undo (`converge_undo`): wait until these have left.
    AwaitDrained {
        group: Group,
        targets: Vec<Target>,
    },
    /// Run `--undo` on batch `batch` of `Goal::undo` (out of the group).
    Undo {
        batch: usize,
        targets: Vec<Target>,
    },
    /// Wait until an undone batch is healthy again, before the next.
    AwaitHealthy {
        group: Group,
        targets: Vec<Target>,
        batch: usize,
    },
}

/// How many healthy targets a group needs before traffic moves back to
/// it: half its size before the run, rounded up, at least 1. Enough for a
/// fleet with the usual headroom to carry the traffic it carried before
/// while the rest come up; not "every target", so one broken instance of
/// thirty does not keep traffic on a failing green.
pub fn floor(size: usize) -> usize {
    size.div_ceil(2).max(1)
}

fn serving(h: &TargetHealth) -> bool {
    !matches!(
        h.state,
        HealthState::Draining | HealthState::UnhealthyDraining
    )
}

fn live<'a>(snap: &'a Snapshot, arn: &str) -> &'a [TargetHealth] {
    snap.health.get(arn).map(Vec::as_slice).unwrap_or(&[])
}

fn healthy_count(h: &[TargetHealth], only: Option<&[Target]>) -> usize {
    h.iter()
        .filter(|x| x.state == HealthState::Healthy)
        .filter(|x| only.is_none_or(|o| o.contains(&x.target)))
        .count()
}

/// A group AWS does not health-check because no route forwards to it.
fn unused(h: &[TargetHealth], route: Option<&Forward>, arn: &str) -> bool {
    let mut serving = h.iter().filter(|x| serving(x)).peekable();
    route.is_some_and(|f| f.weight_of(arn).is_none())
        && serving.peek().is_some()
        && serving.all(|x| {
            x.state == HealthState::Unused
                && x.reason.as_deref().is_none_or(|r| r == "Target.NotInUse")
        })
}

/// A group whose targets all read `unused`: none of them gets a request.
fn idle(h: &[TargetHealth]) -> bool {
    h.iter()
        .filter(|x| serving(x))
        .all(|x| x.state == HealthState::Unused)
}

/// The next actions, most important first; empty when the snapshot is the goal.
pub fn plan(goal: &Goal, snap: &Snapshot, ctx: &Context) -> Vec<Step> {
    let mut out: Vec<Step> = snap.rules.iter().cloned().map(Step::DeleteRule).collect();
    let pending = super::converge_undo::pending(goal, ctx);
    out.extend(
        goal.groups
            .iter()
            .filter_map(|g| register(g, snap, &pending)),
    );
    if let Some(undo) = super::converge_undo::next(goal, snap, ctx) {
        out.extend(undo);
        return out;
    }
    let route = route_steps(goal, snap, ctx);
    let route_done = route.is_empty();
    match (ctx.cancelled, route.first()) {
        (true, Some(Step::WriteRoute { .. })) => {
            let rest = std::mem::take(&mut out);
            out = route;
            out.extend(rest);
        }
        _ => out.extend(route),
    }
    if route_done {
        out.extend(removals(goal, snap, ctx));
    }
    out
}

fn register(g: &GroupGoal, snap: &Snapshot, pending: &[Target]) -> Option<Step> {
    let h = live(snap, &g.group.arn);
    let missing: Vec<Target> = (g.present.iter())
        .filter(|t| !pending.contains(t))
        .filter(|t| !h.iter().any(|x| serving(x) && x.target == **t))
        .cloned()
        .collect();
    (!missing.is_empty()).then(|| Step::Register {
        group: g.group.clone(),
        targets: missing,
    })
}

/// The route write that comes next (flip, or a gradual abort's stage).
fn next_write(want: &Forward, now: Option<&Forward>, ctx: &Context) -> Forward {
    let Some(now) = now.filter(|_| !ctx.cancelled || ctx.ramp_ok) else {
        return want.clone();
    };
    let Some(k) = ctx.stages.iter().rposition(|s| s.same_routing(now)) else {
        return want.clone();
    };
    match ctx.stages[..k].iter().rposition(|s| !s.same_routing(now)) {
        Some(i) if i > 0 => ctx.stages[i].clone(),
        _ => want.clone(),
    }
}

/// How many writes a gradual abort still makes from `now` (none when the
/// route is on no stage of the run: it goes back in one write).
pub fn ramp_writes(stages: &[Forward], now: Option<&Forward>) -> usize {
    let Some(k) = now.and_then(|n| stages.iter().rposition(|s| s.same_routing(n))) else {
        return 1;
    };
    let mut last = &stages[k];
    let mut n = 0;
    for s in stages[..k].iter().rev() {
        if !s.same_routing(last) {
            n += 1;
            last = s;
        }
    }
    n
}

fn route_steps(goal: &Goal, snap: &Snapshot, ctx: &Context) -> Vec<Step> {
    let (Some(want), Some(action)) = (&goal.route, &snap.route) else {
        return vec![];
    };
    let now = action.as_forward();
    if now.is_some_and(|f| f.same_routing(want)) {
        return vec![];
    }
    let to = next_write(want, now, ctx);
    for g in &to.groups {
        let arn = &g.target_group_arn;
        let rises = now.is_none_or(|f| to.percent_of(arn) > f.percent_of(arn));
        if !rises {
            continue;
        }
        if let Some(wait) = capacity(goal, snap, ctx, arn, now) {
            return wait.into_iter().collect();
        }
    }
    let restore = to.same_routing(want);
    vec![Step::WriteRoute { to, restore }]
}

/// What must come before `arn` gets more traffic: an attach, a wait for
/// its floor, or (no healthy target, the wait over) nothing can: `Some(None)`.
fn capacity(
    goal: &Goal,
    snap: &Snapshot,
    ctx: &Context,
    arn: &str,
    now: Option<&Forward>,
) -> Option<Option<Step>> {
    let h = live(snap, arn);
    let healthy = healthy_count(h, None);
    let mut size: Vec<&Target> = h.iter().filter(|x| serving(x)).map(|x| &x.target).collect();
    for t in goal.group(arn).map(|g| g.present.as_slice()).unwrap_or(&[]) {
        if !size.contains(&t) {
            size.push(t);
        }
    }
    let need = match ctx.cancelled {
        true => 1,
        false => floor(size.len()),
    };
    if healthy >= need || (healthy > 0 && ctx.waited.iter().any(|w| w == arn)) {
        return None;
    }
    if let Some(f) = now.filter(|f| unused(h, Some(f), arn)) {
        return Some(Some(attach(f, arn)));
    }
    if ctx.waited.iter().any(|w| w == arn) {
        return Some(None);
    }
    let group = goal.group(arn).map(|g| g.group.clone()).unwrap_or(Group {
        arn: arn.to_string(),
        role: super::Role::Blue,
    });
    Some(Some(Step::AwaitFloor {
        group,
        floor: need,
        of: size.len(),
    }))
}

fn attach(now: &Forward, arn: &str) -> Step {
    let mut to = now.clone();
    to.groups.push(WeightedGroup {
        target_group_arn: arn.to_string(),
        weight: 0,
    });
    to.shape = ForwardShape::Weighted;
    Step::Attach {
        group: arn.to_string(),
        to,
    }
}

fn removals(goal: &Goal, snap: &Snapshot, ctx: &Context) -> Vec<Step> {
    let route = snap.route.as_ref().and_then(RouteAction::as_forward);
    let mut out = vec![];
    for g in &goal.groups {
        let h = live(snap, &g.group.arn);
        let extra: Vec<Target> = (h.iter())
            .filter(|x| serving(x) && g.removes(&x.target))
            .map(|x| x.target.clone())
            .collect();
        if extra.is_empty() {
            continue;
        }
        let extra = match before_removal(g, h, route, ctx, extra) {
            Ok(extra) => extra,
            Err(wait) => {
                out.extend(wait);
                continue;
            }
        };
        if !ctx.settled && (ctx.moved || !idle(h)) {
            return vec![Step::Settle];
        }
        out.push(Step::Deregister {
            group: g.group.clone(),
            targets: extra,
        });
    }
    out
}

/// Which of `extra` may leave now, or what comes first (`Err`: a wait,
/// or nothing while it cannot). A group run keeps its healthy extras
/// until half its originals are healthy (a cancel does not wait for
/// them), but its unhealthy ones serve nothing and go at once; no group
/// that takes traffic loses its last healthy target.
fn before_removal(
    g: &GroupGoal,
    h: &[TargetHealth],
    route: Option<&Forward>,
    ctx: &Context,
    mut extra: Vec<Target>,
) -> Result<Vec<Target>, Option<Step>> {
    let healthy = |t: &Target| {
        h.iter()
            .any(|x| x.target == *t && x.state == HealthState::Healthy)
    };
    if g.exact {
        let need = floor(g.present.len());
        let waited = ctx.waited.contains(&g.group.arn);
        if healthy_count(h, Some(&g.present)) < need && !waited {
            extra.retain(|t| !healthy(t));
            if extra.is_empty() {
                let wait = Step::AwaitFloor {
                    group: g.group.clone(),
                    floor: need,
                    of: g.present.len(),
                };
                return Err((!ctx.cancelled).then_some(wait));
            }
        }
    }
    let left = (h.iter())
        .filter(|x| x.state == HealthState::Healthy && !extra.contains(&x.target))
        .count();
    let takes_traffic =
        g.exact || route.is_some_and(|f| f.weight_of(&g.group.arn).unwrap_or(0) > 0);
    match takes_traffic && left == 0 {
        true => Err(None),
        false => Ok(extra),
    }
}

#[cfg(test)]
#[path = "converge_tests.rs"]
mod tests;
