//! Where `--hook` commands go in any strategy's plan, decided once for
//! every strategy from the plan's own actions (pure, table-tested):
//! - `pre-traffic` just before the first action that can send green
//!   requests (a step or promotion write, a rule's forward to green, a hold,
//!   rolling's first registration): green is healthy by then, and a preview
//!   rule, when there is one, is live;
//! - `post-step` after each hold (not the preview's): it passed its analysis;
//! - `pre-promote` just before the promotion write, or without one after
//!   the last hold (before the rule's removal, the record's);
//! - `post-promote` after the run record is removed: nothing is left to undo;
//! - `post-revert` at the end, run by the engine only after a verified revert.

use crate::alb::{Forward, Target};
use crate::engine::{Action, HookSpec, HookStage, Plan, Purpose};
use crate::plan::Tenths;
use std::time::Duration;

/// The validated `--hook` flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    /// In the order given: hooks of one stage run in this order.
    pub list: Vec<(HookStage, String)>,
    pub timeout: Duration,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Walking the plan: what a hook placed here is told.
struct At<'a> {
    hooks: &'a Hooks,
    preview: Option<&'a str>,
    preview_live: bool,
    step: usize,
    percent: Tenths,
    targets: Vec<Target>,
}

impl At<'_> {
    fn specs(&self, stage: HookStage) -> Vec<Action> {
        let preview_header = match self.preview_live {
            true => self.preview.map(str::to_string),
            false => None,
        };
        (self.hooks.list.iter())
            .filter(|(s, _)| *s == stage)
            .map(|(_, command)| {
                Action::Hook(HookSpec {
                    stage,
                    command: command.clone(),
                    timeout: self.hooks.timeout,
                    step: self.step,
                    green_percent: self.percent,
                    targets: self.targets.clone(),
                    preview_header: preview_header.clone(),
                })
            })
            .collect()
    }
}

fn gives_green(f: &Forward, green: &str) -> bool {
    f.weight_of(green).is_some_and(|w| w > 0)
}

/// Whether `a` can send green requests (the first one gets `pre-traffic`).
fn sends_traffic(plan: &Plan, a: &Action, preview: bool) -> bool {
    match a {
        Action::Bake(_) | Action::WriteRule(_) => true,
        Action::WriteRoute(w) => {
            matches!(w.purpose, Purpose::Step { .. } | Purpose::Promote { .. })
        }
        Action::CreateRule(r) => !preview && gives_green(&r.forward, &plan.green),
        // Rolling works inside the serving group: any change there is traffic.
        Action::Register { .. } | Action::Deregister { .. } => plan.strategy == "rolling",
        _ => false,
    }
}

/// The plan with every hook at its place. `preview` is the preview header
/// (`NAME=VALUE`) when the plan has a preview rule.
pub fn place(mut plan: Plan, hooks: &Hooks, preview: Option<&str>) -> Plan {
    if hooks.is_empty() {
        return plan;
    }
    let registered = plan.registered();
    let actions = std::mem::take(&mut plan.actions);
    // The promotion write when there is one (the full deploy's batches
    // after it have holds of their own); else after the last hold.
    let promotes = |a: &Action| matches!(a, Action::WriteRoute(w) if matches!(w.purpose, Purpose::Promote { .. }));
    let promote_at = actions.iter().position(promotes).or_else(|| {
        let last_bake = actions.iter().rposition(|a| matches!(a, Action::Bake(_)));
        last_bake.map(|i| i + 1)
    });
    let rolling = plan.strategy == "rolling";
    let mut at = At {
        hooks,
        preview,
        preview_live: false,
        step: 0,
        percent: Tenths(0),
        targets: first_batch(&registered, &actions, rolling),
    };
    let mut out = Vec::with_capacity(actions.len() + hooks.list.len());
    let mut pre_traffic = false;
    for (i, a) in actions.into_iter().enumerate() {
        if !pre_traffic && sends_traffic(&plan, &a, preview.is_some()) {
            out.extend(at.specs(HookStage::PreTraffic));
            pre_traffic = true;
        }
        if Some(i) == promote_at || (promote_at.is_none() && a == Action::Unrecord) {
            out.extend(at.specs(HookStage::PrePromote));
        }
        match &a {
            Action::CreateRule(_) if preview.is_some() => at.preview_live = true,
            Action::DeleteRule(_) if preview.is_some() => at.preview_live = false,
            Action::Register { targets, .. } if rolling => at.targets = targets.clone(),
            Action::WriteRoute(w) if matches!(w.purpose, Purpose::Promote { .. }) => {
                at.percent = Tenths::FULL
            }
            _ => {}
        }
        let post_step = match &a {
            Action::Bake(b) if !(at.preview_live && b.percent == Tenths(0)) => Some(b.clone()),
            _ => None,
        };
        let unrecord = a == Action::Unrecord;
        out.push(a);
        if let Some(b) = post_step {
            at.step = b.step + 1;
            at.percent = b.percent;
            out.extend(at.specs(HookStage::PostStep));
        }
        if unrecord {
            at.targets = registered.clone();
            out.extend(at.specs(HookStage::PostPromote));
        }
    }
    out.extend(at.specs(HookStage::PostRevert));
    plan.actions = out;
    plan
}

/// The batch a hook before the first step is given: rolling's first round,
/// or every target the run registers.
fn first_batch(registered: &[Target], actions: &[Action], rolling: bool) -> Vec<Target> {
    let first = actions.iter().find_map(|a| match a {
        Action::Register { targets, .. } => Some(targets.clone()),
        _ => None,
    });
    match (rolling, first) {
        (true, Some(t)) => t,
        _ => registered.to_vec(),
    }
}

#[cfg(test)]
#[path = "hooks_tests.rs"]
mod tests;
