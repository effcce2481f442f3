//! The rule planners: `ab` (a segment of the listener's traffic to green
//! through a tagged rule, judged for `--duration`, compared with blue at
//! the end) and `dark` (the same rule where nothing public matches: green
//! reachable only by testers, probed through the load balancer). Both are
//! one plan shape:
//!
//! ```text
//! Record, AwaitHealthy green, CreateRule, Bake duration, [DeleteRule], Unrecord
//! ```
//!
//! When no listener or rule of the load balancer forwards to green yet,
//! AWS does not health-check it (its targets read `unused`), so green could
//! never prove itself first. The rule itself then puts green in use: it is
//! created forwarding where the route does, with green added at weight 0
//! (its requests still reach blue), and rewritten to its real forward once
//! green is healthy:
//!
//! ```text
//! Record, CreateRule (green at 0), AwaitHealthy green, WriteRule, Bake, [DeleteRule], Unrecord
//! ```
//!
//! A revert or `rollback` deletes the rule either way, the weight-0 entry
//! with it.
//!
//! `DeleteRule` is left out with `--keep`: the rule stays as an edge toggle
//! (`routes list` / `routes remove`). The route itself is never written, so
//! the revert the engine derives is the rule's deletion and the record's
//! removal, nothing else. The rule's priority is chosen at preflight
//! (`rule_priority`) and recorded before CreateRule is sent (executor).
//!
//! Over several routes (`--listener`/`--rule` given more than once, every
//! route forwarding to the same blue on one load balancer) each route gets
//! its own rule, placed among its listener's rules with its own conditions
//! and login; every action on a rule is done on each route's rule in turn,
//! the first route's first:
//!
//! ```text
//! Record, CreateRule r1 (green at 0), CreateRule r2 (green at 0), AwaitHealthy green,
//! WriteRule r1, WriteRule r2, Bake, [DeleteRule r1, DeleteRule r2], Unrecord
//! ```
//!
//! A failure anywhere reverts to the one goal: no rule of the run on any
//! of the listeners (`Goal::other_rules`).

use crate::alb::{Condition, Forward, LeadingAction, RouteRef};
use crate::engine::{AbortMode, Action, BakeSpec, Carry, Group, Plan, Role, RuleSpec, RuleWrite};
use crate::plan::Tenths;
use std::time::Duration;

/// The strategy names the run record, reports and `status` use.
pub const AB: &str = "ab";
pub const DARK: &str = "dark";

pub struct RuleRunInput<'a> {
    /// `AB` or `DARK`.
    pub strategy: &'static str,
    /// The first route: the rule splits its traffic.
    pub route: &'a RouteRef,
    /// The run's other routes, one rule each (same match, same forward).
    pub others: &'a [RouteRule],
    /// The listener's default action as preflight read it: untouched by
    /// the run, named in its record.
    pub original: &'a Forward,
    pub blue: &'a str,
    pub green: &'a str,
    pub priority: u32,
    pub conditions: Vec<Condition>,
    /// How long the rule lives with analysis (`--duration`).
    pub duration: Duration,
    /// Leave the rule after a successful run (`--keep`).
    pub keep: bool,
    /// The login steps before the listener's default forward: the rule
    /// carries them, so its segment logs in like everyone else.
    pub leading: &'a [LeadingAction],
    /// Whether a listener or rule of the load balancer already forwards to
    /// green (`Validated::green_in_use`), so AWS health-checks it.
    pub green_in_use: bool,
}

/// Another route of the run and where its rule goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    pub route: RouteRef,
    /// The route's forward as preflight read it (blue alone).
    pub original: Forward,
    /// On the route's listener.
    pub priority: u32,
    /// The route's own conditions (a `--rule`'s) and the run's `--match`.
    pub conditions: Vec<Condition>,
    /// The route's login steps, carried by its rule.
    pub leading: Vec<LeadingAction>,
}

/// The rule the run creates: the segment forwarded to green alone, after
/// the default action's login steps.
pub fn rule(input: &RuleRunInput) -> RuleSpec {
    RuleSpec {
        listener_arn: input.route.listener_arn().to_string(),
        priority: input.priority,
        conditions: input.conditions.clone(),
        forward: Forward::single(input.green),
        carry: Carry::from(input.route, input.leading),
    }
}

/// Each route's rule with its route's original, the first route's first.
fn rules(input: &RuleRunInput) -> Vec<(RuleSpec, Forward)> {
    let mut out = vec![(rule(input), input.original.clone())];
    for o in input.others {
        let spec = RuleSpec {
            listener_arn: o.route.listener_arn().to_string(),
            priority: o.priority,
            conditions: o.conditions.clone(),
            forward: Forward::single(input.green),
            carry: Carry::from(&o.route, &o.leading),
        };
        out.push((spec, o.original.clone()));
    }
    out
}

pub fn plan(input: &RuleRunInput) -> Plan {
    let specs = rules(input);
    let green = Group {
        arn: input.green.to_string(),
        role: Role::Green,
    };
    let await_green = Action::AwaitHealthy {
        group: green,
        targets: vec![],
    };
    let mut actions = vec![Action::Record];
    let created = |(s, _): &(RuleSpec, Forward)| Action::CreateRule(s.clone());
    if input.green_in_use {
        // A rule to a group with no healthy target would answer its
        // segment with 503s: green proves itself first.
        actions.push(await_green);
        actions.extend(specs.iter().map(created));
    } else {
        let attached: Vec<RuleSpec> = (specs.iter())
            .map(|(spec, original)| RuleSpec {
                forward: super::canary::attached(original, input.blue, input.green),
                ..spec.clone()
            })
            .collect();
        actions.extend(attached.iter().cloned().map(Action::CreateRule));
        actions.push(await_green);
        actions.extend(attached.into_iter().zip(&specs).map(|(rule, (s, _))| {
            Action::WriteRule(RuleWrite {
                rule,
                to: s.forward.clone(),
            })
        }));
    }
    actions.push(Action::Bake(BakeSpec {
        step: 0,
        // The segment's share of green: all of it.
        percent: Tenths::FULL,
        duration: input.duration,
    }));
    if !input.keep {
        actions.extend(specs.into_iter().map(|(s, _)| Action::DeleteRule(s)));
    }
    actions.push(Action::Unrecord);
    Plan {
        strategy: input.strategy,
        original: input.original.clone(),
        blue: input.blue.to_string(),
        green: input.green.to_string(),
        abort: AbortMode::Flip,
        actions,
    }
}

#[cfg(test)]
#[path = "ab_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "ab_multi_tests.rs"]
mod multi_tests;
