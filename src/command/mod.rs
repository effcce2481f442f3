//! The command port: running a user's shell command (a `--hook`, a
//! `--check`, `rolling --in-place`'s `--deploy`/`--undo`) and what came of
//! it. The port decides nothing about the run; the engine judges the
//! result. `shell` is the real runner (`sh -c` in its own process group,
//! output streamed with a prefix, SIGTERM then SIGKILL to the group on a
//! cancel or a timeout); `fake` answers from a script for component tests
//! under paused time.
//!
//! The child's environment is the job's (AWS credentials, the workspace),
//! minus every `ALB_ROLLOUT_*` variable the parent read its inputs from, plus
//! the spec's own variables: a hook that runs `alb-rollout status` must not
//! be handed the parent's `--steps` or `--green`.

pub mod fake;
pub mod shell;

pub use fake::{FakeCommands, FakeOutcome};
pub use shell::ShellRunner;

use crate::signal::Cancel;
use std::ffi::OsString;
use std::time::Duration;

/// How many of a command's last output lines are kept for the report.
pub const TAIL_LINES: usize = 20;

/// The variables a command may be given by the run (set by the run, not
/// inputs): a check for unknown `ALB_ROLLOUT_*` inputs must accept them.
pub const RUN_VARIABLES: &[&str] = &[
    "ALB_ROLLOUT_HOOK",
    "ALB_ROLLOUT_RUN_ID",
    "ALB_ROLLOUT_STRATEGY",
    "ALB_ROLLOUT_STEP",
    "ALB_ROLLOUT_GREEN_PERCENT",
    "ALB_ROLLOUT_GREEN",
    "ALB_ROLLOUT_BLUE",
    "ALB_ROLLOUT_LB_DNS",
    "ALB_ROLLOUT_PREVIEW_HEADER",
    "ALB_ROLLOUT_TARGETS",
];

/// One command to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// What its output lines are prefixed with: `hook pre-traffic`.
    pub label: String,
    /// Given to `sh -c`.
    pub script: String,
    /// Past this, the command is stopped and its result is `TimedOut`.
    pub timeout: Duration,
    /// Added to the job's environment (after the parent's inputs are removed).
    pub env: Vec<(String, String)>,
    /// Between SIGTERM and SIGKILL, on a timeout or a cancel. On a cancel it
    /// is counted from the signal, so that the revert after it still fits
    /// in `--revert-timeout`.
    pub grace: Duration,
}

impl CommandSpec {
    pub fn new(label: &str, script: &str, timeout: Duration) -> Self {
        CommandSpec {
            label: label.to_string(),
            script: script.to_string(),
            timeout,
            env: Vec::new(),
            grace: DEFAULT_GRACE,
        }
    }

    pub fn with_env(mut self, env: Vec<(String, String)>) -> Self {
        self.env = env;
        self
    }

    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
}

/// The grace period when nothing tighter is asked for.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The grace period that leaves the revert after a cancel most of its
/// budget: a quarter of `--revert-timeout`, between 0.5 s and 5 s.
pub fn grace_for(revert_timeout: Duration) -> Duration {
    (revert_timeout / 4).clamp(Duration::from_millis(500), DEFAULT_GRACE)
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal ended it (not one the runner sent).
    Signal(i32),
    /// It ran past its timeout and was stopped.
    TimedOut,
    /// The run was cancelled while it ran; it was stopped.
    Cancelled,
    /// `sh` could not be started.
    SpawnFailed(String),
}

impl Exit {
    /// The exit status, when there is one (the JSON result's `exit_status`).
    pub fn code(&self) -> Option<i32> {
        match self {
            Exit::Code(c) => Some(*c),
            _ => None,
        }
    }

    /// Short words for reports: `exit 3`, `timed out after 10m`.
    pub fn describe(&self, timeout: Duration) -> String {
        match self {
            Exit::Code(c) => format!("exit {c}"),
            Exit::Signal(s) => format!("killed by signal {s}"),
            Exit::TimedOut => format!("timed out after {}", humantime::format_duration(timeout)),
            Exit::Cancelled => "stopped by the cancel".to_string(),
            Exit::SpawnFailed(e) => format!("could not start sh: {e}"),
        }
    }
}

/// What running a command gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandResult {
    pub exit: Exit,
    pub duration: Duration,
    /// The last `TAIL_LINES` lines of its stdout and stderr, in order.
    pub tail: Vec<String>,
}

impl CommandResult {
    pub fn succeeded(&self) -> bool {
        self.exit == Exit::Code(0)
    }
}

/// The port: runs one command to its end (or its timeout, or the cancel).
#[async_trait::async_trait]
pub trait CommandRunner: Send + Sync {
    async fn run(&self, spec: &CommandSpec, cancel: &Cancel) -> CommandResult;
}

/// The child's environment: the parent's without the `ALB_ROLLOUT_*`
/// inputs, with `extra` on top (later entries win).
pub fn child_env(
    parent: impl IntoIterator<Item = (OsString, OsString)>,
    extra: &[(String, String)],
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = parent
        .into_iter()
        .filter(|(k, _)| !k.to_string_lossy().starts_with("ALB_ROLLOUT_"))
        .collect();
    for (k, v) in extra {
        env.retain(|(have, _)| have.as_os_str() != k.as_str());
        env.push((k.into(), v.into()));
    }
    env
}

/// What a run's commands need besides their own spec: the runner (the
/// app sets the real one; component tests a fake), the `--check` commands
/// each analysis interval runs, and the load balancer's DNS name for the
/// hooks' `ALB_ROLLOUT_LB_DNS`.
#[derive(Clone, Default)]
pub struct Commands {
    pub runner: Option<std::sync::Arc<dyn CommandRunner>>,
    pub checks: Vec<CommandSpec>,
    pub lb_dns: Option<String>,
}

impl std::fmt::Debug for Commands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Commands")
            .field("runner", &self.runner.is_some())
            .field("checks", &self.checks)
            .field("lb_dns", &self.lb_dns)
            .finish()
    }
}

/// Keeps the last `TAIL_LINES` lines.
#[derive(Debug, Default)]
pub(crate) struct Tail(std::collections::VecDeque<String>);

impl Tail {
    pub(crate) fn push(&mut self, line: String) {
        if self.0.len() == TAIL_LINES {
            self.0.pop_front();
        }
        self.0.push_back(line);
    }

    pub(crate) fn lines(self) -> Vec<String> {
        self.0.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(k: &str, v: &str) -> (OsString, OsString) {
        (k.into(), v.into())
    }

    #[test]
    fn child_env_drops_the_parents_inputs_and_adds_the_run_variables() {
        let parent = vec![
            os("AWS_REGION", "eu-west-1"),
            os("ALB_ROLLOUT_STEPS", "10,50"),
            os("ALB_ROLLOUT_GREEN", "arn:parent"),
            os("PATH", "/bin"),
        ];
        let extra = vec![("ALB_ROLLOUT_GREEN".to_string(), "arn:green".to_string())];
        let env = child_env(parent, &extra);
        assert_eq!(
            env,
            vec![
                os("AWS_REGION", "eu-west-1"),
                os("PATH", "/bin"),
                os("ALB_ROLLOUT_GREEN", "arn:green"),
            ]
        );
    }

    #[test]
    fn tail_keeps_the_last_lines_in_order() {
        let mut t = Tail::default();
        for i in 0..25 {
            t.push(format!("line {i}"));
        }
        let lines = t.lines();
        assert_eq!(lines.len(), TAIL_LINES);
        assert_eq!(lines.first().map(String::as_str), Some("line 5"));
        assert_eq!(lines.last().map(String::as_str), Some("line 24"));
    }

    #[test]
    fn grace_leaves_the_revert_most_of_its_budget() {
        assert_eq!(grace_for(Duration::from_secs(8)), Duration::from_secs(2));
        assert_eq!(
            grace_for(Duration::from_secs(1)),
            Duration::from_millis(500)
        );
        assert_eq!(grace_for(Duration::from_secs(600)), DEFAULT_GRACE);
    }
}
