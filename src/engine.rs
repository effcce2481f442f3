//! The run's state machine: given what the last command did, the next
//! command. Pure, so every path (promote, revert on a failed check, cancel,
//! a revert that cannot complete) is tested without I/O or time.

use serde::Serialize;

/// One thing for the executor to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Write the run record (original route) as tags: the first mutation.
    Record,
    /// Register `--register` targets in green.
    Register,
    /// Wait until green has healthy targets (and the registered ones are).
    AwaitHealthy,
    /// Write step `i`'s weights and verify them by reading back.
    Shift(usize),
    /// Hold step `i` and analyse it every interval.
    Bake(usize),
    /// Write the promoted route and verify it.
    Promote,
    /// Write the original route back and verify it.
    Revert,
    /// Deregister what the run registered (after a revert) and remove the record.
    Cleanup,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Done,
    Failed(Reason),
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

#[derive(Debug, Clone)]
pub struct Engine {
    steps: usize,
    registers: bool,
    current: Command,
    reason: Option<Reason>,
    outcome: Option<Final>,
}

impl Engine {
    pub fn new(steps: usize, registers: bool) -> Self {
        Engine {
            steps,
            registers,
            current: Command::Record,
            reason: None,
            outcome: None,
        }
    }

    /// The first command of every run.
    pub fn start(&self) -> Command {
        Command::Record
    }

    pub fn outcome(&self) -> Option<&Final> {
        self.outcome.as_ref()
    }

    /// True once the run has changed something that a revert must undo.
    pub fn reverting(&self) -> bool {
        self.reason.is_some()
    }

    fn finish(&mut self, f: Final) -> Command {
        self.outcome = Some(f);
        self.current = Command::Finish;
        Command::Finish
    }

    fn go(&mut self, c: Command) -> Command {
        self.current = c;
        c
    }

    pub fn next(&mut self, event: Event) -> Command {
        match (self.current, event) {
            (Command::Finish, _) => Command::Finish,
            (Command::Record, Event::Failed(r)) => self.finish(Final::NotStarted { reason: r }),
            (Command::Revert, Event::Failed(r)) => {
                let error = r.message().to_string();
                let reason = self.reason.clone().unwrap_or(r);
                self.finish(Final::RevertIncomplete { reason, error })
            }
            (Command::Cleanup, ev) => self.after_cleanup(ev),
            (Command::Promote, Event::Failed(r)) => self.revert(r),
            (_, Event::Failed(r)) => self.revert(r),
            (Command::Record, Event::Done) if self.registers => self.go(Command::Register),
            (Command::Record, Event::Done) | (Command::Register, Event::Done) => {
                self.go(Command::AwaitHealthy)
            }
            (Command::AwaitHealthy, Event::Done) => self.go(Command::Shift(0)),
            (Command::Shift(i), Event::Done) => self.go(Command::Bake(i)),
            (Command::Bake(i), Event::Done) if i + 1 < self.steps => self.go(Command::Shift(i + 1)),
            (Command::Bake(_), Event::Done) => self.go(Command::Promote),
            (Command::Promote, Event::Done) | (Command::Revert, Event::Done) => {
                self.go(Command::Cleanup)
            }
        }
    }

    fn revert(&mut self, r: Reason) -> Command {
        self.reason = Some(r);
        self.go(Command::Revert)
    }

    fn after_cleanup(&mut self, ev: Event) -> Command {
        match (self.reason.clone(), ev) {
            // A promoted run whose record could not be removed is still
            // promoted; the executor warns about the leftover tags.
            (None, _) => self.finish(Final::Promoted),
            (Some(reason), Event::Done) => self.finish(Final::Reverted { reason }),
            (Some(reason), Event::Failed(e)) => self.finish(Final::RevertIncomplete {
                reason,
                error: e.message().to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Command::*;

    /// Drive the engine with `events` and return the commands it issued.
    fn drive(steps: usize, registers: bool, events: &[Event]) -> (Vec<Command>, Engine) {
        let mut e = Engine::new(steps, registers);
        let mut cmds = vec![e.start()];
        for ev in events {
            cmds.push(e.next(ev.clone()));
        }
        (cmds, e)
    }

    fn ok(n: usize) -> Vec<Event> {
        vec![Event::Done; n]
    }

    #[test]
    fn happy_path_promotes() {
        let (cmds, e) = drive(2, false, &ok(8));
        assert_eq!(
            cmds,
            vec![
                Record,
                AwaitHealthy,
                Shift(0),
                Bake(0),
                Shift(1),
                Bake(1),
                Promote,
                Cleanup,
                Finish
            ]
        );
        assert_eq!(e.outcome(), Some(&Final::Promoted));
        assert_eq!(e.outcome().unwrap().exit_code(), 0);
    }

    #[test]
    fn registering_comes_before_waiting_for_health() {
        let (cmds, _) = drive(1, true, &ok(3));
        assert_eq!(cmds, vec![Record, Register, AwaitHealthy, Shift(0)]);
    }

    #[test]
    fn failed_check_reverts_and_exits_1() {
        let mut events = ok(3);
        events.push(Event::Failed(Reason::CheckFailed("error-rate 5%".into())));
        events.extend(ok(2));
        let (cmds, e) = drive(3, false, &events);
        assert_eq!(&cmds[3..], &[Bake(0), Revert, Cleanup, Finish]);
        assert_eq!(e.outcome().unwrap().exit_code(), 1);
    }

    #[test]
    fn cancel_reverts_and_exits_130() {
        let mut events = ok(4);
        events.push(Event::Failed(Reason::Cancelled("SIGTERM".into())));
        events.extend(ok(2));
        let (cmds, e) = drive(3, false, &events);
        assert_eq!(cmds[5], Revert);
        assert_eq!(e.outcome().unwrap().exit_code(), 130);
    }

    #[test]
    fn failure_before_any_change_needs_no_revert() {
        let (cmds, e) = drive(
            3,
            false,
            &[Event::Failed(Reason::Error("AddTags: AccessDenied".into()))],
        );
        assert_eq!(cmds, vec![Record, Finish]);
        assert!(matches!(e.outcome(), Some(Final::NotStarted { .. })));
    }

    #[test]
    fn revert_that_fails_is_incomplete_exit_3() {
        let mut events = ok(2);
        events.push(Event::Failed(Reason::Error(
            "ModifyListener: verify failed".into(),
        )));
        events.push(Event::Failed(Reason::Error(
            "ModifyListener: Throttling".into(),
        )));
        let (cmds, e) = drive(3, false, &events);
        assert_eq!(&cmds[3..], &[Revert, Finish]);
        match e.outcome().unwrap() {
            f @ Final::RevertIncomplete { reason, error } => {
                assert_eq!(reason.message(), "ModifyListener: verify failed");
                assert_eq!(error, "ModifyListener: Throttling");
                assert_eq!(f.exit_code(), 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn failed_promote_reverts_and_cleanup_failure_after_promote_is_still_promoted() {
        let mut events = ok(4);
        events.push(Event::Failed(Reason::Error("verify".into())));
        let (cmds, _) = drive(1, false, &events);
        assert_eq!(cmds.last(), Some(&Revert));
        let mut events = ok(5);
        events.push(Event::Failed(Reason::Error("RemoveTags".into())));
        let (_, e) = drive(1, false, &events);
        assert_eq!(e.outcome(), Some(&Final::Promoted));
    }

    #[test]
    fn cleanup_failure_after_revert_is_incomplete() {
        let mut events = ok(2);
        events.push(Event::Failed(Reason::CheckFailed("health".into())));
        events.push(Event::Done);
        events.push(Event::Failed(Reason::Error(
            "DeregisterTargets: Throttling".into(),
        )));
        let (_, e) = drive(2, false, &events);
        assert_eq!(e.outcome().unwrap().exit_code(), 3);
    }
}
