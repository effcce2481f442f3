//! A run as a plan: the ordered actions a strategy's planner produced, with
//! what the run record needs to name (the route before the run, the green
//! group). Pure helpers the executor uses to refine a plan with what it
//! read live (which targets a group already has).

use super::action::{Action, Group, Role};
use crate::alb::{Forward, HealthState, Target, TargetHealth};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The strategy's name, as the run record and the report give it.
    pub strategy: &'static str,
    /// The route exactly as preflight read it: the drift check before the
    /// first write, and what a revert (or `rollback`) restores.
    pub original: Forward,
    pub blue: String,
    pub green: String,
    /// How a revert moves traffic back.
    pub abort: super::AbortMode,
    pub actions: Vec<Action>,
}

impl Plan {
    /// The role a target group plays in this run, for messages.
    pub fn role_of(&self, arn: &str) -> Role {
        match arn == self.green {
            true => Role::Green,
            false => Role::Blue,
        }
    }

    /// The run's other routes with their originals (what the first
    /// `WriteOthers` reads before it); empty for a one-route run. A rule
    /// run never writes its routes: its other routes are those its later
    /// rules split (`Carry::from`), recorded with the first route's
    /// original, which preflight checked each of them forwards like.
    pub fn others(&self) -> Vec<(crate::alb::RouteRef, Forward)> {
        if crate::alb::state_tags::RULE_ONLY_STRATEGIES.contains(&self.strategy) {
            let mut routes: Vec<crate::alb::RouteRef> = vec![];
            for a in &self.actions {
                if let Action::CreateRule(r) = a {
                    let from = r.carry.from.clone();
                    if let Some(route) = from.filter(|f| !routes.contains(f)) {
                        routes.push(route);
                    }
                }
            }
            return (routes.into_iter().skip(1))
                .map(|r| (r, self.original.clone()))
                .collect();
        }
        let first = self.actions.iter().find_map(|a| match a {
            Action::WriteOthers(ws) => Some(ws),
            _ => None,
        });
        (first.into_iter().flatten())
            .map(|w| (w.route.clone(), w.from.clone()))
            .collect()
    }

    /// Another route's green: the group its last write gives the most
    /// weight (the promotion), which on another load balancer is that
    /// load balancer's own green; the plan's green otherwise.
    pub fn green_of(&self, route: &crate::alb::RouteRef) -> String {
        let last = (self.actions.iter().rev())
            .filter_map(|a| match a {
                Action::WriteOthers(ws) => ws.iter().find(|w| w.route == *route),
                _ => None,
            })
            .next();
        last.and_then(|w| w.to.groups.iter().max_by_key(|g| g.weight))
            .map_or(self.green.clone(), |g| g.target_group_arn.clone())
    }

    /// How many traffic steps the plan writes (for progress).
    pub fn steps(&self) -> usize {
        self.actions
            .iter()
            .filter_map(Action::route_write)
            .filter(|w| matches!(w.purpose, super::Purpose::Step { .. }))
            .count()
    }

    /// What the run will do, for its first line: a canary's steps, the
    /// blue-green switch, rolling's rounds.
    pub fn shape(&self) -> String {
        let bakes = (self.actions.iter())
            .filter(|a| matches!(a, Action::Bake(_)))
            .count();
        match (self.strategy, self.steps()) {
            ("rolling", _) if self.actions.iter().any(|a| matches!(a, Action::Deploy(_))) => {
                format!(
                    "{bakes} batch{} in place",
                    if bakes == 1 { "" } else { "es" }
                )
            }
            ("rolling", _) => format!("{bakes} round{}", if bakes == 1 { "" } else { "s" }),
            ("blue-green", _) => "one switch to green".into(),
            ("ab" | "dark", _) => "one rule to green".into(),
            ("shadow", _) => "a replay to green through one rule".into(),
            (_, 1) => "1 step".into(),
            (_, n) => format!("{n} steps"),
        }
    }

    /// The sum of the plan's holds (a replay's `--duration` at most).
    pub fn total_bake(&self) -> std::time::Duration {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Bake(b) => Some(b.duration),
                Action::Shadow(s) => Some(s.duration),
                _ => None,
            })
            .sum()
    }

    /// Groups the plan registers targets in, with the targets asked for.
    pub fn registers(&self) -> Vec<(&Group, &[Target])> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Register { group, targets } => Some((group, targets.as_slice())),
                _ => None,
            })
            .collect()
    }

    /// The targets the run registers: what the record lists so that a
    /// revert or `rollback` removes them, and only them.
    pub fn registered(&self) -> Vec<Target> {
        self.registers()
            .into_iter()
            .flat_map(|(_, t)| t.iter().cloned())
            .collect()
    }

    /// The plan with targets `group` already has (and that are not leaving)
    /// dropped from its registrations: a revert must not take away a target
    /// the run never added. A registration left empty is dropped whole.
    pub fn without_present(mut self, group: &str, present: &[TargetHealth]) -> Plan {
        let has = |t: &Target| {
            present.iter().any(|h| {
                h.target.id == t.id
                    && (t.port.is_none() || h.target.port == t.port)
                    && !matches!(
                        h.state,
                        HealthState::Draining | HealthState::UnhealthyDraining
                    )
            })
        };
        for a in self.actions.iter_mut() {
            if let Action::Register { group: g, targets } = a {
                if g.arn == group {
                    targets.retain(|t| !has(t));
                }
            }
        }
        self.actions
            .retain(|a| !matches!(a, Action::Register { targets, .. } if targets.is_empty()));
        self
    }
}
