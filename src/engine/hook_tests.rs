//! The engine's side of hooks: a failure before the promotion reverts, one
//! after it ends the run promoted with exit 1, and `post-revert` hooks run
//! only after a verified revert, whatever they return.

use super::*;
use crate::plan::Tenths;
use std::time::Duration;

fn hook(stage: HookStage) -> Action {
    Action::Hook(HookSpec {
        stage,
        command: format!("./{stage}.sh"),
        timeout: Duration::from_secs(60),
        step: 0,
        green_percent: Tenths(0),
        targets: vec![],
        preview_header: None,
    })
}

fn failed() -> Event {
    Event::Failed(Reason::CheckFailed("hook failed: exit 1".into()))
}

/// record, pre-traffic, (shift, bake) x1, promote, unrecord, post-promote, post-revert
fn with_hooks() -> Vec<Action> {
    let mut a = super::tests::plan(&[100], false);
    a.insert(2, hook(HookStage::PreTraffic));
    a.push(hook(HookStage::PostPromote));
    a.push(hook(HookStage::PostRevert));
    a
}

fn stages(cmds: &[Command]) -> Vec<String> {
    cmds.iter()
        .map(|c| match c {
            Command::Do(Action::Hook(h)) => h.stage.to_string(),
            Command::Do(a) => format!("{a:?}")
                .split(['(', ' ', '{'])
                .next()
                .unwrap_or("")
                .to_string(),
            Command::Revert(_) => "revert".into(),
            Command::Finish => "finish".into(),
        })
        .collect()
}

#[test]
fn a_good_run_skips_post_revert_hooks() {
    let mut e = Engine::new(with_hooks());
    let mut cmds = vec![e.start()];
    while !matches!(cmds.last(), Some(Command::Finish)) {
        cmds.push(e.next(Event::Done));
    }
    let s = stages(&cmds);
    assert!(s.contains(&"post-promote".to_string()), "{s:?}");
    assert!(!s.contains(&"post-revert".to_string()), "{s:?}");
    assert_eq!(e.outcome(), Some(&Final::Promoted));
}

#[test]
fn a_failing_pre_traffic_hook_reverts_then_runs_post_revert() {
    let mut e = Engine::new(with_hooks());
    e.start(); // record
    e.next(Event::Done); // await healthy
    let at_hook = e.next(Event::Done);
    assert!(
        matches!(at_hook, Command::Do(Action::Hook(ref h)) if h.stage == HookStage::PreTraffic)
    );
    assert!(matches!(
        e.next(failed()),
        Command::Revert(Reason::CheckFailed(_))
    ));
    let after = e.reverted(Ok(()));
    assert!(matches!(after, Command::Do(Action::Hook(ref h)) if h.stage == HookStage::PostRevert));
    // Its failure changes nothing.
    assert_eq!(e.next(failed()), Command::Finish);
    assert!(matches!(
        e.outcome(),
        Some(Final::Reverted {
            reason: Reason::CheckFailed(_)
        })
    ));
    assert_eq!(e.outcome().map(Final::exit_code), Some(1));
}

#[test]
fn an_incomplete_revert_runs_no_post_revert_hook() {
    let mut e = Engine::new(with_hooks());
    e.start();
    e.next(Event::Done);
    e.next(Event::Done);
    e.next(failed());
    assert_eq!(e.reverted(Err("left".into())), Command::Finish);
    assert!(matches!(e.outcome(), Some(Final::RevertIncomplete { .. })));
}

#[test]
fn a_failing_post_promote_hook_exits_1_without_a_revert() {
    let mut e = Engine::new(with_hooks());
    let mut cmd = e.start();
    loop {
        let post =
            matches!(&cmd, Command::Do(Action::Hook(h)) if h.stage == HookStage::PostPromote);
        cmd = e.next(if post { failed() } else { Event::Done });
        assert!(
            !matches!(cmd, Command::Revert(_)),
            "a post-promote failure reverted"
        );
        if cmd == Command::Finish {
            break;
        }
    }
    assert!(matches!(
        e.outcome(),
        Some(Final::PromotedHookFailed { .. })
    ));
    assert_eq!(e.outcome().map(Final::exit_code), Some(1));
}
