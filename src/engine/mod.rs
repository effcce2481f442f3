//! The run's engine: steps through a plan of actions and, on a failure or
//! a cancel, turns the run into its revert: a convergence to the goal the
//! run record describes, shared with `rollback`. Pure, so every path
//! (promote, a revert from a failure at any position, a cancel, a revert
//! that cannot complete) is tested without I/O or time.
//!
//! `action` is the vocabulary, `plan` a run's ordered actions, `goal` what
//! a revert restores (from a run record), `converge` the planner that
//! closes the difference between a live snapshot and the goal (the run's
//! other routes in `converge_routes`; `converge_undo`: an in-place run's
//! batches undone newest first), `revert`
//! the abort mode, `scope` what a run owns (a route, or one target group).

pub mod action;
pub mod converge;
mod converge_routes;
pub mod converge_undo;
pub mod goal;
pub mod hook;
pub mod plan;
pub mod revert;
pub mod scope;
pub mod sim;

pub use action::{
    Action, BakeSpec, Carry, DeploySpec, Group, OtherWrite, Purpose, Role, RouteWrite, RuleSpec,
    RuleWrite, ShadowSpec,
};
pub use hook::{HookSpec, HookStage};
pub use plan::Plan;
pub use revert::AbortMode;
pub use scope::{GroupScope, Scope};

use serde::Serialize;

/// What the engine asks the executor to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Do(Action),
    /// Converge back to the run's goal, for this reason.
    Revert(Reason),
    /// Stop: the run's final state is in `Engine::outcome`.
    Finish,
}

/// Why a run did not promote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
pub enum Reason {
    /// An analysis check failed (message has the measured values).
    CheckFailed(String),
    /// SIGINT/SIGTERM (or the runner went away).
    Cancelled(String),
    /// An API call failed, a write could not be verified, green never got healthy.
    Error(String),
}

impl Reason {
    pub fn message(&self) -> &str {
        match self {
            Reason::CheckFailed(m) | Reason::Cancelled(m) | Reason::Error(m) => m,
        }
    }
}

/// What became of the action the engine asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Done,
    /// Failed before anything was sent: nothing to undo for this action.
    Failed(Reason),
    /// Failed after its change was sent (a write whose read-back never
    /// matched, a refused write that may have landed): undone like an
    /// applied one.
    FailedAfterSend(Reason),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Final {
    Promoted,
    /// The route is back as it was.
    Reverted {
        reason: Reason,
    },
    /// Failed before the first change: nothing to undo.
    NotStarted {
        reason: Reason,
    },
    /// The revert (or its cleanup) failed: something is left to fix by hand.
    RevertIncomplete {
        reason: Reason,
        error: String,
    },
    /// Promoted, then a `post-promote` hook failed: the route stays
    /// promoted and the run exits 1.
    PromotedHookFailed {
        reason: Reason,
    },
}

impl Final {
    /// The documented exit codes: 0 promoted, 1 reverted, 3 revert
    /// incomplete, 130 cancelled (and reverted). 2 is preflight, decided earlier.
    pub fn exit_code(&self) -> i32 {
        match self {
            Final::Promoted => 0,
            Final::Reverted {
                reason: Reason::Cancelled(_),
            }
            | Final::NotStarted {
                reason: Reason::Cancelled(_),
            } => 130,
            Final::Reverted { .. }
            | Final::NotStarted { .. }
            | Final::PromotedHookFailed { .. } => 1,
            Final::RevertIncomplete { .. } => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Forward,
    Reverting(Reason),
    /// Reverted; running the `post-revert` hooks, whose results change nothing.
    AfterRevert(Reason),
    Finished,
}

fn post_revert(a: &Action) -> bool {
    a.hook().is_some_and(|h| h.stage == HookStage::PostRevert)
}

/// Steps through a plan; on a failure or a cancel after the first change
/// it asks for the revert (`Command::Revert`), which the executor runs as
/// a convergence to the run's goal (`converge`), and turns its result into
/// the final state.
#[derive(Debug, Clone)]
pub struct Engine {
    phase: Phase,
    actions: Vec<Action>,
    /// Index of the action issued last.
    at: usize,
    applied: Vec<Action>,
    outcome: Option<Final>,
}

impl Engine {
    pub fn new(actions: Vec<Action>) -> Self {
        Engine {
            phase: Phase::Forward,
            actions,
            at: 0,
            applied: vec![],
            outcome: None,
        }
    }

    /// The first command of the run.
    pub fn start(&mut self) -> Command {
        self.at = self.forward_from(0);
        match self.actions.get(self.at) {
            Some(a) => Command::Do(a.clone()),
            None => self.finish(Final::Promoted),
        }
    }

    /// The first action at or after `i` that the forward run does:
    /// `post-revert` hooks run only after a revert.
    fn forward_from(&self, i: usize) -> usize {
        (i..self.actions.len())
            .find(|&j| !post_revert(&self.actions[j]))
            .unwrap_or(self.actions.len())
    }

    /// The next `post-revert` hook at or after `i`.
    fn post_revert_from(&self, i: usize) -> Option<usize> {
        (i..self.actions.len()).find(|&j| post_revert(&self.actions[j]))
    }

    pub fn outcome(&self) -> Option<&Final> {
        self.outcome.as_ref()
    }

    /// True once a failure or cancel turned the run into its revert.
    pub fn reverting(&self) -> bool {
        matches!(self.phase, Phase::Reverting(_))
    }

    /// What was applied (or sent) so far, in order.
    pub fn applied(&self) -> &[Action] {
        &self.applied
    }

    fn finish(&mut self, f: Final) -> Command {
        self.outcome = Some(f);
        self.phase = Phase::Finished;
        Command::Finish
    }

    pub fn next(&mut self, event: Event) -> Command {
        let Some(cur) = self.actions.get(self.at).cloned() else {
            return Command::Finish;
        };
        if let Phase::AfterRevert(reason) = self.phase.clone() {
            return self.next_post_revert(self.at + 1, reason);
        }
        if self.phase != Phase::Forward {
            return Command::Finish;
        }
        match event {
            Event::Done => {
                self.applied.push(cur);
                self.at = self.forward_from(self.at + 1);
                match self.actions.get(self.at) {
                    Some(a) => Command::Do(a.clone()),
                    None => self.finish(Final::Promoted),
                }
            }
            Event::FailedAfterSend(r) => {
                self.applied.push(cur.clone());
                self.fail(&cur, r)
            }
            Event::Failed(r) => self.fail(&cur, r),
        }
    }

    /// The revert's result: back at the goal (its record removed), or what is left.
    pub fn reverted(&mut self, result: Result<(), String>) -> Command {
        let Phase::Reverting(reason) = self.phase.clone() else {
            return Command::Finish;
        };
        match result {
            Ok(()) => self.next_post_revert(0, reason),
            Err(error) => self.finish(Final::RevertIncomplete { reason, error }),
        }
    }

    /// After a verified revert: the next `post-revert` hook, or the end.
    fn next_post_revert(&mut self, from: usize, reason: Reason) -> Command {
        match self.post_revert_from(from) {
            Some(i) => {
                self.at = i;
                self.phase = Phase::AfterRevert(reason);
                Command::Do(self.actions[i].clone())
            }
            None => self.finish(Final::Reverted { reason }),
        }
    }

    fn fail(&mut self, cur: &Action, r: Reason) -> Command {
        if cur.hook().is_some_and(|h| !h.stage.before_promotion()) {
            // After the promotion: the route stays as promoted.
            return self.finish(Final::PromotedHookFailed { reason: r });
        }
        if *cur == Action::Unrecord {
            // Everything else of the run is done; a record that could not
            // be removed does not undo it (the executor warns about it).
            return self.finish(Final::Promoted);
        }
        if self.applied.is_empty() {
            return self.finish(Final::NotStarted { reason: r });
        }
        self.phase = Phase::Reverting(r.clone());
        Command::Revert(r)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
#[path = "hook_tests.rs"]
mod hook_tests;
