//! What a revert converges to: the state a run record says was there
//! before the run. Built from the record alone, so the live run (from the
//! record it wrote) and `rollback` (from the record it read after a
//! `kill -9`) aim at the same goal.
//!
//! - The route exactly as it was (`RunRecord::original`), unless the run
//!   never writes it (`ab`, `dark`) or its promotion was confirmed.
//! - Each group's original targets, with port and zone: blue holds every
//!   target the run took out (`deregistered`), green none of the ones it
//!   added (`registered`); a group run's group holds exactly its original
//!   set.
//! - No rule at a recorded priority carries the run's tag, on the first
//!   route's listener (`rules`) nor on another route's (`other_rules`: a
//!   rule run over several routes records each rule on its own route).
//! - Every other route of a multi-route run (`others`) exactly as its own
//!   record has it (`with_others`).

use super::action::{Group, Role};
use crate::alb::group_record::GroupRecord;
use crate::alb::state_tags::{RunRecord, PROMOTED_STEP};
use crate::alb::{Forward, RouteRef, Target};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// The route before the run; `None`: the revert leaves it alone.
    pub route: Option<Forward>,
    pub groups: Vec<GroupGoal>,
    /// Priorities of the rules the run recorded (before each CreateRule):
    /// none of them may carry the run's tag.
    pub rules: Vec<u32>,
    /// (listener ARN, priority) of the rules recorded on the run's other
    /// routes (`ab`/`dark` over several routes): none may carry the tag.
    pub other_rules: Vec<(String, u32)>,
    /// The run's other routes (`--listener`/`--rule` given more than
    /// once): each goes back to its own original after the first route.
    pub others: Vec<RouteGoal>,
    /// `rolling --in-place --undo`: the batches whose deploy started,
    /// newest first, each taken out, given `--undo` and put back healthy
    /// before the next (`converge_undo`).
    pub undo: Vec<Vec<Target>>,
    /// An in-place run's revert ends with every target it holds healthy
    /// (waited for once, `--health-timeout`): they are the group's only
    /// capacity.
    pub healthy: bool,
}

/// Another route of the run and what it must read again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteGoal {
    pub route: RouteRef,
    pub original: Forward,
}

/// One group's targets as the goal has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupGoal {
    pub group: Group,
    /// Targets the group must hold again.
    pub present: Vec<Target>,
    /// Targets it must not hold.
    pub absent: Vec<Target>,
    /// The group must hold `present` and nothing else (a group run).
    pub exact: bool,
}

impl GroupGoal {
    /// Whether a live target is one the goal removes.
    pub fn removes(&self, t: &Target) -> bool {
        match self.exact {
            true => !self.present.contains(t),
            false => self.absent.contains(t),
        }
    }
}

impl Goal {
    /// The goal of a route's run record. A confirmed promotion stands:
    /// nothing but the record is undone.
    pub fn of_route_record(r: &RunRecord) -> Goal {
        if r.step == PROMOTED_STEP {
            return Goal::nothing();
        }
        let mut groups = vec![];
        if !r.registered.is_empty() {
            groups.push(GroupGoal {
                group: Group {
                    arn: r.green_arn.clone(),
                    role: Role::Green,
                },
                present: vec![],
                absent: r.registered.clone(),
                exact: false,
            });
        }
        if let Some(d) = r.deregistered.as_ref().filter(|d| !d.targets.is_empty()) {
            groups.push(GroupGoal {
                group: Group {
                    arn: d.group.clone(),
                    role: Role::Blue,
                },
                present: d.targets.clone(),
                absent: vec![],
                exact: false,
            });
        }
        Goal {
            route: r.moves_route().then(|| r.original.clone()),
            groups,
            rules: r.rules.clone(),
            other_rules: vec![],
            others: vec![],
            undo: vec![],
            healthy: false,
        }
    }

    /// The goal of a multi-route run: this one's, and each other route
    /// back to the original its own record holds. Once any of the run's
    /// records reads `promoted`, every route stays (the others are promoted
    /// before the first route, whose record is marked last); a rule-only
    /// run writes no route: its goal is every route's rules gone.
    pub fn with_others(mut self, primary: &RunRecord, others: &[(RouteRef, RunRecord)]) -> Goal {
        if others.iter().any(|(_, r)| r.step == PROMOTED_STEP) {
            return Goal::nothing();
        }
        if primary.step != PROMOTED_STEP && !primary.moves_route() {
            self.other_rules = (others.iter())
                .flat_map(|(route, r)| {
                    r.rules
                        .iter()
                        .map(|p| (route.listener_arn().to_string(), *p))
                })
                .collect();
            return self;
        }
        if primary.step == PROMOTED_STEP {
            return self;
        }
        self.others = (others.iter())
            .map(|(route, r)| RouteGoal {
                route: route.clone(),
                original: r.original.clone(),
            })
            .collect();
        self
    }

    /// The goal of a group run: the group's exact original set.
    pub fn of_group(arn: &str, original: &[Target]) -> Goal {
        Goal {
            route: None,
            groups: vec![GroupGoal {
                group: Group {
                    arn: arn.to_string(),
                    role: Role::Blue,
                },
                present: original.to_vec(),
                absent: vec![],
                exact: true,
            }],
            rules: vec![],
            other_rules: vec![],
            others: vec![],
            undo: vec![],
            healthy: false,
        }
    }

    /// A group record's goal: its exact original; with `undo` (an undo
    /// command was given), an in-place run's started batches undone too.
    pub fn of_group_record(arn: &str, r: &GroupRecord, undo: bool) -> Goal {
        let mut g = Goal::of_group(arn, &r.original);
        g.healthy = r.in_place.is_some();
        if let Some(p) = r.in_place.as_ref().filter(|_| undo) {
            g.undo = p.started_newest_first();
        }
        g
    }

    /// An in-place run that failed without `--undo`: `out` (the batch that
    /// failed after its deploy started) stays out of the group, every
    /// other original target is in it.
    pub fn of_group_without(arn: &str, original: &[Target], out: &[Target]) -> Goal {
        let rest: Vec<Target> = (original.iter())
            .filter(|t| !out.contains(t))
            .cloned()
            .collect();
        Goal {
            healthy: true,
            ..Goal::of_group(arn, &rest)
        }
    }

    /// A goal with nothing to restore (only the record goes).
    pub fn nothing() -> Goal {
        Goal {
            route: None,
            groups: vec![],
            rules: vec![],
            other_rules: vec![],
            others: vec![],
            undo: vec![],
            healthy: false,
        }
    }

    /// The target groups whose health the convergence reads: the goal's
    /// groups and every group of the goal route.
    pub fn groups_to_read(&self) -> Vec<String> {
        let mut out: Vec<String> = self.groups.iter().map(|g| g.group.arn.clone()).collect();
        let others = self.others.iter().map(|o| &o.original);
        for g in self
            .route
            .iter()
            .chain(others)
            .flat_map(|f| f.groups.iter())
        {
            if !out.contains(&g.target_group_arn) {
                out.push(g.target_group_arn.clone());
            }
        }
        out
    }

    pub fn group(&self, arn: &str) -> Option<&GroupGoal> {
        self.groups.iter().find(|g| g.group.arn == arn)
    }
}
