//! The convergence's steps for an in-place run's undo (`rolling --in-place
//! --undo`, `rollback --undo`): the batches whose deploy started, newest
//! first, each deregistered (never the group's last healthy target),
//! drained, given `--undo`, registered again (by the convergence's own
//! "add" step once its undo ran) and awaited healthy before the next. Pure;
//! which batches' undo ran the executor tells it (`Context::undone`), as
//! no read of the load balancer can.

use super::action::Group;
use super::converge::{Context, Snapshot, Step};
use super::goal::Goal;
use crate::alb::{HealthState, Target, TargetHealth};

fn draining(h: &TargetHealth) -> bool {
    matches!(
        h.state,
        HealthState::Draining | HealthState::UnhealthyDraining
    )
}

/// Targets of batches whose undo has not run: the convergence must not
/// register them again yet.
pub fn pending(goal: &Goal, ctx: &Context) -> Vec<Target> {
    (goal.undo.iter().enumerate())
        .filter(|(i, _)| !ctx.undone.contains(i))
        .flat_map(|(_, b)| b.iter().cloned())
        .collect()
}

/// What the undo needs next: `None` when every batch is undone and back
/// (or its wait for health ran out); `Some(None)` when it cannot go on now
/// (the batch would take the group's last healthy target, or an undone
/// batch is not registered yet: the convergence's register comes first).
pub fn next(goal: &Goal, snap: &Snapshot, ctx: &Context) -> Option<Option<Step>> {
    let g = goal.groups.first()?;
    let h = snap
        .health
        .get(&g.group.arn)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for (i, batch) in goal.undo.iter().enumerate() {
        let step = match ctx.undone.contains(&i) {
            true => back(&g.group, h, batch, i, ctx),
            false => Some(undo(&g.group, h, batch, i)),
        };
        if step.is_some() {
            return step;
        }
    }
    finally_healthy(goal, h, ctx)
}

/// An undone batch: registered (by the convergence's register, so
/// nothing here until it is), then awaited healthy; `None` once it is.
fn back(
    group: &Group,
    h: &[TargetHealth],
    batch: &[Target],
    i: usize,
    ctx: &Context,
) -> Option<Option<Step>> {
    let state = |t: &Target| h.iter().find(|x| x.target == *t).map(|x| x.state);
    let registered = (batch.iter()).all(|t| state(t).is_some_and(|s| !draining_state(s)));
    if !registered {
        return Some(None);
    }
    let healthy = batch.iter().all(|t| state(t) == Some(HealthState::Healthy));
    (!healthy && !ctx.unhealthy.contains(&i)).then(|| {
        Some(Step::AwaitHealthy {
            group: group.clone(),
            targets: batch.to_vec(),
            batch: i,
        })
    })
}

/// A batch still to undo: out of the group (never its last healthy
/// target), drained, then `--undo`.
fn undo(group: &Group, h: &[TargetHealth], batch: &[Target], i: usize) -> Option<Step> {
    let of_batch = |leaving: bool| -> Vec<Target> {
        (h.iter())
            .filter(|x| draining(x) == leaving && batch.contains(&x.target))
            .map(|x| x.target.clone())
            .collect()
    };
    let serving = of_batch(false);
    if !serving.is_empty() {
        let outside = (h.iter())
            .filter(|x| x.state == HealthState::Healthy && !batch.contains(&x.target))
            .count();
        return (outside > 0).then(|| Step::Deregister {
            group: group.clone(),
            targets: serving,
        });
    }
    let leaving = of_batch(true);
    if !leaving.is_empty() {
        return Some(Step::AwaitDrained {
            group: group.clone(),
            targets: leaving,
        });
    }
    Some(Step::Undo {
        batch: i,
        targets: batch.to_vec(),
    })
}

/// An in-place goal's last step: every target it holds healthy, waited
/// for once (as "batch" `goal.undo.len()`).
fn finally_healthy(goal: &Goal, h: &[TargetHealth], ctx: &Context) -> Option<Option<Step>> {
    let g = goal.groups.first().filter(|_| goal.healthy)?;
    let last = goal.undo.len();
    let ill: Vec<Target> = (g.present.iter())
        .filter(|t| h.iter().any(|x| x.target == **t && !draining(x)))
        .filter(|t| {
            !h.iter()
                .any(|x| x.target == **t && x.state == HealthState::Healthy)
        })
        .cloned()
        .collect();
    (!ill.is_empty() && !ctx.unhealthy.contains(&last)).then(|| {
        Some(Step::AwaitHealthy {
            group: g.group.clone(),
            targets: ill,
            batch: last,
        })
    })
}

fn draining_state(s: HealthState) -> bool {
    matches!(s, HealthState::Draining | HealthState::UnhealthyDraining)
}

/// The batches still to undo, in words.
pub fn differences(goal: &Goal, ctx: &Context) -> Vec<String> {
    (goal.undo.iter().enumerate())
        .filter(|(i, _)| !ctx.undone.contains(i))
        .map(|(_, b)| {
            format!(
                "{} may still run the new version: --undo has not run on them",
                crate::alb::list_targets(b)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::state_tags::parse_target;

    fn snap(arn: &str, states: &[(&str, HealthState)]) -> Snapshot {
        let h = states
            .iter()
            .map(|(t, s)| TargetHealth {
                target: parse_target(t),
                state: *s,
                reason: None,
            })
            .collect();
        Snapshot {
            health: [(arn.to_string(), h)].into(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn an_undo_never_takes_out_the_groups_last_healthy_target() {
        let all: Vec<Target> = ["10.0.0.1:80", "10.0.0.2:80"].map(parse_target).to_vec();
        let mut goal = Goal::of_group("tg", &all);
        goal.undo = vec![vec![all[0].clone()]];
        let only = snap(
            "tg",
            &[
                ("10.0.0.1:80", HealthState::Healthy),
                ("10.0.0.2:80", HealthState::Unhealthy),
            ],
        );
        assert_eq!(next(&goal, &only, &Context::default()), Some(None));
        let both = snap(
            "tg",
            &[
                ("10.0.0.1:80", HealthState::Healthy),
                ("10.0.0.2:80", HealthState::Healthy),
            ],
        );
        assert!(matches!(
            next(&goal, &both, &Context::default()),
            Some(Some(Step::Deregister { .. }))
        ));
        // Not undone: what is left says so, and it is not registered yet.
        let out = snap("tg", &[("10.0.0.2:80", HealthState::Healthy)]);
        assert_eq!(pending(&goal, &Context::default()), vec![all[0].clone()]);
        assert!(matches!(
            next(&goal, &out, &Context::default()),
            Some(Some(Step::Undo { batch: 0, .. }))
        ));
        assert_eq!(differences(&goal, &Context::default()).len(), 1);
        let done = Context {
            undone: vec![0],
            ..Context::default()
        };
        assert!(differences(&goal, &done).is_empty());
        assert_eq!(next(&goal, &out, &done), Some(None), "registered first");
    }
}
