//! Table tests of the in-place planner: which targets, the batches and
//! their floor, preflight refusals naming their culprits, the actions of a
//! batch in order, and the revert's convergence (on the model load
//! balancer) from a failure at every position of a plan, with and without
//! `--undo`.

use super::*;
use crate::alb::state_tags::parse_target;
use crate::alb::Forward;
use crate::engine::converge::{Context, Step};
use crate::engine::goal::Goal;
use crate::engine::sim::World;

const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/app/1";

fn ips(n: usize) -> Vec<Target> {
    (0..n)
        .map(|i| parse_target(&format!("10.0.0.{}:80", i + 1)))
        .collect()
}

fn health(ts: &[Target], state: HealthState) -> Vec<TargetHealth> {
    ts.iter()
        .map(|t| TargetHealth {
            target: t.clone(),
            state,
            reason: None,
        })
        .collect()
}

fn input<'a>(
    live: &'a [TargetHealth],
    targets: &'a [Target],
    batch: BatchSize,
    m: usize,
) -> InPlaceInput<'a> {
    InPlaceInput {
        group: TG,
        live,
        targets,
        batch,
        max_unavailable: m,
        check: Duration::from_secs(30),
        deploy: "./deploy.sh",
    }
}

#[test]
fn every_target_of_the_group_in_batches_by_default() {
    let live = health(&ips(4), HealthState::Healthy);
    let p = plan(&input(&live, &[], BatchSize::Count(2), 0)).unwrap();
    assert_eq!(p.batches, vec![ips(4)[..2].to_vec(), ips(4)[2..].to_vec()]);
    assert_eq!((p.per, p.floor), (2, 1));
    let p = plan(&input(&live, &[], BatchSize::Percent(25), 0)).unwrap();
    assert_eq!(p.batches.len(), 4);
}

#[test]
fn targets_resolve_to_the_groups_own_entries_with_port_and_zone() {
    let mut ts = ips(3);
    ts[1].az = Some("all".into());
    let live = health(&ts, HealthState::Healthy);
    let want = [parse_target("10.0.0.2")];
    let p = plan(&input(&live, &want, BatchSize::Count(1), 0)).unwrap();
    assert_eq!(p.batches, vec![vec![ts[1].clone()]]);
    assert_eq!(p.batches[0][0].port, Some(80));
    assert_eq!(p.batches[0][0].az.as_deref(), Some("all"));
    assert_eq!(p.original.len(), 3);
}

#[test]
fn preflight_refuses_each_batch_that_would_take_the_group_below_its_floor() {
    let ts = ips(4);
    let live = health(&ts, HealthState::Healthy);
    // Every target at once leaves none healthy outside the batch.
    let e = plan(&input(&live, &[], BatchSize::Count(4), 0)).unwrap_err();
    assert!(
        e[0].contains("batch 1") && e[0].contains("--batch"),
        "{e:?}"
    );
    // --max-unavailable 1 and batches of 2.
    let e = plan(&input(&live, &[], BatchSize::Count(2), 1)).unwrap_err();
    assert!(e[0].contains("--max-unavailable 1"), "{e:?}");
    // Counted from what is healthy: with the other two unhealthy, the
    // first batch would leave none; the second leaves its two.
    let mut live = health(&ts, HealthState::Healthy);
    live[2].state = HealthState::Unhealthy;
    live[3].state = HealthState::Unhealthy;
    let e = plan(&input(&live, &[], BatchSize::Count(2), 0)).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("10.0.0.1:80, 10.0.0.2:80"), "{e:?}");
    assert!(plan(&input(&live, &[], BatchSize::Count(1), 0)).is_ok());
}

#[test]
fn unknown_targets_and_an_empty_deploy_are_named() {
    let live = health(&ips(2), HealthState::Healthy);
    let stray = [parse_target("10.9.9.9:80")];
    let mut i = input(&live, &stray, BatchSize::Count(1), 0);
    i.deploy = " ";
    let e = plan(&i).unwrap_err();
    assert!(
        e.iter().any(|m| m.contains("--targets 10.9.9.9:80")),
        "{e:?}"
    );
    assert!(e.iter().any(|m| m.contains("--deploy")), "{e:?}");
    let none: Vec<TargetHealth> = vec![];
    assert!(plan(&input(&none, &[], BatchSize::Count(1), 0)).is_err());
}

#[test]
fn a_batch_leaves_is_deployed_and_comes_back_before_its_analysis() {
    let live = health(&ips(4), HealthState::Healthy);
    let p = plan(&input(&live, &[], BatchSize::Count(2), 0)).unwrap();
    let kinds: Vec<&str> = p
        .actions()
        .iter()
        .map(|a| match a {
            Action::Record => "record",
            Action::StartBatch { .. } => "start",
            Action::Deregister { .. } => "deregister",
            Action::AwaitDrained { .. } => "drained",
            Action::Deploy(_) => "deploy",
            Action::Register { .. } => "register",
            Action::AwaitHealthy { .. } => "healthy",
            Action::Bake(_) => "bake",
            Action::Unrecord => "unrecord",
            _ => "other",
        })
        .collect();
    let batch = [
        "start",
        "deregister",
        "drained",
        "deploy",
        "register",
        "healthy",
        "bake",
    ];
    let mut want = vec!["record"];
    want.extend(batch);
    want.extend(batch);
    want.push("unrecord");
    assert_eq!(kinds, want);
    let Action::Deploy(d) = &p.actions()[4] else {
        panic!("deploy")
    };
    assert_eq!(
        (d.index, d.of, d.targets.clone()),
        (0, 2, ips(4)[..2].to_vec())
    );
}

/// The goal the executor gives the revert after the plan stopped at
/// action `at` (its `in_place::group_goal`, restated from the plan).
fn goal_at(p: &InPlacePlan, actions: &[Action], at: usize, undo: bool) -> Goal {
    let started = (actions[..=at].iter())
        .filter(|a| matches!(a, Action::Deploy(_)))
        .count();
    let done = (actions[..at].iter())
        .filter(|a| matches!(a, Action::Bake(_)))
        .count();
    if !undo && started > done {
        return Goal::of_group_without(TG, &p.original, &p.batches[started - 1]);
    }
    let mut g = Goal::of_group(TG, &p.original);
    g.healthy = true;
    if undo {
        g.undo = p.batches[..started].iter().rev().cloned().collect();
    }
    g
}

#[test]
fn a_failure_anywhere_converges_with_every_started_batch_undone_newest_first() {
    let ts = ips(6);
    let live = health(&ts, HealthState::Healthy);
    let p = plan(&input(&live, &[], BatchSize::Count(2), 0)).unwrap();
    let actions = p.actions();
    for at in 1..actions.len() - 1 {
        let mut w = World::new(Forward::single(TG), &[(TG, ts.clone())]);
        actions[..at].iter().for_each(|a| w.forward(a));
        let goal = goal_at(&p, &actions, at, true);
        let steps = w.converge(&goal, Context::default());
        let undone: Vec<Vec<Target>> = (steps.iter())
            .filter_map(|s| match s {
                Step::Undo { targets, .. } => Some(targets.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(undone, goal.undo, "at {at}: {steps:?}");
        let h = &w.health[TG];
        assert_eq!(h.len(), 6, "at {at}: {h:?}");
        assert!(h.iter().all(|x| x.state == HealthState::Healthy), "at {at}");
        // Never more than one batch out at once, never the last healthy.
        for s in &steps {
            if let Step::Deregister { targets, .. } = s {
                assert!(targets.len() <= p.per, "at {at}: {steps:?}");
            }
        }
    }
}

#[test]
fn without_undo_the_failing_batch_stays_out_and_the_earlier_ones_stay_in() {
    let ts = ips(6);
    let live = health(&ts, HealthState::Healthy);
    let p = plan(&input(&live, &[], BatchSize::Count(2), 0)).unwrap();
    let actions = p.actions();
    // The second batch's deploy fails: batch 1 passed, batch 2 is out.
    let at = (actions.iter())
        .enumerate()
        .filter(|(_, a)| matches!(a, Action::Deploy(_)))
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    let mut w = World::new(Forward::single(TG), &[(TG, ts.clone())]);
    actions[..at].iter().for_each(|a| w.forward(a));
    let goal = goal_at(&p, &actions, at, false);
    let steps = w.converge(&goal, Context::default());
    assert!(steps.is_empty(), "{steps:?}");
    let held: Vec<Target> = w.health[TG].iter().map(|h| h.target.clone()).collect();
    assert!(p.batches[1].iter().all(|t| !held.contains(t)), "{held:?}");
    assert_eq!(held.len(), 4);
    // Failing after its registration (a failed analysis): it is taken out.
    let at = at + 3;
    let mut w = World::new(Forward::single(TG), &[(TG, ts.clone())]);
    actions[..at].iter().for_each(|a| w.forward(a));
    let goal = goal_at(&p, &actions, at, false);
    w.converge(&goal, Context::default());
    let held: Vec<Target> = w.health[TG].iter().map(|h| h.target.clone()).collect();
    assert_eq!(held.len(), 4, "{held:?}");
}
