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
    pub listener_arn: &'a str,
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

/// The rule the run creates: the segment forwarded to green alone, after
/// the default action's login steps.
pub fn rule(input: &RuleRunInput) -> RuleSpec {
    let route = RouteRef::new(input.listener_arn, None);
    RuleSpec {
        listener_arn: input.listener_arn.to_string(),
        priority: input.priority,
        conditions: input.conditions.clone(),
        forward: Forward::single(input.green),
        carry: Carry::from(&route, input.leading),
    }
}

pub fn plan(input: &RuleRunInput) -> Plan {
    let spec = rule(input);
    let green = Group {
        arn: input.green.to_string(),
        role: Role::Green,
    };
    let await_green = Action::AwaitHealthy {
        group: green,
        targets: vec![],
    };
    let mut actions = vec![Action::Record];
    if input.green_in_use {
        // A rule to a group with no healthy target would answer its
        // segment with 503s: green proves itself first.
        actions.extend([await_green, Action::CreateRule(spec.clone())]);
    } else {
        let attached = RuleSpec {
            forward: super::canary::attached(input.original, input.blue, input.green),
            ..spec.clone()
        };
        actions.extend([
            Action::CreateRule(attached.clone()),
            await_green,
            Action::WriteRule(RuleWrite {
                rule: attached,
                to: spec.forward.clone(),
            }),
        ]);
    }
    actions.push(Action::Bake(BakeSpec {
        step: 0,
        // The segment's share of green: all of it.
        percent: Tenths::FULL,
        duration: input.duration,
    }));
    if !input.keep {
        actions.push(Action::DeleteRule(spec));
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
