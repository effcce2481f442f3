//! The calls of the revert for `--dry-run`: the convergence projected on
//! a model of the load balancer (`engine::sim`) as it would be after a
//! failure at the plan's last change, step by step as the executor would
//! apply it.

use super::calls::{call, write_call, PlannedCall};
use crate::alb::{list_targets, Forward, Target};
use crate::engine::converge::{Context, Step};
use crate::engine::goal::Goal;
use crate::engine::sim::{record_at, World};
use crate::engine::{AbortMode, Action, Plan, Scope};
use crate::settings::Analysis;

/// The calls of the revert after a failure at the plan's last change
/// (`--abort` decides how the route goes back).
pub fn revert_calls(scope: &Scope, plan: &Plan, _an: &Analysis) -> Vec<PlannedCall> {
    let last = plan
        .actions
        .iter()
        .rposition(|a| *a != Action::Unrecord && a.hook().is_none())
        .unwrap_or(0);
    let (mut world, goal) = projected(scope, plan, last);
    let ctx = Context {
        stages: match plan.abort {
            AbortMode::Flip => vec![],
            AbortMode::Gradual => std::iter::once(plan.original.clone())
                .chain(
                    plan.actions
                        .iter()
                        .filter_map(Action::route_write)
                        .map(|w| w.to.clone()),
                )
                .collect(),
        },
        ..Context::default()
    };
    let mut out: Vec<PlannedCall> = (world.converge(&goal, ctx).iter())
        .map(|s| step_call(scope, s))
        .collect();
    out.push(call(
        "RemoveTags",
        scope.owner_arn(),
        "alb-rollout:* (the run record), once everything is back".into(),
    ));
    out.extend(super::calls_hooks::post_revert_calls(plan));
    out
}

/// An in-place run's revert after a failure in its last batch's analysis:
/// with `--undo` every batch undone, newest first; without, the last
/// batch taken out again.
pub fn in_place_revert_calls(scope: &Scope, plan: &Plan, undo: bool) -> Vec<PlannedCall> {
    let last = (plan.actions.iter())
        .rposition(|a| matches!(a, Action::Bake(_)))
        .unwrap_or(0);
    let (mut world, mut goal) = projected(scope, plan, last);
    let batches: Vec<Vec<Target>> = (plan.actions.iter())
        .filter_map(|a| match a {
            Action::Deploy(d) => Some(d.targets.clone()),
            _ => None,
        })
        .collect();
    if let (Some(g), Some(out)) = (scope.group(), batches.last().filter(|_| !undo)) {
        goal = Goal::of_group_without(&g.arn, &g.original, out);
    }
    goal.healthy = true;
    if undo {
        goal.undo = batches.into_iter().rev().collect();
    }
    let mut out: Vec<PlannedCall> = (world.converge(&goal, Context::default()).iter())
        .map(|s| step_call(scope, s))
        .collect();
    out.push(call(
        "RemoveTags",
        scope.owner_arn(),
        match undo {
            true => "alb-rollout:* (the run record), once everything is back".into(),
            false => "alb-rollout:beat only: the record stays for `rollback --undo`".into(),
        },
    ));
    out
}

/// The model after the plan's actions up to `at`, and the run's goal.
fn projected(scope: &Scope, plan: &Plan, at: usize) -> (World, Goal) {
    let groups: Vec<(&str, Vec<Target>)> = match scope.group() {
        Some(g) => vec![(g.arn.as_str(), g.original.clone())],
        None => {
            let placeholder = vec![Target::new("blue-target", None)];
            vec![
                (plan.blue.as_str(), placeholder),
                (plan.green.as_str(), vec![]),
            ]
        }
    };
    let route = match scope.group() {
        Some(g) => Forward::single(&g.arn),
        None => plan.original.clone(),
    };
    let mut world = World::new(route, &groups);
    plan.actions[..=at].iter().for_each(|a| world.forward(a));
    let goal = match scope.group() {
        Some(g) => Goal::of_group(&g.arn, &g.original),
        None => Goal::of_route_record(&record_at(
            &plan.actions,
            at,
            &plan.original,
            &plan.green,
            plan.strategy,
        )),
    };
    (world, goal)
}

fn step_call(scope: &Scope, s: &Step) -> PlannedCall {
    let route = scope.route();
    match s {
        Step::DeleteRule(r) => call("DeleteRule", &r.arn, format!("the run's rule at priority {} (it carries the run's tag)", r.priority)),
        Step::Register { group, targets } => call("RegisterTargets", &group.arn, format!("{} again, with their port and zone", list_targets(targets))),
        Step::Attach { group, to } => match route {
            Some(r) => call("ModifyListener", r.owner_arn(), format!("attach {group} at weight 0 so AWS health-checks it: {}", super::calls::forward_text(to))),
            None => call("wait", group, "attach".into()),
        },
        Step::AwaitFloor { group, floor, of } => call("wait", &group.arn, format!("until {floor} of {of} targets are healthy (half of its size before the run; --health-timeout)")),
        Step::WriteRoute { to, .. } => match route {
            Some(r) => write_call(r, to),
            None => call("wait", scope.owner_arn(), "route".into()),
        },
        Step::Settle => call("wait", scope.owner_arn(), "--settle, so every ALB node sees the route before targets leave".into()),
        Step::Deregister { group, targets } => call("DeregisterTargets", &group.arn, list_targets(targets)),
        Step::AwaitDrained { group, targets } => call("wait", &group.arn, format!("until {} have drained", list_targets(targets))),
        Step::Undo { targets, .. } => call("sh -c", scope.owner_arn(), format!("--undo with ALB_ROLLOUT_TARGETS={}, then lower alb-rollout:in-place (AddTags)", crate::executor::batch_commands::targets_env(targets))),
        Step::AwaitHealthy { group, targets, .. } => call("wait", &group.arn, format!("until {} are healthy again (--health-timeout)", list_targets(targets))),
    }
}
