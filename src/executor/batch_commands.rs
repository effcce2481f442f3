//! An in-place run's `--deploy` and `--undo` as commands for the command
//! port (`command::CommandRunner`): one command for one batch of targets,
//! with the batch in `ALB_ROLLOUT_TARGETS` (`ID` or `ID:PORT`,
//! comma-separated) beside the run's other variables, and what a result
//! that is not exit 0 means, in words.

use crate::alb::Target;
use crate::command::{CommandResult, CommandRunner, CommandSpec};
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

    /// Run it; `Err` names the command, how it ended and its last lines.
    pub async fn run(
        &self,
        runner: &dyn CommandRunner,
        timeout: Duration,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<(), String> {
        let r = runner.run(&self.spec(timeout, grace), cancel).await;
        match r.succeeded() {
            true => Ok(()),
            false => Err(self.failure(&r, timeout)),
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
}
