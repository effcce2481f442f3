//! The engine's paths: a plan run to its end, a failure or cancel at any
//! position turned into the revert, and the final states with their exit
//! codes.

use super::*;
use crate::alb::{Forward, Target};
use crate::plan::Tenths;
use std::time::Duration;

fn green() -> Group {
    Group {
        arn: "green".into(),
        role: Role::Green,
    }
}

fn fwd(green: u16) -> Forward {
    match green {
        0 => Forward::single("blue"),
        g => Forward::weighted(&[("blue", 1000 - g.min(1000)), ("green", g)]),
    }
}

fn write(from: u16, to: u16, purpose: Purpose) -> Action {
    Action::WriteRoute(RouteWrite {
        from: fwd(from),
        to: fwd(to),
        purpose,
    })
}

/// A canary-shaped plan: record, [register], health, step writes and
/// bakes, promote, unrecord.
pub(super) fn plan(steps: &[u16], registers: bool) -> Vec<Action> {
    let t = vec![Target {
        id: "10.0.0.7".into(),
        port: None,
        az: None,
    }];
    let mut a = vec![Action::Record];
    if registers {
        a.push(Action::Register {
            group: green(),
            targets: t.clone(),
        });
    }
    a.push(Action::AwaitHealthy {
        group: green(),
        targets: t,
    });
    let mut from = 0;
    for (index, p) in steps.iter().enumerate() {
        let percent = Tenths(*p);
        let of = steps.len();
        a.push(write(from, *p, Purpose::Step { index, of, percent }));
        a.push(Action::Bake(BakeSpec {
            step: index,
            percent,
            duration: Duration::from_secs(60),
        }));
        from = *p;
    }
    a.push(write(
        from,
        999,
        Purpose::Promote {
            after_steps: steps.len(),
        },
    ));
    a.push(Action::Unrecord);
    a
}

/// Drive `actions` with `events`; the commands issued and the engine.
fn drive(actions: Vec<Action>, events: &[Event]) -> (Vec<Command>, Engine) {
    let mut e = Engine::new(actions);
    let mut cmds = vec![e.start()];
    for ev in events {
        cmds.push(e.next(ev.clone()));
    }
    (cmds, e)
}

fn ok(n: usize) -> Vec<Event> {
    vec![Event::Done; n]
}

fn kinds(cmds: &[Command]) -> Vec<&'static str> {
    cmds.iter()
        .map(|c| match c {
            Command::Finish => "finish",
            Command::Revert(_) => "revert",
            Command::Do(Action::Record) => "record",
            Command::Do(Action::Register { .. }) => "register",
            Command::Do(Action::Deregister { .. }) => "deregister",
            Command::Do(Action::AwaitHealthy { .. }) => "await-healthy",
            Command::Do(Action::AwaitDrained { .. }) => "await-drained",
            Command::Do(Action::WriteOthers(_)) => "write-others",
            Command::Do(Action::WriteRoute(w)) => match w.purpose {
                Purpose::Attach => "attach",
                Purpose::Detach => "detach",
                Purpose::Step { .. } => "shift",
                Purpose::Promote { .. } => "promote",
            },
            Command::Do(Action::CreateRule(_)) => "create-rule",
            Command::Do(Action::WriteRule(_)) => "write-rule",
            Command::Do(Action::DeleteRule(_)) => "delete-rule",
            Command::Do(Action::Bake(_)) => "bake",
            Command::Do(Action::Shadow(_)) => "shadow",
            Command::Do(Action::Unrecord) => "unrecord",
            Command::Do(Action::StartBatch { .. }) => "start-batch",
            Command::Do(Action::Deploy(_)) => "deploy",
            Command::Do(Action::Hook(_)) => "hook",
        })
        .collect()
}

#[test]
fn happy_path_promotes() {
    let (cmds, e) = drive(plan(&[100, 1000], false), &ok(8));
    assert_eq!(
        kinds(&cmds),
        vec![
            "record",
            "await-healthy",
            "shift",
            "bake",
            "shift",
            "bake",
            "promote",
            "unrecord",
            "finish"
        ]
    );
    assert_eq!(e.outcome(), Some(&Final::Promoted));
    assert_eq!(e.outcome().unwrap().exit_code(), 0);
}

#[test]
fn registering_comes_before_waiting_for_health() {
    let (cmds, _) = drive(plan(&[1000], true), &ok(3));
    assert_eq!(
        kinds(&cmds),
        vec!["record", "register", "await-healthy", "shift"]
    );
}

#[test]
fn a_failed_check_asks_for_the_revert_and_exits_1_once_converged() {
    let mut events = ok(3);
    events.push(Event::Failed(Reason::CheckFailed("error-rate 5%".into())));
    let (cmds, mut e) = drive(plan(&[50, 250, 1000], false), &events);
    assert_eq!(kinds(&cmds[3..]), vec!["bake", "revert"]);
    assert!(e.reverting());
    assert_eq!(kinds(&[e.reverted(Ok(()))]), vec!["finish"]);
    assert_eq!(e.outcome().unwrap().exit_code(), 1);
}

#[test]
fn cancel_reverts_and_exits_130() {
    let mut events = ok(4);
    events.push(Event::Failed(Reason::Cancelled("SIGTERM".into())));
    let (cmds, mut e) = drive(plan(&[50, 250, 1000], false), &events);
    assert_eq!(kinds(&cmds[5..6]), vec!["revert"]);
    e.reverted(Ok(()));
    assert_eq!(e.outcome().unwrap().exit_code(), 130);
}

#[test]
fn failure_before_any_change_needs_no_revert() {
    let (cmds, e) = drive(
        plan(&[1000], false),
        &[Event::Failed(Reason::Error("AddTags: AccessDenied".into()))],
    );
    assert_eq!(kinds(&cmds), vec!["record", "finish"]);
    assert!(matches!(e.outcome(), Some(Final::NotStarted { .. })));
}

#[test]
fn a_revert_that_does_not_converge_is_incomplete_exit_3() {
    let mut events = ok(2);
    events.push(Event::FailedAfterSend(Reason::Error(
        "ModifyListener: verify failed".into(),
    )));
    let (cmds, mut e) = drive(plan(&[100, 1000], false), &events);
    assert_eq!(kinds(&cmds[3..]), vec!["revert"]);
    assert_eq!(e.applied().len(), 3, "a write that may have landed counts");
    e.reverted(Err("the route is not back".into()));
    match e.outcome().unwrap() {
        f @ Final::RevertIncomplete { reason, error } => {
            assert_eq!(reason.message(), "ModifyListener: verify failed");
            assert_eq!(error, "the route is not back");
            assert_eq!(f.exit_code(), 3);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_cleanup_failure_after_the_promotion_is_still_promoted() {
    let mut events = ok(5);
    events.push(Event::Failed(Reason::Error("RemoveTags".into())));
    let (cmds, e) = drive(plan(&[1000], false), &events);
    assert_eq!(kinds(&cmds).last(), Some(&"finish"));
    assert_eq!(e.outcome(), Some(&Final::Promoted));
}

/// Every position of a plan: a failure there asks for the revert with
/// exactly what came before it (and the failed action if it was sent).
#[test]
fn a_failure_at_every_position_asks_for_the_revert_with_what_was_applied() {
    let actions = plan(&[50, 500, 1000], true);
    for at in 0..actions.len() {
        for sent in [false, true] {
            let mut events = ok(at);
            let r = Reason::Error(format!("failed at {at}"));
            events.push(match sent {
                true => Event::FailedAfterSend(r),
                false => Event::Failed(r),
            });
            let (cmds, e) = drive(actions.clone(), &events);
            let applied = &actions[..at + usize::from(sent)];
            assert_eq!(e.applied(), applied, "at {at} sent {sent}");
            let last = actions[at] == Action::Unrecord;
            let want = match (applied.is_empty(), last) {
                (_, true) | (true, _) => "finish",
                _ => "revert",
            };
            assert_eq!(kinds(&cmds).last(), Some(&want), "at {at} sent {sent}");
        }
    }
}
