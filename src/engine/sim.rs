//! A pure model of a load balancer: a route, groups of targets with
//! health as AWS reports it (a group no route forwards to reads `unused`),
//! the run's rules. Plans are applied to it action by action to reach
//! every state a run can stop in, and the convergence runs on it step by
//! step as the executor would: the tests of every strategy's revert, and
//! `--dry-run`'s projection of the revert's calls.

use super::action::Action;
use super::converge::{self, Context, RuleSeen, Snapshot, Step};
use super::goal::Goal;
use crate::alb::state_tags::{self, Deregistered, RunRecord};
use crate::alb::{Forward, HealthState, RouteAction, Target, TargetHealth};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct World {
    pub route: Forward,
    /// The run's other routes, by the ARN that owns each.
    pub others: BTreeMap<String, Forward>,
    pub health: BTreeMap<String, Vec<TargetHealth>>,
    /// (listener, priority, carries the run's tag)
    pub rules: Vec<(String, u32, bool)>,
    /// The listener `Goal::rules` names (the first route's); `None`: any
    /// listener's rule at those priorities is the run's.
    pub listener: Option<String>,
    /// Targets that never pass a health check (a stopped instance).
    pub broken: Vec<Target>,
}

fn th(t: &Target, state: HealthState) -> TargetHealth {
    TargetHealth {
        target: t.clone(),
        state,
        reason: (state == HealthState::Unused).then(|| "Target.NotInUse".into()),
    }
}

impl World {
    pub fn new(route: Forward, groups: &[(&str, Vec<Target>)]) -> World {
        let mut w = World {
            route,
            others: BTreeMap::new(),
            health: BTreeMap::new(),
            rules: vec![],
            listener: None,
            broken: vec![],
        };
        for (arn, ts) in groups {
            let list = ts.iter().map(|t| th(t, HealthState::Healthy)).collect();
            w.health.insert(arn.to_string(), list);
        }
        w.refresh();
        w
    }

    /// AWS health-checks only groups a route forwards to.
    fn refresh(&mut self) {
        let broken = self.broken.clone();
        for (arn, list) in self.health.iter_mut() {
            let used = std::iter::once(&self.route)
                .chain(self.others.values())
                .any(|f| f.weight_of(arn).is_some());
            for h in list.iter_mut() {
                let next = match (used, h.state) {
                    (false, _) => HealthState::Unused,
                    (true, HealthState::Unused) => HealthState::Initial,
                    (true, s) => s,
                };
                *h = th(&h.target, next);
                if used && broken.contains(&h.target) && h.state != HealthState::Initial {
                    h.state = HealthState::Unhealthy;
                }
            }
        }
    }

    /// Time passes: every checked target settles to healthy or unhealthy.
    fn checks_pass(&mut self, arn: &str) {
        let broken = self.broken.clone();
        for h in self.health.entry(arn.into()).or_default() {
            if h.state == HealthState::Initial {
                h.state = match broken.contains(&h.target) {
                    true => HealthState::Unhealthy,
                    false => HealthState::Healthy,
                };
            }
        }
    }

    fn register(&mut self, arn: &str, ts: &[Target]) {
        let list = self.health.entry(arn.into()).or_default();
        for t in ts {
            list.retain(|h| h.target != *t);
            list.push(th(t, HealthState::Initial));
        }
        self.refresh();
    }

    fn deregister(&mut self, arn: &str, ts: &[Target]) {
        if let Some(list) = self.health.get_mut(arn) {
            list.retain(|h| !ts.contains(&h.target));
        }
    }

    /// Apply one of a run's forward actions.
    pub fn forward(&mut self, a: &Action) {
        match a {
            Action::Register { group, targets } => self.register(&group.arn, targets),
            Action::Deregister { group, targets } => self.deregister(&group.arn, targets),
            Action::AwaitHealthy { group, .. } => self.checks_pass(&group.arn),
            Action::WriteRoute(w) => {
                self.route = w.to.clone();
                self.refresh();
            }
            Action::WriteOthers(ws) => {
                for w in ws {
                    self.others.insert(w.route.owner_arn().into(), w.to.clone());
                }
                self.refresh();
            }
            Action::CreateRule(r) => self.rules.push((r.listener_arn.clone(), r.priority, true)),
            Action::DeleteRule(r) => {
                (self.rules).retain(|(l, p, _)| !(*l == r.listener_arn && *p == r.priority))
            }
            _ => {}
        }
    }

    pub fn snapshot(&self, goal: &Goal) -> Snapshot {
        let health = (goal.groups_to_read().into_iter())
            .map(|g| {
                let h = self.health.get(&g).cloned().unwrap_or_default();
                (g, h)
            })
            .collect();
        let first = |l: &String| self.listener.as_ref().is_none_or(|x| x == l);
        let rules = (self.rules.iter())
            .filter(|(l, p, ours)| {
                let other = goal.other_rules.contains(&(l.clone(), *p));
                *ours && (other || (first(l) && goal.rules.contains(p)))
            })
            .map(|(l, p, _)| RuleSeen {
                arn: format!("{l}/rule/{p}"),
                priority: *p,
            })
            .collect();
        Snapshot {
            route: goal
                .route
                .as_ref()
                .map(|_| RouteAction::Forward(self.route.clone())),
            health,
            rules,
            others: (goal.others.iter())
                .filter_map(|o| {
                    let arn = o.route.owner_arn();
                    let f = self.others.get(arn)?;
                    Some((arn.to_string(), RouteAction::Forward(f.clone())))
                })
                .collect(),
        }
    }

    /// One step as the executor applies it; the context learns what a
    /// wait that ran out or a settle tells it.
    pub fn apply(&mut self, step: &Step, ctx: &mut Context) {
        match step {
            Step::DeleteRule(r) => {
                self.rules
                    .retain(|(l, p, _)| format!("{l}/rule/{p}") != r.arn);
                (ctx.moved, ctx.settled) = (true, false);
            }
            Step::Register { group, targets } => self.register(&group.arn, targets),
            Step::Attach { to, .. } | Step::WriteRoute { to, .. } => {
                self.route = to.clone();
                self.refresh();
                (ctx.moved, ctx.settled) = (true, false);
            }
            Step::WriteOther { route, to } => {
                self.others.insert(route.owner_arn().into(), to.clone());
                self.refresh();
                (ctx.moved, ctx.settled) = (true, false);
            }
            Step::AwaitFloor { group, floor, .. } => {
                self.checks_pass(&group.arn);
                let healthy = (self.health.get(&group.arn).into_iter().flatten())
                    .filter(|h| h.state == HealthState::Healthy)
                    .count();
                if healthy < *floor {
                    ctx.waited.push(group.arn.clone());
                }
            }
            Step::Settle => ctx.settled = true,
            Step::Deregister { group, targets } => self.deregister(&group.arn, targets),
            Step::AwaitDrained { .. } => {}
            Step::Undo { batch, .. } => ctx.undone.push(*batch),
            Step::AwaitHealthy {
                group,
                targets,
                batch,
            } => {
                self.checks_pass(&group.arn);
                let list = self.health.get(&group.arn).cloned().unwrap_or_default();
                let ok = targets.iter().all(|t| {
                    list.iter()
                        .any(|h| h.target == *t && h.state == HealthState::Healthy)
                });
                if !ok {
                    ctx.unhealthy.push(*batch);
                }
            }
        }
    }

    /// Converge to `goal`; the steps taken. Panics on a convergence that
    /// does not end.
    pub fn converge(&mut self, goal: &Goal, mut ctx: Context) -> Vec<Step> {
        let mut taken = vec![];
        for _ in 0..64 {
            let Some(step) = converge::plan(goal, &self.snapshot(goal), &ctx)
                .into_iter()
                .next()
            else {
                return taken;
            };
            self.apply(&step, &mut ctx);
            taken.push(step);
        }
        panic!("no convergence after 64 steps: {taken:?}");
    }
}

/// The record a run has written when action `at` of `actions` fails
/// (everything recorded before its send included), read back as
/// `rollback` would after a `kill -9` there.
pub fn record_at(
    actions: &[Action],
    at: usize,
    original: &Forward,
    green: &str,
    strategy: &str,
) -> RunRecord {
    let upto = &actions[..(at + 1).min(actions.len())];
    let registered: Vec<Target> = (actions.iter())
        .filter_map(|a| match a {
            Action::Register { group, targets } if group.arn == green => Some(targets.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let mut deregistered: Option<Deregistered> = None;
    let mut rules = vec![];
    let mut promoted = false;
    for a in upto {
        match a {
            Action::Deregister { group, targets } if group.arn != green => {
                let d = deregistered.get_or_insert(Deregistered {
                    group: group.arn.clone(),
                    targets: vec![],
                });
                d.targets.extend(targets.iter().cloned());
            }
            Action::CreateRule(r) => rules.push(r.priority),
            _ => {}
        }
    }
    let drains = actions
        .iter()
        .any(|a| matches!(a, Action::Deregister { group, .. } if group.arn != green));
    if let Some(p) = actions.iter().position(|a| {
        matches!(a, Action::WriteRoute(w) if matches!(w.purpose, super::Purpose::Promote { .. }))
    }) {
        promoted = p < at && !drains;
    }
    let r = RunRecord {
        run_id: "r-1".into(),
        strategy: strategy.into(),
        started: 1,
        generation: 0,
        step: if promoted {
            state_tags::PROMOTED_STEP.into()
        } else {
            "starting".into()
        },
        green_arn: green.into(),
        original: original.clone(),
        registered,
        deregistered,
        rules,
        routes: vec![],
    };
    state_tags::decode(&state_tags::encode(&r))
        .expect("record decodes")
        .expect("record present")
}

/// The convergence of a route run whose action `at` failed (after its
/// send, when `sent`), blue with `blue` targets before the run: the steps
/// it takes, as the live run's flip and `rollback` take them.
pub fn route_revert(plan: &super::Plan, at: usize, sent: bool, blue: &[Target]) -> Vec<Step> {
    let mut w = World::new(
        plan.original.clone(),
        &[
            (plan.blue.as_str(), blue.to_vec()),
            (plan.green.as_str(), vec![]),
        ],
    );
    let applied = &plan.actions[..(at + usize::from(sent)).min(plan.actions.len())];
    applied.iter().for_each(|a| w.forward(a));
    let record = record_at(
        &plan.actions,
        at,
        &plan.original,
        &plan.green,
        plan.strategy,
    );
    let goal = Goal::of_route_record(&record);
    let steps = w.converge(&goal, Context::default());
    assert!(
        converge::differences(&goal, &w.snapshot(&goal)).is_empty(),
        "not at the goal after {steps:?}"
    );
    steps
}

/// The convergence of a group run after `applied`, from `original`.
pub fn group_revert(arn: &str, original: &[Target], applied: &[Action]) -> Vec<Step> {
    let mut w = World::new(Forward::single(arn), &[(arn, original.to_vec())]);
    applied.iter().for_each(|a| w.forward(a));
    let goal = Goal::of_group(arn, original);
    w.converge(&goal, Context::default())
}
