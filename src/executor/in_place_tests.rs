//! `rolling --in-place` on the fake, under paused time: `--deploy` runs on
//! each batch while it is out of the group, the group ends with the same
//! targets; a deploy failing on batch 2 with `--undo` undoes both batches
//! newest first; without `--undo` the failing batch stays out and the
//! record stays for `rollback --undo`.

use super::tests::{config, rig, Rig, BLUE_DIM};
use super::*;
use crate::alb::fake::*;
use crate::alb::group_record;
use crate::alb::{HealthState, LoadBalancerPort};
use crate::command::{CommandResult, CommandRunner, CommandSpec, Exit};
use crate::report::Silent;
use crate::strategy::drain_blue::BatchSize;
use crate::strategy::rolling_in_place::{self, InPlaceInput};
use std::sync::{Arc, Mutex};

/// A runner that notes, for each command, its label, its
/// `ALB_ROLLOUT_TARGETS` and the group's targets at that moment.
struct Watching {
    lb: Arc<FakeLoadBalancer>,
    fail: Vec<&'static str>,
    seen: Mutex<Vec<(String, String, Vec<String>)>>,
    /// A job with this label gets a SIGTERM (the run's cancel) while it runs.
    cancel_at: Option<(&'static str, Cancel)>,
}

#[async_trait::async_trait]
impl CommandRunner for Watching {
    async fn run(&self, spec: &CommandSpec, _cancel: &Cancel) -> CommandResult {
        let targets = (spec.env.iter())
            .find(|(k, _)| k == "ALB_ROLLOUT_TARGETS")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let held = ids(&self.lb);
        (self.seen.lock().unwrap()).push((spec.label.clone(), targets, held));
        if let Some((label, run)) = self.cancel_at.as_ref().filter(|(l, _)| *l == spec.label) {
            run.cancel(&format!("SIGTERM during {label}"));
            return CommandResult {
                exit: Exit::Cancelled,
                duration: Duration::ZERO,
                tail: vec![],
            };
        }
        let code = i32::from(self.fail.contains(&spec.label.as_str()));
        CommandResult {
            exit: Exit::Code(code),
            duration: Duration::ZERO,
            tail: vec!["installing".into()],
        }
    }
}

fn ids(lb: &FakeLoadBalancer) -> Vec<String> {
    let mut v: Vec<String> = (lb.targets_of(DEMO_BLUE).into_iter())
        .map(|h| h.target.id)
        .collect();
    v.sort();
    v
}

const FOUR: [&str; 4] = ["10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4"];

/// The group holds four healthy targets; the run deploys to them in
/// batches of two.
async fn run_in_place(
    r: &Rig,
    undo: Option<&str>,
    fail: Vec<&'static str>,
) -> (RunReport, Arc<Watching>) {
    run_with(r, undo, fail, None).await
}

async fn run_with(
    r: &Rig,
    undo: Option<&str>,
    fail: Vec<&'static str>,
    cancel_at: Option<&'static str>,
) -> (RunReport, Arc<Watching>) {
    r.lb.clear_targets(DEMO_BLUE);
    for id in FOUR {
        r.lb.set_health(DEMO_BLUE, id, HealthState::Healthy);
    }
    let live = r.lb.target_health(DEMO_BLUE).await.unwrap();
    let p = rolling_in_place::plan(&InPlaceInput {
        group: DEMO_BLUE,
        live: &live,
        targets: &[],
        batch: BatchSize::Count(2),
        max_unavailable: 0,
        check: Duration::from_secs(60),
        deploy: "./deploy.sh",
    })
    .unwrap();
    let mut cfg = config("100", vec![]);
    cfg.scope = Scope::Group(GroupScope {
        arn: DEMO_BLUE.into(),
        original: p.original.clone(),
        batch: p.per,
        max_unavailable: 0,
        floor: p.floor,
    });
    cfg.subjects.green_arn = DEMO_BLUE.into();
    cfg.subjects.green = cfg.subjects.blue.take().unwrap();
    let runner = Arc::new(Watching {
        lb: r.lb.clone(),
        fail,
        seen: Mutex::new(vec![]),
        cancel_at: cancel_at.map(|l| (l, r.cancel.clone())),
    });
    cfg.in_place = Some(InPlaceRun {
        batches: p.batches.clone(),
        undo: undo.map(str::to_string),
        commands: Some(runner.clone()),
        timeout: Duration::from_secs(600),
        grace: Duration::from_secs(2),
    });
    let plan = Plan {
        strategy: "rolling",
        original: crate::alb::Forward::single(DEMO_BLUE),
        blue: DEMO_BLUE.into(),
        green: DEMO_BLUE.into(),
        abort: crate::engine::AbortMode::Flip,
        actions: p.actions(),
    };
    let src = Sources {
        lb: r.lb.clone(),
        traffic: Some(r.traffic.clone()),
        probe: None,
        prometheus: None,
        judge_minutes: 1,
        commands: Default::default(),
        shadow: None,
    };
    let mut out = Silent;
    let report = Executor::new(cfg.cfg, plan, src, r.cancel.clone(), &mut out)
        .run()
        .await;
    (report, runner)
}

fn seen(w: &Watching) -> Vec<(String, String, Vec<String>)> {
    w.seen.lock().unwrap().clone()
}

#[tokio::test(start_paused = true)]
async fn in_place_deploys_each_batch_while_it_is_out_and_ends_with_the_same_targets() {
    let r = rig();
    r.traffic.set(BLUE_DIM, 100.0, 0.0);
    let (report, w) = run_in_place(&r, Some("./undo.sh"), vec![]).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let calls = seen(&w);
    assert_eq!(
        calls,
        vec![
            (
                "deploy batch 1/2".to_string(),
                "10.0.1.1,10.0.1.2".to_string(),
                vec!["10.0.1.3".to_string(), "10.0.1.4".to_string()]
            ),
            (
                "deploy batch 2/2".to_string(),
                "10.0.1.3,10.0.1.4".to_string(),
                vec!["10.0.1.1".to_string(), "10.0.1.2".to_string()]
            ),
        ]
    );
    assert_eq!(ids(&r.lb), FOUR);
    assert!(r.lb.tags_of(DEMO_BLUE).is_empty(), "record removed");
}

#[tokio::test(start_paused = true)]
async fn a_deploy_failing_on_batch_two_undoes_both_batches_newest_first() {
    let r = rig();
    r.traffic.set(BLUE_DIM, 100.0, 0.0);
    let (report, w) = run_in_place(&r, Some("./undo.sh"), vec!["deploy batch 2/2"]).await;
    assert_eq!(
        (report.result, report.exit_code),
        ("reverted", 1),
        "{report:?}"
    );
    let labels: Vec<String> = seen(&w).into_iter().map(|c| c.0).collect();
    assert_eq!(
        labels,
        [
            "deploy batch 1/2",
            "deploy batch 2/2",
            "undo batch 2/2",
            "undo batch 1/2"
        ]
    );
    // The result records each of them: batch, targets, how it ended.
    let runs: Vec<(&str, usize, bool, Option<i32>)> = (report.batch_commands.iter())
        .map(|c| (c.stage, c.batch, c.passed, c.exit_status))
        .collect();
    assert_eq!(
        runs,
        [
            ("deploy", 1, true, Some(0)),
            ("deploy", 2, false, Some(1)),
            ("undo", 2, true, Some(0)),
            ("undo", 1, true, Some(0))
        ]
    );
    let failed = report.failed_batch_command().expect("the failed deploy");
    assert_eq!(failed.targets, ["10.0.1.3", "10.0.1.4"]);
    assert!(!failed.tail.is_empty(), "{failed:?}");
    // Each undo ran while its batch was out of the group.
    for (label, targets, held) in seen(&w).into_iter().skip(2) {
        for t in targets.split(',') {
            assert!(!held.contains(&t.to_string()), "{label}: {held:?}");
        }
    }
    assert_eq!(ids(&r.lb), FOUR);
    let healthy =
        r.lb.targets_of(DEMO_BLUE)
            .iter()
            .all(|h| h.state == HealthState::Healthy);
    assert!(healthy);
    assert!(r.lb.tags_of(DEMO_BLUE).is_empty(), "record removed");
}

#[tokio::test(start_paused = true)]
async fn without_undo_the_failing_batch_stays_out_reads_failed_and_the_record_stays() {
    let r = rig();
    r.traffic.set(BLUE_DIM, 100.0, 0.0);
    let (report, w) = run_in_place(&r, None, vec!["deploy batch 2/2"]).await;
    // Not `reverted`: the group is not back as it was.
    assert_eq!(
        (report.result, report.exit_code),
        ("failed", 1),
        "{report:?}"
    );
    assert_eq!(seen(&w).len(), 2);
    assert_eq!(ids(&r.lb), ["10.0.1.1", "10.0.1.2"]);
    let left = report.left_behind.clone().unwrap_or_default();
    assert!(
        left.contains("10.0.1.1, 10.0.1.2: the new version, registered"),
        "{left}"
    );
    assert!(
        left.contains("10.0.1.3, 10.0.1.4: --deploy started or failed, out of the group"),
        "{left}"
    );
    assert!(
        left.contains(&format!(
            "alb-rollout rollback --target-group {DEMO_BLUE} --undo"
        )),
        "{left}"
    );
    let tags = r.lb.tags_of(DEMO_BLUE);
    assert!(!tags.contains_key("alb-rollout:beat"), "{tags:?}");
    let rec = group_record::decode(&tags).unwrap().unwrap();
    assert_eq!(rec.in_place.map(|p| p.started), Some(2));
}

#[tokio::test(start_paused = true)]
async fn rollback_undo_undoes_the_recorded_batches_and_registers_every_target() {
    let r = rig();
    r.traffic.set(BLUE_DIM, 100.0, 0.0);
    // Left as a run without --undo (or one killed mid-batch) leaves it:
    // batch 2 out, both batches' deploys started.
    let (_, w) = run_in_place(&r, None, vec!["deploy batch 2/2"]).await;
    let tags = r.lb.tags_of(DEMO_BLUE);
    let rec = group_record::decode(&tags).unwrap().unwrap();
    let goal = crate::engine::goal::Goal::of_group_record(DEMO_BLUE, &rec, true);
    let undo = converge_undo::UndoRun {
        commands: w.clone(),
        command: "./undo.sh".into(),
        record: rec.in_place.clone().unwrap(),
        group: DEMO_BLUE.into(),
        run_id: rec.run_id.clone(),
        timeout: Duration::from_secs(600),
    };
    let mut notes = |_n: converge::Note| {};
    let mut c = converge::Converger {
        lb: r.lb.as_ref(),
        route: None,
        listener_arn: String::new(),
        run_id: rec.run_id.clone(),
        goal,
        settings: converge::Settings {
            health_timeout: Duration::from_secs(300),
            health_poll: Duration::from_secs(2),
            settle: Duration::from_secs(5),
            revert_timeout: Duration::from_secs(300),
            apply: apply::ApplyPolicy::default(),
            stages: vec![],
        },
        cancel: Cancel::new(),
        notes: &mut notes,
        undo: Some(undo),
    };
    c.run().await.unwrap();
    let labels: Vec<String> = seen(&w).into_iter().map(|c| c.0).skip(2).collect();
    assert_eq!(labels, ["undo batch 2/2", "undo batch 1/2"]);
    assert_eq!(ids(&r.lb), FOUR);
    // The record now counts no batch as started: a second rollback --undo
    // undoes nothing again.
    let rec = group_record::decode(&r.lb.tags_of(DEMO_BLUE))
        .unwrap()
        .unwrap();
    assert_eq!(rec.in_place.map(|p| p.started), Some(0));
}

#[tokio::test(start_paused = true)]
async fn a_cancel_during_a_deploy_undoes_the_started_batches_and_exits_130() {
    let r = rig();
    r.traffic.set(BLUE_DIM, 100.0, 0.0);
    let (report, w) = run_with(&r, Some("./undo.sh"), vec![], Some("deploy batch 2/2")).await;
    assert_eq!(
        (report.result, report.exit_code),
        ("cancelled", 130),
        "{report:?}"
    );
    let labels: Vec<String> = seen(&w).into_iter().map(|c| c.0).collect();
    assert_eq!(
        labels,
        [
            "deploy batch 1/2",
            "deploy batch 2/2",
            "undo batch 2/2",
            "undo batch 1/2"
        ]
    );
    assert_eq!(ids(&r.lb), FOUR);
    assert!(r.lb.tags_of(DEMO_BLUE).is_empty(), "record removed");
}

#[tokio::test(start_paused = true)]
async fn a_failed_undo_is_recorded_in_the_result_with_its_tail() {
    let r = rig();
    r.traffic.set(BLUE_DIM, 100.0, 0.0);
    let fail = vec!["deploy batch 2/2", "undo batch 2/2"];
    let (report, _) = run_in_place(&r, Some("./undo.sh"), fail).await;
    let undo = (report.batch_commands.iter())
        .find(|c| c.stage == "undo" && c.batch == 2)
        .expect("batch 2's undo is recorded");
    assert!(!undo.passed && !undo.tail.is_empty(), "{undo:?}");
    assert_eq!(undo.exit_status, Some(1));
    assert_ne!(report.result, "promoted", "{report:?}");
}
