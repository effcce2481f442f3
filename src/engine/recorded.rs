//! What a run record in tags says the run may have applied: the worst case
//! after `kill -9`, from which `rollback` derives its revert with the same
//! derivation as a live run (`revert::derive`). The record is written
//! before the first change and names everything whose inverse needs more
//! than the plan: the route before the run and the targets it adds.
//!
//! Targets a run deregisters (`--deregister-blue`) are recorded before each
//! deregistration is sent, so the record names every target that may have
//! left: their inverse registers them again and waits until they are
//! healthy, before the route goes back. Rules a run creates (`ab`, `dark`)
//! are recorded by priority before each CreateRule is sent
//! (`alb-rollout:rules`): their inverse deletes the rule at that priority
//! only if it carries the run's tag, so a rule the run never got to create
//! (or someone else's rule at that priority) is left alone. Rule-only runs
//! never write the route, so their revert does not write it either.

use super::action::{Action, Group, Purpose, Role, RouteWrite, RuleSpec};
use crate::alb::state_tags::{RunRecord, PROMOTED_STEP};

/// The actions a recorded run may have applied, in order. A run marked
/// `promoted` stands: only its record is undone. Otherwise the route may
/// have been written at any step (the step tag follows the write), so the
/// route is always restored; what it is now is unknown and not needed.
/// Recorded deregistrations come after the route write (they follow the
/// promotion), so their inverse runs first: blue is back and healthy before
/// the route moves traffic to it.
pub fn applied(record: &RunRecord) -> Vec<Action> {
    applied_on(record, "")
}

/// `applied`, with the rules the record names on `listener_arn` (the
/// listener the record was found on: a rule's record is on its listener).
/// Rules come last: they were created after everything else the run did.
pub fn applied_on(record: &RunRecord, listener_arn: &str) -> Vec<Action> {
    if record.step == PROMOTED_STEP {
        return vec![Action::Record];
    }
    let mut out = applied_routes(record);
    out.extend(record.rules.iter().map(|&priority| {
        Action::CreateRule(RuleSpec {
            listener_arn: listener_arn.to_string(),
            priority,
            conditions: vec![],
            forward: crate::alb::Forward::single(&record.green_arn),
        })
    }));
    out
}

/// The record, registrations, route writes and deregistrations a recorded
/// run may have applied.
fn applied_routes(record: &RunRecord) -> Vec<Action> {
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
    if !record.moves_route() {
        return out;
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
            generation: 0,
            step: step.into(),
            green_arn: "green".into(),
            original: Forward::single("blue"),
            registered,
            deregistered: None,
            rules: vec![],
        }
    }

    #[test]
    fn a_killed_run_is_undone_from_its_record_alone() {
        let t = vec![Target {
            id: "10.0.0.7".into(),
            port: None,
            az: None,
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

    #[test]
    fn a_killed_rule_run_deletes_its_recorded_rules_and_never_writes_the_route() {
        let mut rec = record("starting", vec![]);
        rec.strategy = "ab".into();
        rec.rules = vec![7];
        let r = derive(&applied_on(&rec, "L"), AbortMode::Flip);
        let [Action::DeleteRule(spec), Action::Unrecord] = r.as_slice() else {
            panic!("{r:?}")
        };
        assert_eq!((spec.listener_arn.as_str(), spec.priority), ("L", 7));
        rec.rules = vec![];
        let r = derive(&applied_on(&rec, "L"), AbortMode::Flip);
        assert_eq!(r, vec![Action::Unrecord], "killed before its CreateRule");
        rec.strategy = "canary".into();
        rec.rules = vec![3];
        let r = derive(&applied_on(&rec, "L"), AbortMode::Flip);
        assert!(
            matches!(
                r.as_slice(),
                [
                    Action::DeleteRule(_),
                    Action::WriteRoute(_),
                    Action::Unrecord
                ]
            ),
            "a route run's rules go first, then the route: {r:?}"
        );
    }
}
