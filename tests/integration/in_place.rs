//! `rolling --in-place` through the real binary on the emulator: the
//! group's own loopback targets (tests/emulator/rolling_demo.py; its one
//! new target is left alone), and a deploy command (a Python script with boto3, no `aws` CLI)
//! that writes down, when it runs, its `ALB_ROLLOUT_TARGETS` and what
//! DescribeTargetHealth says the group holds at that moment.

use crate::rolling::{stack, targets, Stack};
use crate::support::*;
use alb_rollout::alb::aws::AwsLoadBalancer;
use alb_rollout::alb::{HealthState, LoadBalancerPort};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;

const SCRIPT: &str = r#"
import boto3, json, os, sys, time
elb = boto3.client("elbv2", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                   region_name=os.environ.get("AWS_REGION", "us-east-1"))
tg = os.environ["ALB_ROLLOUT_GREEN"]
held = [f'{d["Target"]["Id"]}:{d["Target"]["Port"]}' for d in
        elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]]
hook, step = os.environ["ALB_ROLLOUT_HOOK"], os.environ["ALB_ROLLOUT_STEP"]
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({"hook": hook, "step": step,
                        "targets": os.environ["ALB_ROLLOUT_TARGETS"], "held": held}) + "\n")
if hook == "deploy" and step == os.environ.get("INPLACE_SLOW_STEP"):
    time.sleep(60)
if hook == "deploy" and step == os.environ.get("INPLACE_FAIL_STEP"):
    print("the new version does not install on", os.environ["ALB_ROLLOUT_TARGETS"])
    sys.exit(1)
"#;

/// The script and the log it writes, in a directory of this test's own.
pub(crate) struct Deploy {
    dir: PathBuf,
}

impl Deploy {
    pub(crate) fn new(name: &str) -> Deploy {
        let dir = std::env::temp_dir().join(format!("alb-in-place-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("deploy.py"), SCRIPT).unwrap();
        Deploy { dir }
    }

    pub(crate) fn command(&self) -> String {
        format!(
            "'{}' '{}' '{}'",
            python().display(),
            self.dir.join("deploy.py").display(),
            self.dir.join("log").display()
        )
    }

    /// A file beside the log, gone with it.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub(crate) fn log(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Deploy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn args(s: &Stack, d: &Deploy, undo: bool) -> Vec<String> {
    let mut a: Vec<String> = [
        "rolling",
        "--target-group",
        &s.group,
        "--in-place",
        "--batch",
        "2",
        "--deploy",
        &d.command(),
        "--interval",
        "2s",
        "--cloudwatch",
        "false",
        "--probe",
        &format!("http://{}/", s.old[0]),
        "--drain-timeout",
        "60s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if undo {
        a.extend(["--undo".to_string(), d.command()]);
    }
    a
}

pub(crate) fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

pub(crate) fn all_healthy(list: &[String]) -> Vec<(String, HealthState)> {
    let mut t: Vec<(String, HealthState)> = list
        .iter()
        .map(|s| (s.clone(), HealthState::Healthy))
        .collect();
    t.sort_by(|a, b| a.0.cmp(&b.0));
    t
}

/// Each logged command ran while none of its targets was in the group.
pub(crate) fn ran_while_out(log: &[Value]) {
    for entry in log {
        let held: Vec<&str> = (entry["held"].as_array().unwrap().iter())
            .map(|v| v.as_str().unwrap())
            .collect();
        for t in entry["targets"].as_str().unwrap().split(',') {
            assert!(!held.contains(&t), "{t} was in the group: {entry}");
        }
    }
}

pub(crate) fn kinds(log: &[Value]) -> Vec<String> {
    (log.iter())
        .map(|e| {
            format!(
                "{} {}",
                e["hook"].as_str().unwrap(),
                e["step"].as_str().unwrap()
            )
        })
        .collect()
}

/// Spawn `cmd` and wait until its stdout shows `marker` (then keep
/// draining it, so the child never blocks on a full pipe).
pub(crate) fn until_line(mut cmd: std::process::Command, marker: &str) -> std::process::Child {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let (mut line, mut seen) = (String::new(), vec![]);
    while reader.read_line(&mut line).unwrap() > 0 {
        seen.push(line.clone());
        if line.contains(marker) {
            std::thread::spawn(move || for _ in reader.lines() {});
            return child;
        }
        line.clear();
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("never saw {marker}: {seen:?}");
}

pub(crate) async fn record_gone(emu: &Emulator, group: &str) -> bool {
    let tags = AwsLoadBalancer::new(&emu.sdk_config().await)
        .tags(group)
        .await
        .unwrap();
    tags.keys().all(|k| !k.starts_with("alb-rollout:"))
}

/// An emulator with a group of `old` targets (and one new target, left
/// alone), and the deploy script of test `name`.
pub(crate) fn in_place_stack(name: &str, old: &str) -> (Emulator, Stack, Deploy) {
    let emu = Emulator::start();
    let s = stack(&emu, &["--old", old, "--new", "1"]);
    (emu, s, Deploy::new(name))
}

/// The run of `a` whose `--deploy` fails on batch `step`.
pub(crate) fn failing_at(emu: &Emulator, a: &[String], step: &str) -> Run {
    let out = emu
        .cmd(&strs(a))
        .env("INPLACE_FAIL_STEP", step)
        .output()
        .unwrap();
    Run::from(out)
}

/// The commands in `log` were `want` and each ran with its targets out
/// of the group; the group is back to every original target, healthy,
/// and the run's record is gone.
pub(crate) async fn back_after(emu: &Emulator, s: &Stack, log: &[Value], want: &[&str]) {
    assert_eq!(kinds(log), want, "{log:?}");
    ran_while_out(log);
    assert_eq!(targets(emu, &s.group).await, all_healthy(&s.old));
    assert!(record_gone(emu, &s.group).await);
}

/// The `--undo` runs in the deploy script's log.
fn undos(d: &Deploy) -> Vec<Value> {
    (d.log().into_iter())
        .filter(|e| e["hook"] == "undo")
        .collect()
}

#[tokio::test]
async fn in_place_runs_the_deploy_once_per_batch_while_it_is_out_and_keeps_the_same_targets() {
    let (emu, s, d) = in_place_stack("good", "4");
    let r = emu.run(&strs(&args(&s, &d, true)));
    assert_eq!(r.code, 0, "{r:?}");
    let log = d.log();
    let batches: Vec<&str> = log.iter().map(|e| e["targets"].as_str().unwrap()).collect();
    let mut each: Vec<String> = batches.join(",").split(',').map(str::to_string).collect();
    each.sort();
    let mut old = s.old.clone();
    old.sort();
    assert_eq!(each, old, "every target once");
    back_after(&emu, &s, &log, &["deploy 1", "deploy 2"]).await;
}

#[tokio::test]
async fn a_deploy_failing_on_batch_two_undoes_both_batches_and_exits_1() {
    let (emu, s, d) = in_place_stack("fail", "4");
    let r = failing_at(&emu, &args(&s, &d, true), "2");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("deploy batch 2/2"), "{}", r.stdout);
    // The log says where each batch is, and shows the failed deploy's tail.
    for part in [
        "batch 1/2: back in service:",
        "batch 1/2: deployed and back in service; checking",
        "deploy batch 2/2: --deploy failed (exit 1); its last lines:",
        "  | the new version does not install on",
    ] {
        assert!(r.stdout.contains(part), "{part}: {}", r.stdout);
    }
    assert!(
        !r.stdout.contains("green is ready") && !r.stdout.contains("replaced"),
        "{}",
        r.stdout
    );
    let full = ["deploy 1", "deploy 2", "undo 2", "undo 1"];
    back_after(&emu, &s, &d.log(), &full).await;
}

#[tokio::test]
async fn kill_9_mid_in_place_then_rollback_undo_leaves_every_target_registered() {
    let (emu, s, d) = in_place_stack("kill", "4");
    let a = args(&s, &d, false);
    let mut cmd = emu.cmd(&strs(&a));
    cmd.env("INPLACE_SLOW_STEP", "2");
    let mut child = until_line(cmd, "deploy batch 2/2: --deploy started");
    child.kill().unwrap(); // SIGKILL: no revert, the record stays.
    let _ = child.wait();
    let mid = targets(&emu, &s.group).await;
    assert_eq!(mid.len(), 2, "batch 2 is out: {mid:?}");
    let undo = d.command();
    let r = emu.run(&[
        "rollback",
        "--target-group",
        &s.group,
        "--force",
        "--undo",
        &undo,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("ran --undo"), "{}", r.stdout);
    back_after(&emu, &s, &undos(&d), &["undo 2", "undo 1"]).await;
}

#[tokio::test]
async fn in_place_bad_input_is_refused_naming_each_culprit_with_no_change() {
    let (emu, s, d) = in_place_stack("bad", "2");
    emu.clear_calls();
    let mut a = args(&s, &d, true);
    a.extend(["--add".to_string(), s.new[0].clone()]);
    let r = emu.run(&strs(&a));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains("--add"),
        "{r:?}"
    );
    // Both targets at once would leave none healthy outside the batch.
    let r = emu.run(&strs(&args(&s, &d, true)));
    assert_eq!(r.code, 2, "{r:?}");
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(
        said.contains("batch 1 of") && said.contains("--batch"),
        "{said}"
    );
    // --deploy without --in-place.
    let r = emu.run(&[
        "rolling",
        "--target-group",
        &s.group,
        "--add",
        &s.new[0],
        "--deploy",
        "true",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains("--deploy"),
        "{r:?}"
    );
    let changed: Vec<String> = (emu.calls().into_iter())
        .map(|(_, op, _)| op)
        .filter(|op| !op.starts_with("Describe"))
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    // The dry run lists the deploy, and the revert's undo of every batch
    // newest first; it runs no command and changes nothing.
    let mut dry = args(&s, &d, true);
    dry[5] = "1".into();
    dry.push("--dry-run".into());
    let r = emu.run(&strs(&dry));
    assert_eq!(r.code, 0, "{r:?}");
    let undo_lines: Vec<&str> = (r.stdout.lines())
        .filter(|l| l.contains("--undo with ALB_ROLLOUT_TARGETS="))
        .collect();
    assert_eq!(undo_lines.len(), 2, "{}", r.stdout);
    assert!(
        undo_lines[0].contains(&s.old[1]),
        "newest first: {undo_lines:?}"
    );
    assert!(r.stdout.contains("--deploy"), "{}", r.stdout);
    assert!(d.log().is_empty(), "a dry run runs no command");
    let changed = (emu.calls().into_iter()).filter(|(_, op, _)| !op.starts_with("Describe"));
    assert_eq!(changed.count(), 0);
}

#[tokio::test]
async fn without_undo_the_failing_batch_stays_out_and_the_printed_rollback_finishes_the_job() {
    let (emu, s, d) = in_place_stack("no-undo", "4");
    let r = failing_at(&emu, &args(&s, &d, false), "2");
    assert_eq!(r.code, 1, "{r:?}");
    // Not `reverted`: the group is not back to its original.
    assert!(r.stdout.contains("result: failed (exit 1)"), "{}", r.stdout);
    assert_eq!(kinds(&d.log()), ["deploy 1", "deploy 2"]);
    let mut old = s.old.clone();
    old.sort();
    // Batch 1 keeps the new version, batch 2 stays out.
    assert_eq!(targets(&emu, &s.group).await, all_healthy(&old[..2]));
    assert!(
        r.stdout.contains("the new version, registered"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("out of the group"), "{}", r.stdout);
    let finish = format!("alb-rollout rollback --target-group {} --undo", s.group);
    assert!(r.stdout.contains(&finish), "{}", r.stdout);
    // That command, right away (the run removed its heartbeat): no --force.
    let undo = d.command();
    let r = emu.run(&["rollback", "--target-group", &s.group, "--undo", &undo]);
    assert_eq!(r.code, 0, "{r:?}");
    back_after(&emu, &s, &undos(&d), &["undo 2", "undo 1"]).await;
}
