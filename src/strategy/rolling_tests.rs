//! Table tests of the rolling planner: input checks naming the culprits,
//! rounds under `--max-unavailable` and the group limit, the actions, and
//! the revert's convergence from a failure at every position.

use super::*;
use crate::alb::state_tags::parse_target;

const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/app/1";

fn ips(from: usize, n: usize) -> Vec<Target> {
    (from..from + n)
        .map(|i| parse_target(&format!("10.0.{}.{}:80", i / 250, i % 250 + 1)))
        .collect()
}

fn healthy(ts: &[Target]) -> Vec<TargetHealth> {
    ts.iter()
        .map(|t| TargetHealth {
            target: t.clone(),
            state: HealthState::Healthy,
            reason: None,
        })
        .collect()
}

fn input<'a>(
    live: &'a [TargetHealth],
    add: &'a [Target],
    remove: &'a [Target],
    batch: BatchSize,
    unavailable: usize,
) -> RollingInput<'a> {
    RollingInput {
        group: TG,
        live,
        add,
        remove,
        batch,
        max_unavailable: unavailable,
        check: Duration::from_secs(30),
        limit: MAX_TARGETS_PER_GROUP,
        limit_why: GROUP_LIMIT_WHY,
    }
}

fn sizes(p: &RollingPlan) -> Vec<(usize, usize, usize)> {
    (p.rounds.iter())
        .map(|r| (r.early.len(), r.add.len(), r.late.len()))
        .collect()
}

#[test]
fn rounds_surge_first_unless_unavailability_is_allowed() {
    let old = ips(0, 4);
    let new = ips(100, 4);
    let live = healthy(&old);
    let table = [
        (BatchSize::Count(2), 0, vec![(0, 2, 2), (0, 2, 2)], 6, 4),
        (BatchSize::Count(2), 1, vec![(1, 2, 1), (1, 2, 1)], 5, 3),
        (BatchSize::Count(2), 2, vec![(2, 2, 0), (2, 2, 0)], 4, 2),
        (BatchSize::Percent(25), 0, vec![(0, 1, 1); 4], 5, 4),
        (BatchSize::Count(3), 0, vec![(0, 3, 3), (0, 1, 1)], 7, 4),
        (BatchSize::Count(9), 9, vec![(4, 4, 0)], 4, 1),
    ];
    for (batch, un, want, peak, floor) in table {
        let p = plan(&input(&live, &new, &old, batch, un)).unwrap();
        assert_eq!(sizes(&p), want, "{batch:?} {un}");
        assert_eq!((p.peak, p.floor), (peak, floor), "{batch:?} {un}");
        assert_eq!(p.original, old);
    }
}

#[test]
fn uneven_lists_scale_out_or_in() {
    let old = ips(0, 4);
    let live = healthy(&old);
    let grow = ips(100, 6);
    let p = plan(&input(&live, &grow, &old[..2], BatchSize::Count(2), 0)).unwrap();
    assert_eq!(sizes(&p), vec![(0, 2, 2), (0, 2, 0), (0, 2, 0)]);
    assert_eq!(p.peak, 8);
    // Removing more than adding: old ones in rounds without new ones leave late.
    let p = plan(&input(
        &live,
        &ips(100, 1),
        &old[..3],
        BatchSize::Count(1),
        1,
    ))
    .unwrap();
    assert_eq!(sizes(&p), vec![(1, 1, 0), (0, 0, 1), (0, 0, 1)]);
    assert_eq!(p.floor, 1);
}

#[test]
fn a_full_group_needs_old_targets_out_first_and_says_how_many() {
    let old = ips(0, 1000);
    let new = ips(1000, 1000);
    let live = healthy(&old);
    let e = plan(&input(&live, &new, &old, BatchSize::Percent(10), 0)).unwrap_err();
    assert!(e[0].contains("would hold 1100 targets"), "{e:?}");
    assert!(
        e[0].contains("over 1000 targets (ELBv2's limit per target group)"),
        "{e:?}"
    );
    assert!(e[0].contains("--max-unavailable to 100"), "{e:?}");
    let p = plan(&input(&live, &new, &old, BatchSize::Percent(10), 100)).unwrap();
    assert_eq!(p.rounds.len(), 10);
    assert_eq!(p.peak, 1000);
    assert_eq!(p.floor, 900);
}

#[test]
fn bad_input_names_every_culprit() {
    let old = ips(0, 3);
    let live = healthy(&old);
    let stranger = ips(50, 1);
    let add = vec![old[0].clone(), ips(60, 1)[0].clone()];
    let remove = vec![stranger[0].clone(), add[1].clone()];
    let e = plan(&input(&live, &add, &remove, BatchSize::Count(1), 0)).unwrap_err();
    let all = e.join("\n");
    assert!(all.contains("--remove 10.0.0.51:80"), "{all}");
    assert!(all.contains("--add 10.0.0.1:80 already in"), "{all}");
    assert!(all.contains("10.0.0.61:80 given to both"), "{all}");
    let e = plan(&input(&live, &[], &[], BatchSize::Count(1), 0)).unwrap_err();
    assert!(e[0].contains("nothing to do"), "{e:?}");
    let e = plan(&input(&live, &[], &old, BatchSize::Count(1), 0)).unwrap_err();
    assert!(e[0].contains("would serve nothing"), "{e:?}");
}

#[test]
fn remove_without_ports_resolves_to_the_groups_entries() {
    let old = ips(0, 2);
    let live = healthy(&old);
    let bare = vec![Target {
        id: old[1].id.clone(),
        port: None,
        az: None,
    }];
    let p = plan(&input(&live, &ips(10, 1), &bare, BatchSize::Count(1), 0)).unwrap();
    assert_eq!(p.rounds[0].late, vec![old[1].clone()]);
}

#[test]
fn draining_targets_are_not_the_groups_any_more() {
    let old = ips(0, 2);
    let mut live = healthy(&old);
    live[1].state = HealthState::Draining;
    let e = plan(&input(
        &live,
        &ips(10, 1),
        &old[1..],
        BatchSize::Count(1),
        0,
    ))
    .unwrap_err();
    assert!(e[0].contains("not registered"), "{e:?}");
}

fn kinds(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::Record => "record".into(),
            Action::Register { targets, .. } => format!("reg{}", targets.len()),
            Action::Deregister { targets, .. } => format!("dereg{}", targets.len()),
            Action::AwaitHealthy { targets, .. } => format!("healthy{}", targets.len()),
            Action::AwaitDrained { targets, .. } => format!("drained{}", targets.len()),
            Action::Bake(b) => format!("check@{}", b.percent.0),
            Action::Unrecord => "unrecord".into(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn each_round_registers_waits_deregisters_drains_then_checks() {
    let old = ips(0, 4);
    let live = healthy(&old);
    let p = plan(&input(&live, &ips(10, 4), &old, BatchSize::Count(2), 1)).unwrap();
    let want = [
        "record",
        "dereg1",
        "drained1",
        "reg2",
        "healthy2",
        "dereg1",
        "drained1",
        "check@500",
        "dereg1",
        "drained1",
        "reg2",
        "healthy2",
        "dereg1",
        "drained1",
        "check@1000",
        "unrecord",
    ];
    assert_eq!(kinds(&p.actions()), want);
}

/// Replays actions on a set of targets: the group after them.
fn replay(mut group: Vec<Target>, actions: &[Action]) -> Vec<Target> {
    for a in actions {
        match a {
            Action::Register { targets, .. } => group.extend(targets.iter().cloned()),
            Action::Deregister { targets, .. } => group.retain(|t| !targets.contains(t)),
            _ => {}
        }
    }
    group.sort();
    group
}

#[test]
fn a_failure_at_every_position_converges_to_the_exact_original_never_under_the_floor() {
    let old = ips(0, 6);
    let live = healthy(&old);
    let p = plan(&input(&live, &ips(10, 6), &old, BatchSize::Count(2), 1)).unwrap();
    let actions = p.actions();
    let mut original = old.clone();
    original.sort();
    for at in 1..actions.len() {
        let applied = &actions[..at];
        let steps = crate::engine::sim::group_revert(TG, &old, applied);
        let revert: Vec<Action> = steps.iter().filter_map(step_action).collect();
        let all: Vec<Action> = applied.iter().chain(revert.iter()).cloned().collect();
        assert_eq!(replay(old.clone(), &all), original, "failure at {at}");
        // Nothing leaves before every original target is back.
        let mut now = replay(old.clone(), applied);
        for a in &revert {
            now = replay(now, std::slice::from_ref(a));
            assert!(now.len() >= p.floor, "under the floor at {at}");
        }
    }
}

fn step_action(s: &crate::engine::converge::Step) -> Option<Action> {
    use crate::engine::converge::Step;
    match s {
        Step::Register { group, targets } => Some(Action::Register {
            group: group.clone(),
            targets: targets.clone(),
        }),
        Step::Deregister { group, targets } => Some(Action::Deregister {
            group: group.clone(),
            targets: targets.clone(),
        }),
        _ => None,
    }
}

#[test]
fn the_original_leaves_out_targets_already_draining() {
    let old = ips(0, 3);
    let mut live = healthy(&old);
    live[2].state = HealthState::Draining;
    let p = plan(&input(
        &live,
        &ips(10, 1),
        &old[..1],
        BatchSize::Count(1),
        0,
    ))
    .unwrap();
    assert_eq!(p.original, old[..2].to_vec());
}
