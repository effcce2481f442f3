//! An in-place run's `--deploy` and `--undo` as commands for the command
//! port (`command::CommandRunner`): one command for one batch of targets,
//! with the batch in `ALB_ROLLOUT_TARGETS` (`ID` or `ID:PORT`,
//! comma-separated) beside the run's other variables, and what a result
//! that is not exit 0 means, in words.

use crate::alb::Target;
use crate::command::{CommandResult, CommandRunner, CommandSpec};
use crate::report::result::BatchCommandRecord;
use crate::signal::Cancel;
use std::time::Duration;

/// One run of `--deploy` or `--undo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchJob {
    /// `deploy` or `undo`: `ALB_ROLLOUT_HOOK`.
    pub stage: &'static str,
    pub command: String,
    pub targets: Vec<Target>,
    /// 0-based batch, of `of`.
    pub batch: usize,
    pub of: usize,
    pub group: String,
    pub run_id: String,
}

impl BatchJob {
    /// The variables the command gets beside the job's environment.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("ALB_ROLLOUT_HOOK".into(), self.stage.into()),
            ("ALB_ROLLOUT_RUN_ID".into(), self.run_id.clone()),
            ("ALB_ROLLOUT_STRATEGY".into(), "rolling".into()),
            ("ALB_ROLLOUT_STEP".into(), (self.batch + 1).to_string()),
            ("ALB_ROLLOUT_GREEN".into(), self.group.clone()),
            ("ALB_ROLLOUT_TARGETS".into(), targets_env(&self.targets)),
        ]
    }

    /// How progress, errors and the command's output prefix name the job:
    /// `deploy batch 1/2`.
    pub fn label(&self) -> String {
        format!("{} batch {}/{}", self.stage, self.batch + 1, self.of)
    }

    pub fn spec(&self, timeout: Duration, grace: Duration) -> CommandSpec {
        CommandSpec::new(&self.label(), &self.command, timeout)
            .with_env(self.env())
            .with_grace(grace)
    }

    /// Run it: what the result records, and `Err` naming the command, how
    /// it ended and its last lines.
    pub async fn run(
        &self,
        runner: &dyn CommandRunner,
        timeout: Duration,
        grace: Duration,
        cancel: &Cancel,
    ) -> (BatchCommandRecord, Result<(), String>) {
        let r = runner.run(&self.spec(timeout, grace), cancel).await;
        let outcome = r.exit.describe(timeout);
        let record = self.record(r.exit.code(), &outcome, r.duration, &r.tail);
        match r.succeeded() {
            true => (record, Ok(())),
            false => (record, Err(self.failure(&r, timeout))),
        }
    }

    /// The result's record of this job (`tail` kept only when it failed).
    pub fn record(
        &self,
        exit_status: Option<i32>,
        outcome: &str,
        took: Duration,
        tail: &[String],
    ) -> BatchCommandRecord {
        let passed = exit_status == Some(0);
        BatchCommandRecord {
            stage: self.stage,
            batch: self.batch + 1,
            batches: self.of,
            targets: targets_env(&self.targets)
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            command: crate::redact::text(&self.command),
            exit_status,
            passed,
            outcome: outcome.to_string(),
            duration_seconds: took.as_secs_f64(),
            tail: match passed {
                true => vec![],
                false => tail.to_vec(),
            },
        }
    }

    fn failure(&self, r: &CommandResult, timeout: Duration) -> String {
        let tail = match r.tail.last() {
            Some(last) => format!("; last output: {last}"),
            None => String::new(),
        };
        format!(
            "--{} on batch {} of {} ({}) failed: {}{tail}",
            self.stage,
            self.batch + 1,
            self.of,
            crate::alb::list_targets(&self.targets),
            r.exit.describe(timeout)
        )
    }
}

/// `ALB_ROLLOUT_TARGETS`: `ID` or `ID:PORT` (an IPv6 address with a port
/// in brackets, `[ADDR]:PORT`), comma-separated.
pub fn targets_env(targets: &[Target]) -> String {
    let word = |t: &Target| match (t.port, t.id.contains(':')) {
        (Some(p), true) => format!("[{}]:{p}", t.id),
        (Some(p), false) => format!("{}:{p}", t.id),
        (None, _) => t.id.clone(),
    };
    targets.iter().map(word).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::state_tags::parse_target;

    #[test]
    fn the_batch_goes_to_the_command_as_ids_with_their_ports() {
        let ts = vec![
            parse_target("i-0123456789abcdef0"),
            parse_target("10.0.0.1:8080"),
            Target::new("fd00::1", Some(80)),
        ];
        assert_eq!(
            targets_env(&ts),
            "i-0123456789abcdef0,10.0.0.1:8080,[fd00::1]:80"
        );
        let job = BatchJob {
            stage: "deploy",
            command: "true".into(),
            targets: ts,
            batch: 1,
            of: 3,
            group: "tg".into(),
            run_id: "r-1".into(),
        };
        let env = job.env();
        assert!(env.contains(&("ALB_ROLLOUT_STEP".into(), "2".into())));
        assert!(env.contains(&("ALB_ROLLOUT_HOOK".into(), "deploy".into())));
        assert_eq!(job.label(), "deploy batch 2/3");
    }

    #[test]
    fn a_failed_batch_command_is_recorded_with_its_batch_targets_and_tail() {
        let job = BatchJob {
            stage: "undo",
            command: "./undo.sh".into(),
            targets: vec![parse_target("10.0.0.1:80"), parse_target("10.0.0.2:80")],
            batch: 0,
            of: 2,
            group: "tg".into(),
            run_id: "r-1".into(),
        };
        let tail = vec!["step 1".to_string(), "boom".to_string()];
        let r = job.record(Some(3), "exit 3", Duration::from_millis(1500), &tail);
        assert_eq!((r.stage, r.batch, r.batches), ("undo", 1, 2));
        assert_eq!(r.targets, vec!["10.0.0.1:80", "10.0.0.2:80"]);
        assert_eq!((r.exit_status, r.passed), (Some(3), false));
        assert_eq!((r.duration_seconds, r.tail.clone()), (1.5, tail.clone()));
        let ok = job.record(Some(0), "exit 0", Duration::ZERO, &tail);
        assert!(ok.passed && ok.tail.is_empty());
    }
}
