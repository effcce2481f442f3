//! The port an in-place run gives its `--deploy` and `--undo` through: one
//! command for one batch of targets, with the batch in
//! `ALB_ROLLOUT_TARGETS` (`ID` or `ID:PORT`, comma-separated). The real one
//! runs it with `sh -c` (`app::batch_shell`); the fake records each call and
//! what the group looked like at that moment, for component tests.

use crate::alb::Target;
use crate::signal::Cancel;
use async_trait::async_trait;
use std::sync::{Arc, Mutex};

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

    /// How progress and errors name the job.
    pub fn label(&self) -> String {
        format!(
            "--{} on batch {} of {} ({})",
            self.stage,
            self.batch + 1,
            self.of,
            crate::alb::list_targets(&self.targets)
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

#[async_trait]
pub trait BatchCommands: Send + Sync {
    /// Run the job to its end: `Err` says why it failed (its exit status
    /// or timeout, and the tail of its output). A cancel stops it (its
    /// process group gets SIGTERM, then SIGKILL) and is an `Err`.
    async fn run(&self, job: &BatchJob, cancel: &Cancel) -> Result<(), String>;
}

/// What a fake job sees when it runs (the test decides: a read of the
/// group, for instance).
pub type Observe = Box<dyn Fn(&BatchJob) -> String + Send + Sync>;

/// Records every job; fails the ones `fail` picks.
#[derive(Clone, Default)]
pub struct FakeCommands {
    pub calls: Arc<Mutex<Vec<(BatchJob, String)>>>,
    fail: Arc<Mutex<Vec<(&'static str, usize)>>>,
    observe: Arc<Mutex<Option<Observe>>>,
}

impl FakeCommands {
    pub fn new() -> Self {
        Self::default()
    }

    /// The `stage` job on batch `batch` exits 1.
    pub fn fail(&self, stage: &'static str, batch: usize) {
        self.fail.lock().unwrap().push((stage, batch));
    }

    pub fn observe(&self, f: Observe) {
        *self.observe.lock().unwrap() = Some(f);
    }

    pub fn jobs(&self) -> Vec<(BatchJob, String)> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl BatchCommands for FakeCommands {
    async fn run(&self, job: &BatchJob, _cancel: &Cancel) -> Result<(), String> {
        let seen = (self.observe.lock().unwrap().as_ref())
            .map(|f| f(job))
            .unwrap_or_default();
        self.calls.lock().unwrap().push((job.clone(), seen));
        match self.fail.lock().unwrap().contains(&(job.stage, job.batch)) {
            true => Err(format!("{} exited with status 1", job.label())),
            false => Ok(()),
        }
    }
}
