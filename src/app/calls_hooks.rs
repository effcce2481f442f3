//! The dry run's lines for `--hook`s: each hook at its place in the
//! forward calls, and the `post-revert` ones after the revert's calls.

use super::calls::{call, PlannedCall};
use crate::engine::{Action, Plan};

pub(super) fn post_revert(a: &Action) -> bool {
    a.hook()
        .is_some_and(|h| h.stage == crate::engine::HookStage::PostRevert)
}

/// The `post-revert` hooks, after the revert's own calls.
pub(super) fn post_revert_calls(plan: &Plan) -> Vec<PlannedCall> {
    (plan.actions.iter().filter_map(Action::hook))
        .filter(|h| h.stage == crate::engine::HookStage::PostRevert)
        .map(hook_call)
        .collect()
}

/// A hook at its place: not an API call, but the run waits for it there.
pub(super) fn hook_call(h: &crate::engine::HookSpec) -> PlannedCall {
    use crate::engine::HookStage;
    let then = match h.stage {
        HookStage::PostPromote => "a failure exits 1 and leaves the route promoted",
        HookStage::PostRevert => "only after a verified revert; a failure is reported",
        _ => "a failure reverts",
    };
    let timeout = humantime::format_duration(h.timeout);
    let cmd = crate::redact::text(&h.command);
    call(
        "hook",
        &h.label(),
        format!("sh -c {cmd:?} (timeout {timeout}; {then})"),
    )
}
