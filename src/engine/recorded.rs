//! What a run record in tags says the run may have applied: the worst case
//! after `kill -9`, from which `rollback` derives its revert with the same
//! derivation as a live run (`revert::derive`). The record is written
//! before the first change and names everything whose inverse needs more
//! than the plan: the route before the run and the targets it adds.
//!
//! The encoding leaves room for later actions within ELBv2's tag limits
//! (see `alb::state_tags`): targets a run deregisters and rules it creates
//! get their own keys, written before those actions are sent.

use super::action::{Action, Group, Purpose, Role, RouteWrite};
use crate::alb::state_tags::{RunRecord, PROMOTED_STEP};

/// The actions a recorded run may have applied, in order. A run marked
/// `promoted` stands: only its record is undone. Otherwise the route may
/// have been written at any step (the step tag follows the write), so the
/// route is always restored; what it is now is unknown and not needed.
pub fn applied(record: &RunRecord) -> Vec<Action> {
    if record.step == PROMOTED_STEP {
        return vec![Action::Record];
    }
    let green = Group {
        arn: record.green_arn.clone(),
        role: Role::Green,
    };
    let mut out = vec![Action::Record];
    if !record.registered.is_empty() {
        out.push(Action::Register {
            group: green,
            targets: record.registered.clone(),
        });
    }
    out.push(Action::WriteRoute(RouteWrite {
        from: record.original.clone(),
        to: record.original.clone(),
        purpose: Purpose::Step {
            index: 0,
            of: 1,
            percent: crate::plan::Tenths(0),
        },
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::{Forward, Target};
    use crate::engine::revert::{derive, AbortMode};

    fn record(step: &str, registered: Vec<Target>) -> RunRecord {
        RunRecord {
            run_id: "r-1".into(),
            strategy: "canary".into(),
            started: 0,
            step: step.into(),
            green_arn: "green".into(),
            original: Forward::single("blue"),
            registered,
        }
    }

    #[test]
    fn a_killed_run_is_undone_from_its_record_alone() {
        let t = vec![Target {
            id: "10.0.0.7".into(),
            port: None,
        }];
        for step in ["starting", "1 of 2 at 10", "promoting"] {
            let r = derive(&applied(&record(step, t.clone())), AbortMode::Flip);
            let [Action::WriteRoute(w), Action::Deregister { targets, .. }, Action::Unrecord] =
                r.as_slice()
            else {
                panic!("{step}: {r:?}")
            };
            assert_eq!(w.to, Forward::single("blue"), "{step}");
            assert_eq!(targets, &t, "{step}");
        }
        let r = derive(&applied(&record(PROMOTED_STEP, t)), AbortMode::Flip);
        assert_eq!(r, vec![Action::Unrecord], "a confirmed promotion stands");
    }
}
