//! What a run record in tags says the run may have applied: the worst case
//! after `kill -9`, from which `rollback` derives its revert with the same
//! derivation as a live run (`revert::derive`). The record is written
//! before the first change and names everything whose inverse needs more
//! than the plan: the route before the run and the targets it adds.
//!
//! Targets a run deregisters (`--deregister-blue`) are recorded before each
//! deregistration is sent, so the record names every target that may have
//! left: their inverse registers them again and waits until they are
//! healthy, before the route goes back. Rules a run creates will get their
//! own key the same way (see `alb::state_tags`).

use super::action::{Action, Group, Purpose, Role, RouteWrite};
use crate::alb::state_tags::{RunRecord, PROMOTED_STEP};

/// The actions a recorded run may have applied, in order. A run marked
/// `promoted` stands: only its record is undone. Otherwise the route may
/// have been written at any step (the step tag follows the write), so the
/// route is always restored; what it is now is unknown and not needed.
/// Recorded deregistrations come after the route write (they follow the
/// promotion), so their inverse runs first: blue is back and healthy before
/// the route moves traffic to it.
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
    if let Some(d) = record
        .deregistered
        .as_ref()
        .filter(|d| !d.targets.is_empty())
    {
        out.push(Action::Deregister {
            group: Group {
                arn: d.group.clone(),
                role: Role::Blue,
            },
            targets: d.targets.clone(),
        });
    }
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
            deregistered: None,
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

    #[test]
    fn a_run_killed_while_draining_blue_brings_blue_back_before_the_route() {
        use crate::alb::state_tags::{Deregistered, DRAINING_BLUE_STEP};
        let t = |s: &str| crate::alb::state_tags::parse_target(s);
        let mut rec = record(DRAINING_BLUE_STEP, vec![t("10.0.0.7")]);
        rec.deregistered = Some(Deregistered {
            group: "blue".into(),
            targets: vec![t("10.0.1.1:80"), t("10.0.1.2:80")],
        });
        let r = derive(&applied(&rec), AbortMode::Flip);
        let [Action::Register {
            group: g1,
            targets: back,
        }, Action::AwaitHealthy { group: g2, .. }, Action::WriteRoute(w), Action::Deregister { group: g3, .. }, Action::Unrecord] =
            r.as_slice()
        else {
            panic!("{r:?}")
        };
        assert_eq!((g1.arn.as_str(), g2.arn.as_str()), ("blue", "blue"));
        assert_eq!(back, &rec.deregistered.as_ref().unwrap().targets);
        assert_eq!(w.to, Forward::single("blue"));
        assert_eq!(g3.arn, "green", "green's added targets go last");
        let gradual = derive(&applied(&rec), AbortMode::Gradual);
        assert!(matches!(gradual[0], Action::Register { .. }), "{gradual:?}");
    }
}
