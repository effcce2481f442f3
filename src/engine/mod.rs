//! The run's engine: steps through a plan of actions and, on a failure or
//! a cancel, derives the revert from what was actually applied. Pure, so
//! every path (promote, revert on a failed check at any position, cancel,
//! a revert that cannot complete) is tested without I/O or time.
//!
//! `action` is the vocabulary and each action's inverse, `plan` a run's
//! ordered actions, `revert` the derivation (flip or gradual), `recorded`
//! what a run record says was applied (for `rollback` after `kill -9`),
//! `scope` what a run owns (a route, or one target group).

pub mod action;
pub mod plan;
pub mod recorded;
pub mod revert;
pub mod scope;

pub use action::{Action, BakeSpec, Group, Purpose, Role, RouteWrite, RuleSpec, RuleWrite};
pub use plan::Plan;
pub use revert::AbortMode;
pub use scope::{GroupScope, Scope};

use serde::Serialize;

/// What the engine asks the executor to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Do(Action),
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
            Final::Reverted { .. } | Final::NotStarted { .. } => 1,
            Final::RevertIncomplete { .. } => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Forward,
    Reverting(Reason),
    Finished,
}

#[derive(Debug, Clone)]
pub struct Engine {
    abort: AbortMode,
    phase: Phase,
    /// The current phase's actions: the plan, then the derived revert.
    queue: Vec<Action>,
    /// Index in `queue` of the action issued last.
    at: usize,
    applied: Vec<Action>,
    outcome: Option<Final>,
}

impl Engine {
    pub fn new(actions: Vec<Action>, abort: AbortMode) -> Self {
        Engine {
            abort,
            phase: Phase::Forward,
            queue: actions,
            at: 0,
            applied: vec![],
            outcome: None,
        }
    }

    /// The first command of the run.
    pub fn start(&mut self) -> Command {
        match self.queue.first() {
            Some(a) => Command::Do(a.clone()),
            None => self.finish(Final::Promoted),
        }
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

    /// The revert's actions from the current one on (empty when not reverting).
    pub fn revert_rest(&self) -> &[Action] {
        match self.phase {
            Phase::Reverting(_) => self.queue.get(self.at..).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Collapse what is left of a gradual revert into one write of the
    /// original route (the budget after a cancel is short), and reissue the
    /// current action as changed.
    pub fn flip_rest(&mut self) -> Command {
        if !self.reverting() {
            return self.current();
        }
        let rest = self.queue.split_off(self.at);
        self.queue.extend(revert::coalesce(rest));
        self.current()
    }

    fn current(&self) -> Command {
        match (&self.phase, self.queue.get(self.at)) {
            (Phase::Finished, _) | (_, None) => Command::Finish,
            (_, Some(a)) => Command::Do(a.clone()),
        }
    }

    fn finish(&mut self, f: Final) -> Command {
        self.outcome = Some(f);
        self.phase = Phase::Finished;
        Command::Finish
    }

    pub fn next(&mut self, event: Event) -> Command {
        let Some(cur) = self.queue.get(self.at).cloned() else {
            return Command::Finish;
        };
        match (self.phase.clone(), event) {
            (Phase::Finished, _) => Command::Finish,
            (Phase::Forward, Event::Done) => {
                self.applied.push(cur);
                self.advance(Final::Promoted)
            }
            (Phase::Forward, Event::FailedAfterSend(r)) => {
                self.applied.push(cur.clone());
                self.fail(&cur, r)
            }
            (Phase::Forward, Event::Failed(r)) => self.fail(&cur, r),
            (Phase::Reverting(reason), Event::Done) => self.advance(Final::Reverted { reason }),
            (Phase::Reverting(reason), Event::Failed(e) | Event::FailedAfterSend(e)) => self
                .finish(Final::RevertIncomplete {
                    reason,
                    error: e.message().to_string(),
                }),
        }
    }

    fn advance(&mut self, done: Final) -> Command {
        self.at += 1;
        match self.queue.get(self.at) {
            Some(a) => Command::Do(a.clone()),
            None => self.finish(done),
        }
    }

    fn fail(&mut self, cur: &Action, r: Reason) -> Command {
        if *cur == Action::Unrecord {
            // Everything else of the run is done; a record that could not
            // be removed does not undo it (the executor warns about it).
            return self.finish(Final::Promoted);
        }
        if self.applied.is_empty() {
            return self.finish(Final::NotStarted { reason: r });
        }
        self.queue = revert::derive(&self.applied, self.abort);
        self.at = 0;
        self.phase = Phase::Reverting(r.clone());
        match self.queue.first() {
            Some(a) => Command::Do(a.clone()),
            None => self.finish(Final::Reverted { reason: r }),
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
