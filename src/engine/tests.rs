//! The engine's paths: a plan run to its end, a failure or cancel at any
//! position turned into the derived revert, and the final states with
//! their exit codes.

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
fn drive(actions: Vec<Action>, abort: AbortMode, events: &[Event]) -> (Vec<Command>, Engine) {
    let mut e = Engine::new(actions, abort);
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
            Command::Do(Action::Record) => "record",
            Command::Do(Action::Register { .. }) => "register",
            Command::Do(Action::Deregister { .. }) => "deregister",
            Command::Do(Action::AwaitHealthy { .. }) => "await-healthy",
            Command::Do(Action::AwaitDrained { .. }) => "await-drained",
            Command::Do(Action::WriteRoute(w)) => match w.purpose {
                Purpose::Attach => "attach",
                Purpose::Detach => "detach",
                Purpose::Step { .. } => "shift",
                Purpose::Promote { .. } => "promote",
                Purpose::Restore => "restore",
                Purpose::RampBack { .. } => "ramp-back",
            },
            Command::Do(Action::CreateRule(_)) => "create-rule",
            Command::Do(Action::WriteRule(_)) => "write-rule",
            Command::Do(Action::DeleteRule(_)) => "delete-rule",
            Command::Do(Action::Bake(_)) => "bake",
            Command::Do(Action::Unrecord) => "unrecord",
        })
        .collect()
}

#[test]
fn happy_path_promotes() {
    let (cmds, e) = drive(plan(&[100, 1000], false), AbortMode::Flip, &ok(8));
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
    let (cmds, _) = drive(plan(&[1000], true), AbortMode::Flip, &ok(3));
    assert_eq!(
        kinds(&cmds),
        vec!["record", "register", "await-healthy", "shift"]
    );
}

#[test]
fn failed_check_reverts_and_exits_1() {
    let mut events = ok(3);
    events.push(Event::Failed(Reason::CheckFailed("error-rate 5%".into())));
    events.extend(ok(2));
    let (cmds, e) = drive(plan(&[50, 250, 1000], false), AbortMode::Flip, &events);
    assert_eq!(
        kinds(&cmds[3..]),
        vec!["bake", "restore", "unrecord", "finish"]
    );
    assert_eq!(e.outcome().unwrap().exit_code(), 1);
}

#[test]
fn cancel_reverts_and_exits_130() {
    let mut events = ok(4);
    events.push(Event::Failed(Reason::Cancelled("SIGTERM".into())));
    events.extend(ok(2));
    let (cmds, e) = drive(plan(&[50, 250, 1000], false), AbortMode::Flip, &events);
    assert_eq!(kinds(&cmds[5..6]), vec!["restore"]);
    assert_eq!(e.outcome().unwrap().exit_code(), 130);
}

#[test]
fn failure_before_any_change_needs_no_revert() {
    let (cmds, e) = drive(
        plan(&[1000], false),
        AbortMode::Flip,
        &[Event::Failed(Reason::Error("AddTags: AccessDenied".into()))],
    );
    assert_eq!(kinds(&cmds), vec!["record", "finish"]);
    assert!(matches!(e.outcome(), Some(Final::NotStarted { .. })));
}

#[test]
fn revert_that_fails_is_incomplete_exit_3() {
    let mut events = ok(2);
    events.push(Event::FailedAfterSend(Reason::Error(
        "ModifyListener: verify failed".into(),
    )));
    events.push(Event::Failed(Reason::Error(
        "ModifyListener: Throttling".into(),
    )));
    let (cmds, e) = drive(plan(&[100, 1000], false), AbortMode::Flip, &events);
    assert_eq!(kinds(&cmds[3..]), vec!["restore", "finish"]);
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
    events.push(Event::FailedAfterSend(Reason::Error("verify".into())));
    let (cmds, _) = drive(plan(&[1000], false), AbortMode::Flip, &events);
    assert_eq!(kinds(&cmds[5..]), vec!["restore"]);
    let mut events = ok(5);
    events.push(Event::Failed(Reason::Error("RemoveTags".into())));
    let (_, e) = drive(plan(&[1000], false), AbortMode::Flip, &events);
    assert_eq!(e.outcome(), Some(&Final::Promoted));
}

#[test]
fn cleanup_failure_after_revert_is_incomplete() {
    let mut events = ok(4);
    events.push(Event::Failed(Reason::CheckFailed("health".into())));
    events.push(Event::Done);
    events.push(Event::Failed(Reason::Error(
        "DeregisterTargets: Throttling".into(),
    )));
    let (cmds, e) = drive(plan(&[100, 1000], true), AbortMode::Flip, &events);
    assert_eq!(kinds(&cmds[5..]), vec!["restore", "deregister", "finish"]);
    assert_eq!(e.outcome().unwrap().exit_code(), 3);
}

#[test]
fn a_failure_before_the_first_route_write_only_undoes_the_rest() {
    // Health never came: nothing was written to the route, so the revert
    // must not write it either.
    let events = vec![
        Event::Done,
        Event::Done,
        Event::Failed(Reason::Error("did not become healthy".into())),
        Event::Done,
        Event::Done,
    ];
    let (cmds, e) = drive(plan(&[100, 1000], true), AbortMode::Flip, &events);
    assert_eq!(
        kinds(&cmds),
        vec![
            "record",
            "register",
            "await-healthy",
            "deregister",
            "unrecord",
            "finish"
        ]
    );
    assert_eq!(e.outcome().unwrap().exit_code(), 1);
}

#[test]
fn a_gradual_abort_steps_back_and_can_become_one_flip() {
    let mut events = ok(7);
    events.push(Event::Failed(Reason::Cancelled("SIGTERM".into())));
    let (cmds, mut e) = drive(
        plan(&[50, 250, 500, 1000], false),
        AbortMode::Gradual,
        &events,
    );
    assert_eq!(kinds(&cmds[7..]), vec!["bake", "ramp-back"]);
    assert_eq!(e.revert_rest().len(), 4, "three ramp writes and unrecord");
    // The budget is short: the rest becomes one write of the original.
    let Command::Do(Action::WriteRoute(w)) = e.next(Event::Done) else {
        panic!("a route write")
    };
    assert_eq!(w.to, fwd(50));
    let Command::Do(Action::WriteRoute(w)) = e.flip_rest() else {
        panic!("a route write")
    };
    assert_eq!(
        (w.from, w.to, w.purpose),
        (fwd(250), fwd(0), Purpose::Restore),
        "from where the route is now"
    );
    assert_eq!(
        kinds(&[e.next(Event::Done), e.next(Event::Done)]),
        vec!["unrecord", "finish"]
    );
    assert_eq!(e.outcome().unwrap().exit_code(), 130);
}

/// Every position of a plan: a failure there ends in the derived revert
/// of exactly what came before it (and the failed action if it was sent).
#[test]
fn a_failure_at_every_position_runs_the_revert_of_what_was_applied() {
    let actions = plan(&[50, 500, 1000], true);
    for at in 0..actions.len() {
        for sent in [false, true] {
            let mut events = ok(at);
            let r = Reason::Error(format!("failed at {at}"));
            events.push(match sent {
                true => Event::FailedAfterSend(r),
                false => Event::Failed(r),
            });
            let mut e = Engine::new(actions.clone(), AbortMode::Flip);
            e.start();
            let mut cmd = Command::Finish;
            for ev in events {
                cmd = e.next(ev);
            }
            let applied = &actions[..at + usize::from(sent)];
            assert_eq!(e.applied(), applied, "at {at} sent {sent}");
            let mut seen = vec![];
            while let Command::Do(a) = cmd {
                seen.push(a);
                cmd = e.next(Event::Done);
            }
            let last = actions[at] == Action::Unrecord;
            let want = match (applied.is_empty(), last) {
                (_, true) | (true, _) => vec![],
                _ => revert::derive(applied, AbortMode::Flip),
            };
            assert_eq!(seen, want, "at {at} sent {sent}");
            let code = e.outcome().map(Final::exit_code);
            assert_eq!(code, Some(if last { 0 } else { 1 }), "at {at} sent {sent}");
        }
    }
}
