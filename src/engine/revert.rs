//! Deriving a revert from what was applied: the inverse of every applied
//! action in reverse order (see `Action::inverse`), then the route writes
//! shaped by the abort mode. Pure; `docs/reliability.md` says why each
//! rule holds.
//!
//! - `flip` (the default): every route write collapses into one write of
//!   the route as it was before the run, placed where the inverse of the
//!   run's first route write falls, so whatever was applied after that
//!   write (a deregistration, a rule) is undone before traffic goes back.
//! - `gradual`: the route steps back through the weights the run applied,
//!   newest first, each a verified write; writes that change nothing are
//!   dropped. After a cancel a ramp that does not fit the remaining
//!   budget falls back to a flip (`fits`, `coalesce`).
//!
//! Every revert of a run that wrote its record ends by removing it.

use super::action::{Action, Purpose, RouteWrite};
use serde::Serialize;
use std::time::Duration;

/// How a revert moves traffic back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AbortMode {
    /// One write of the route as it was before the run.
    #[default]
    Flip,
    /// Back through the applied weights in reverse, one verified write each.
    Gradual,
}

/// The pause between two steps of a gradual abort after a failed check or
/// an error: long enough for blue's connection pools and caches to take
/// the step, short because green may be failing requests meanwhile. After
/// a cancel there is no pause (the budget is for writes).
pub const RAMP_PAUSE: Duration = Duration::from_secs(5);
/// What one revert route write and its read-back is budgeted at.
pub const WRITE_ESTIMATE: Duration = Duration::from_secs(1);
/// What any other revert action (deregister, remove the record) is budgeted at.
pub const CALL_ESTIMATE: Duration = Duration::from_secs(1);

/// The revert for `applied` (in the order it was applied).
pub fn derive(applied: &[Action], mode: AbortMode) -> Vec<Action> {
    let inverses: Vec<Action> = applied.iter().rev().flat_map(Action::inverse).collect();
    let mut out = match mode {
        AbortMode::Flip => coalesce(inverses),
        AbortMode::Gradual => ramp(inverses),
    };
    if applied.contains(&Action::Record) {
        out.push(Action::Unrecord);
    }
    out
}

/// All route writes in `actions` as one: from what the first one expects
/// (the route now) to what the last one writes (the route before the run),
/// at the last one's place. Other actions keep their order.
pub fn coalesce(actions: Vec<Action>) -> Vec<Action> {
    let writes: Vec<&RouteWrite> = actions.iter().filter_map(Action::route_write).collect();
    let (Some(first), Some(last)) = (writes.first(), writes.last()) else {
        return actions;
    };
    let mut one = Some(Action::WriteRoute(RouteWrite {
        from: first.from.clone(),
        to: last.to.clone(),
        purpose: Purpose::Restore,
    }));
    let at = actions
        .iter()
        .rposition(|a| a.route_write().is_some())
        .unwrap_or(0);
    actions
        .into_iter()
        .enumerate()
        .filter_map(|(i, a)| match (i == at, a.route_write().is_some()) {
            (true, _) => one.take(),
            (false, true) => None,
            (false, false) => Some(a),
        })
        .collect()
}

/// The route writes as a ramp: no-op writes dropped, the rest numbered;
/// a ramp of one write is a plain restore.
fn ramp(actions: Vec<Action>) -> Vec<Action> {
    let kept: Vec<Action> = actions
        .into_iter()
        .filter(|a| !a.route_write().is_some_and(|w| w.from.same_routing(&w.to)))
        .collect();
    let of = kept.iter().filter(|a| a.route_write().is_some()).count();
    let mut index = 0;
    kept.into_iter()
        .map(|a| match a {
            Action::WriteRoute(w) => {
                let purpose = match of {
                    1 => Purpose::Restore,
                    _ => Purpose::RampBack { index, of },
                };
                index += 1;
                Action::WriteRoute(RouteWrite { purpose, ..w })
            }
            other => other,
        })
        .collect()
}

/// Whether `rest` (what is left of a revert) fits in `left`, at the
/// budgeted cost of each action.
pub fn fits(rest: &[Action], left: Duration) -> bool {
    let cost: Duration = rest
        .iter()
        .map(|a| match a {
            Action::WriteRoute(_) => WRITE_ESTIMATE,
            _ => CALL_ESTIMATE,
        })
        .sum();
    cost <= left
}

/// Whether a revert has more than one route write left (a ramp in progress).
pub fn ramping(rest: &[Action]) -> bool {
    rest.iter().filter(|a| a.route_write().is_some()).count() > 1
}

#[cfg(test)]
#[path = "revert_tests.rs"]
mod tests;
