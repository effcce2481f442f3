//! Component tests of hooks and `--check` commands: whole canary runs on
//! the fake load balancer with a scripted command runner, under paused time.

use super::tests::{config, rig, Rig};
use super::*;
use crate::alb::fake::{DEMO_BLUE, DEMO_LISTENER};
use crate::alb::{Forward, RouteAction, RouteRef};
use crate::command::{CommandSpec, Commands, FakeCommands, FakeOutcome};
use crate::engine::HookStage;
use crate::report::Silent;
use crate::strategy::hooks::{place, Hooks};
use std::sync::Arc;

fn all_stages() -> Hooks {
    Hooks {
        list: HookStage::ALL
            .iter()
            .map(|s| (*s, format!("./{s}.sh")))
            .collect(),
        timeout: Duration::from_secs(600),
    }
}

async fn run_with(
    r: &Rig,
    hooks: &Hooks,
    cmds: Arc<FakeCommands>,
    checks: Vec<CommandSpec>,
) -> RunReport {
    let (cfg, plan) = config("10,100", vec![]).split();
    let plan = place(plan, hooks, None);
    let src = Sources {
        lb: r.lb.clone(),
        traffic: Some(r.traffic.clone()),
        probe: None,
        prometheus: None,
        judge_minutes: 1,
        commands: Commands {
            runner: Some(cmds),
            checks,
            lb_dns: Some("demo.elb.local".into()),
        },
        shadow: None,
    };
    let mut out = Silent;
    Executor::new(cfg, plan, src, r.cancel.clone(), &mut out)
        .run()
        .await
}

fn original(r: &Rig) -> bool {
    r.lb.route(&RouteRef::new(DEMO_LISTENER, None))
        == RouteAction::Forward(Forward::single(DEMO_BLUE))
}

fn var<'a>(s: &'a CommandSpec, k: &str) -> Option<&'a str> {
    s.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

#[tokio::test(start_paused = true)]
async fn a_failing_pre_traffic_hook_reverts_before_any_route_write() {
    let r = rig();
    let cmds = Arc::new(FakeCommands::new().script(
        "hook pre-traffic",
        vec![FakeOutcome::exit(3).saying(&["smoke: 2 of 5 failed"])],
    ));
    let report = run_with(&r, &all_stages(), cmds.clone(), vec![]).await;
    assert_eq!((report.result, report.exit_code), ("reverted", 1));
    let reason = report
        .reason
        .as_ref()
        .map(|r| r.message().to_string())
        .unwrap_or_default();
    assert!(
        reason.contains("hook pre-traffic `./pre-traffic.sh` failed: exit 3"),
        "{reason}"
    );
    let writes: Vec<_> = (r.lb.mutating_calls().into_iter())
        .filter(|c| c.op == "ModifyListener")
        .collect();
    assert!(writes.is_empty(), "green got a route write: {writes:?}");
    assert!(original(&r));
    assert_eq!(cmds.labels(), ["hook pre-traffic", "hook post-revert"]);
    let failed = report.failed_hook().expect("the failed hook is recorded");
    assert_eq!(failed.exit_status, Some(3));
    assert_eq!(failed.tail, ["smoke: 2 of 5 failed"]);
}

#[tokio::test(start_paused = true)]
async fn a_good_canary_runs_every_stage_in_order_with_its_variables() {
    let r = rig();
    let cmds = Arc::new(FakeCommands::new());
    let report = run_with(&r, &all_stages(), cmds.clone(), vec![]).await;
    assert_eq!(report.result, "promoted");
    assert_eq!(
        cmds.labels(),
        [
            "hook pre-traffic",
            "hook post-step 1",
            "hook post-step 2",
            "hook pre-promote",
            "hook post-promote",
        ]
    );
    let calls = cmds.calls();
    let seen: Vec<(Option<&str>, Option<&str>, Option<&str>)> = (calls.iter())
        .map(|s| {
            (
                var(s, "ALB_ROLLOUT_HOOK"),
                var(s, "ALB_ROLLOUT_STEP"),
                var(s, "ALB_ROLLOUT_GREEN_PERCENT"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (Some("pre-traffic"), Some("0"), Some("0")),
            (Some("post-step"), Some("1"), Some("10")),
            (Some("post-step"), Some("2"), Some("100")),
            (Some("pre-promote"), Some("2"), Some("100")),
            (Some("post-promote"), Some("2"), Some("100")),
        ]
    );
    for s in &calls {
        assert_eq!(var(s, "ALB_ROLLOUT_RUN_ID"), Some("r-test"));
        assert_eq!(var(s, "ALB_ROLLOUT_STRATEGY"), Some("canary"));
        assert_eq!(var(s, "ALB_ROLLOUT_BLUE"), Some(DEMO_BLUE));
        assert_eq!(var(s, "ALB_ROLLOUT_LB_DNS"), Some("demo.elb.local"));
    }
    assert_eq!(report.hooks.len(), 5);
    assert!(report
        .hooks
        .iter()
        .all(|h| h.passed && h.exit_status == Some(0)));
}

#[tokio::test(start_paused = true)]
async fn a_failing_post_promote_hook_exits_1_and_leaves_the_route_promoted() {
    let r = rig();
    let cmds =
        Arc::new(FakeCommands::new().script("hook post-promote", vec![FakeOutcome::exit(1)]));
    let report = run_with(&r, &all_stages(), cmds.clone(), vec![]).await;
    assert_eq!(
        (report.result, report.exit_code),
        ("promoted-hook-failed", 1)
    );
    assert!(!original(&r), "the route was reverted");
    assert!(!cmds.labels().contains(&"hook post-revert".to_string()));
}

#[tokio::test(start_paused = true)]
async fn a_hook_past_its_timeout_fails_the_run() {
    let r = rig();
    let cmds = Arc::new(FakeCommands::new().script(
        "hook pre-promote",
        vec![FakeOutcome::exit(0).taking(Duration::from_secs(3600))],
    ));
    let report = run_with(&r, &all_stages(), cmds, vec![]).await;
    assert_eq!(report.result, "reverted");
    let h = report.failed_hook().unwrap();
    assert_eq!((h.stage, h.exit_status), (HookStage::PrePromote, None));
    assert!(
        h.outcome.starts_with("timed out after 10m"),
        "{}",
        h.outcome
    );
    assert!(original(&r));
}

#[tokio::test(start_paused = true)]
async fn a_cancel_during_a_long_hook_reverts_within_the_budget() {
    let r = rig();
    let cmds = Arc::new(FakeCommands::new().script(
        "hook post-step 1",
        vec![FakeOutcome::exit(0).taking(Duration::from_secs(3600)).stubborn()],
    ));
    let cancel = r.cancel.clone();
    let at = Arc::new(std::sync::Mutex::new(None));
    let at2 = at.clone();
    let c2 = cmds.clone();
    tokio::spawn(async move {
        while !c2.labels().contains(&"hook post-step 1".to_string()) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        *at2.lock().unwrap() = Some(Instant::now());
        cancel.cancel("received SIGTERM: cancelled, reverting");
    });
    let report = run_with(&r, &all_stages(), cmds.clone(), vec![]).await;
    let took = Instant::now() - at.lock().unwrap().expect("cancelled");
    assert_eq!((report.result, report.exit_code), ("cancelled", 130));
    assert!(original(&r));
    // The stubborn hook took its whole grace (a quarter of the 8 s budget).
    assert!(
        took <= Duration::from_secs(8),
        "revert finished {took:?} after the signal"
    );
    assert!(took >= Duration::from_secs(2), "{took:?}");
    let h = report
        .hooks
        .iter()
        .find(|h| h.stage == HookStage::PostStep)
        .unwrap();
    assert_eq!(h.outcome, "stopped by the cancel");
}

#[tokio::test(start_paused = true)]
async fn a_check_command_failing_on_its_second_run_reverts() {
    let r = rig();
    let cmds = Arc::new(FakeCommands::new().script(
        "check",
        vec![
            FakeOutcome::exit(0),
            FakeOutcome::exit(1).saying(&["conversion 1.2% < 2%"]),
        ],
    ));
    let check = CommandSpec::new("check", "./conversion.sh", Duration::from_secs(30));
    let report = run_with(&r, &Hooks::default(), cmds.clone(), vec![check]).await;
    assert_eq!((report.result, report.exit_code), ("reverted", 1));
    assert_eq!(cmds.labels(), ["check", "check"]);
    let failed = report
        .failed_check
        .expect("the failed interval is recorded");
    let c = failed.checks.iter().find(|c| c.check == "command").unwrap();
    assert_eq!(c.verdict, crate::analysis::Verdict::Fail);
    assert!(
        c.detail
            .contains("`./conversion.sh` exit 1: conversion 1.2% < 2%"),
        "{}",
        c.detail
    );
    // The check is told where the run is.
    let spec = &cmds.calls()[1];
    assert_eq!(var(spec, "ALB_ROLLOUT_STEP"), Some("1"));
    assert_eq!(var(spec, "ALB_ROLLOUT_GREEN_PERCENT"), Some("10"));
    assert!(original(&r));
}
