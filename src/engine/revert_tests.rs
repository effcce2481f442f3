//! The revert derivation, pure: the inverse of every action kind, the
//! flip and gradual shapes, and for a plan with every kind a failure at
//! every position, replayed on a model of the load balancer, must leave
//! it as it was before the run.

use super::*;
use crate::alb::{Forward, Target};
use crate::engine::action::{BakeSpec, Group, Role, RuleSpec};
use crate::plan::Tenths;
use std::collections::{BTreeMap, BTreeSet};

fn group(arn: &str, role: Role) -> Group {
    Group {
        arn: arn.into(),
        role,
    }
}

fn t(id: &str) -> Vec<Target> {
    vec![Target {
        id: id.into(),
        port: None,
    }]
}

fn fwd(green: u16) -> Forward {
    match green {
        0 => Forward::single("blue"),
        g => Forward::weighted(&[("blue", 1000 - g.min(1000)), ("green", g.min(999))]),
    }
}

fn write(from: u16, to: u16) -> Action {
    Action::WriteRoute(RouteWrite {
        from: fwd(from),
        to: fwd(to),
        purpose: Purpose::Step {
            index: 0,
            of: 1,
            percent: Tenths(to),
        },
    })
}

fn rule(priority: u32) -> RuleSpec {
    RuleSpec {
        listener_arn: "listener".into(),
        priority,
        conditions: vec![],
        forward: Forward::single("green"),
    }
}

fn bake() -> Action {
    Action::Bake(BakeSpec {
        step: 0,
        percent: Tenths(100),
        duration: std::time::Duration::from_secs(60),
    })
}

#[test]
fn every_action_kind_has_its_inverse() {
    let (g, b) = (group("green", Role::Green), group("blue", Role::Blue));
    let reg = |group: &Group| Action::Register {
        group: group.clone(),
        targets: t("a"),
    };
    let dereg = |group: &Group| Action::Deregister {
        group: group.clone(),
        targets: t("a"),
    };
    let healthy = Action::AwaitHealthy {
        group: b.clone(),
        targets: t("a"),
    };
    let drained = Action::AwaitDrained {
        group: b.clone(),
        targets: t("a"),
    };
    let cases: Vec<(Action, Vec<Action>)> = vec![
        (Action::Record, vec![]),
        (Action::Unrecord, vec![]),
        (reg(&g), vec![dereg(&g)]),
        (dereg(&b), vec![reg(&b), healthy.clone()]),
        (healthy, vec![]),
        (drained, vec![]),
        (bake(), vec![]),
        (
            Action::CreateRule(rule(10)),
            vec![Action::DeleteRule(rule(10))],
        ),
        (
            Action::DeleteRule(rule(10)),
            vec![Action::CreateRule(rule(10))],
        ),
    ];
    for (a, want) in cases {
        assert_eq!(a.inverse(), want, "{a:?}");
    }
    let inv = write(0, 100).inverse();
    let [Action::WriteRoute(w)] = inv.as_slice() else {
        panic!("{inv:?}")
    };
    assert_eq!((&w.from, &w.to), (&fwd(100), &fwd(0)));
}

#[test]
fn a_flip_is_one_write_of_the_original_after_everything_applied_since() {
    let b = group("blue", Role::Blue);
    let applied = vec![
        Action::Record,
        write(0, 100),
        bake(),
        write(100, 1000),
        Action::Deregister {
            group: b.clone(),
            targets: t("b1"),
        },
    ];
    let r = derive(&applied, AbortMode::Flip);
    assert_eq!(
        r,
        vec![
            Action::Register {
                group: b.clone(),
                targets: t("b1")
            },
            Action::AwaitHealthy {
                group: b,
                targets: t("b1")
            },
            Action::WriteRoute(RouteWrite {
                from: fwd(1000),
                to: fwd(0),
                purpose: Purpose::Restore
            }),
            Action::Unrecord,
        ],
        "blue is back and healthy before it gets its traffic back"
    );
}

#[test]
fn a_gradual_abort_ramps_back_through_the_applied_weights() {
    let applied = vec![
        Action::Record,
        write(0, 50),
        write(50, 250),
        write(250, 500),
        // A promotion that changes nothing the last step did not.
        write(500, 500),
    ];
    let r = derive(&applied, AbortMode::Gradual);
    let steps: Vec<(Forward, Purpose)> = r
        .iter()
        .filter_map(Action::route_write)
        .map(|w| (w.to.clone(), w.purpose.clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (fwd(250), Purpose::RampBack { index: 0, of: 3 }),
            (fwd(50), Purpose::RampBack { index: 1, of: 3 }),
            (fwd(0), Purpose::RampBack { index: 2, of: 3 }),
        ]
    );
    assert_eq!(r.last(), Some(&Action::Unrecord));
    // A ramp of one write is a plain restore.
    let one = derive(&[Action::Record, write(0, 50)], AbortMode::Gradual);
    assert!(matches!(&one[0], Action::WriteRoute(w) if w.purpose == Purpose::Restore));
}

#[test]
fn nothing_applied_needs_no_revert_and_a_record_is_always_removed() {
    assert_eq!(derive(&[], AbortMode::Flip), vec![]);
    assert_eq!(
        derive(&[Action::Record, bake()], AbortMode::Gradual),
        vec![Action::Unrecord]
    );
}

#[test]
fn the_rest_of_a_ramp_collapses_into_one_write_and_fits_is_by_the_estimates() {
    let rest = derive(
        &[Action::Record, write(0, 50), write(50, 250)],
        AbortMode::Gradual,
    );
    assert!(ramping(&rest));
    let flipped = coalesce(rest.clone());
    assert_eq!(flipped.len(), 2);
    assert!(!ramping(&flipped));
    // Two writes and the record: 3 s at the estimates.
    assert!(fits(&rest, std::time::Duration::from_secs(3)));
    assert!(!fits(&rest, std::time::Duration::from_millis(2999)));
}

/// The load balancer as far as actions change it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Model {
    route: Forward,
    targets: BTreeMap<String, BTreeSet<Target>>,
    rules: BTreeSet<u32>,
    recorded: bool,
}

impl Model {
    fn apply(&mut self, a: &Action) {
        match a {
            Action::Record => self.recorded = true,
            Action::Unrecord => self.recorded = false,
            Action::Register { group, targets } => {
                let set = self.targets.entry(group.arn.clone()).or_default();
                set.extend(targets.iter().cloned());
            }
            Action::Deregister { group, targets } => {
                let set = self.targets.entry(group.arn.clone()).or_default();
                targets.iter().for_each(|t| {
                    set.remove(t);
                });
            }
            Action::WriteRoute(w) => {
                assert_eq!(self.route, w.from, "each write starts where the last ended");
                self.route = w.to.clone();
            }
            Action::CreateRule(r) => {
                self.rules.insert(r.priority);
            }
            Action::DeleteRule(r) => {
                self.rules.remove(&r.priority);
            }
            // A rule's forward is not part of the goal: the rule goes.
            Action::WriteRule(_) => {}
            Action::AwaitHealthy { .. } | Action::AwaitDrained { .. } | Action::Bake(_) => {}
        }
    }
}

/// A plan with every action kind: register green, shift, create a rule,
/// promote, delete a rule that was there before, deregister blue.
fn every_kind() -> Vec<Action> {
    let (g, b) = (group("green", Role::Green), group("blue", Role::Blue));
    vec![
        Action::Record,
        Action::Register {
            group: g.clone(),
            targets: t("g1"),
        },
        Action::AwaitHealthy {
            group: g,
            targets: t("g1"),
        },
        write(0, 100),
        bake(),
        Action::CreateRule(rule(10)),
        write(100, 500),
        bake(),
        write(500, 1000),
        Action::DeleteRule(rule(20)),
        Action::Deregister {
            group: b.clone(),
            targets: t("b1"),
        },
        Action::AwaitDrained {
            group: b,
            targets: t("b1"),
        },
        bake(),
        Action::Unrecord,
    ]
}

#[test]
fn a_failure_at_every_position_is_undone_to_the_state_before_the_run() {
    let before = Model {
        route: fwd(0),
        targets: BTreeMap::from([("blue".to_string(), t("b1").into_iter().collect())]),
        rules: BTreeSet::from([20]),
        recorded: false,
    };
    let plan = every_kind();
    // The last action is the record's removal: a failure there is no revert.
    for failed_at in 0..plan.len() - 1 {
        for sent in [false, true] {
            let applied = &plan[..failed_at + usize::from(sent)];
            for mode in [AbortMode::Flip, AbortMode::Gradual] {
                let mut m = before.clone();
                applied.iter().for_each(|a| m.apply(a));
                let revert = derive(applied, mode);
                revert.iter().for_each(|a| m.apply(a));
                let mut want = before.clone();
                // Emptied groups stay in the map; compare their targets.
                want.targets.entry("green".into()).or_default();
                m.targets.entry("green".into()).or_default();
                assert_eq!(
                    m, want,
                    "failed at {failed_at} sent {sent} {mode:?}: {revert:?}"
                );
                let writes = revert.iter().filter(|a| a.route_write().is_some()).count();
                if mode == AbortMode::Flip {
                    assert!(writes <= 1, "a flip is one route write at most");
                }
            }
        }
    }
}
