//! The final result of a run, printed as one JSON document with
//! `--output json` and summarised in text otherwise. Field names are a
//! documented contract (docs/output.md).

use crate::analysis::{CheckOutcome, Verdict};
use crate::engine::{Final, Reason};
use crate::plan::Tenths;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct IntervalRecord {
    /// Seconds since the run started.
    pub at_seconds: f64,
    pub verdict: Verdict,
    pub checks: Vec<crate::analysis::CheckResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub percent: f64,
    pub blue_weight: u16,
    pub green_weight: u16,
    pub started_at_seconds: f64,
    pub duration_seconds: f64,
    pub intervals: Vec<IntervalRecord>,
}

/// One `--hook` that ran: where, how it ended, how long it took, and (when
/// it failed) the last lines of its output.
#[derive(Debug, Clone, Serialize)]
pub struct HookRecord {
    pub stage: crate::engine::HookStage,
    /// 1-based; 0 before the first step.
    pub step: usize,
    pub command: String,
    /// `None` when it did not exit by itself (a timeout, a cancel, a signal).
    pub exit_status: Option<i32>,
    pub passed: bool,
    /// `exit 0`, `exit 3`, `timed out after 10m`, `stopped by the cancel`.
    pub outcome: String,
    pub duration_seconds: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tail: Vec<String>,
}

/// One `--deploy` or `--undo` of `rolling --in-place`: which batch, on
/// which targets, how it ended, how long it took, and (when it failed)
/// the last lines of its output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchCommandRecord {
    /// `deploy` or `undo`.
    pub stage: &'static str,
    /// 1-based, of `batches`.
    pub batch: usize,
    pub batches: usize,
    /// `ID` or `ID:PORT`, as `ALB_ROLLOUT_TARGETS` gave them.
    pub targets: Vec<String>,
    pub command: String,
    /// `None` when it did not exit by itself (a timeout, a cancel, a signal).
    pub exit_status: Option<i32>,
    pub passed: bool,
    /// `exit 0`, `exit 3`, `timed out after 10m`, `stopped by the cancel`.
    pub outcome: String,
    pub duration_seconds: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tail: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub result: &'static str,
    pub exit_code: i32,
    pub run_id: String,
    pub strategy: &'static str,
    pub listener_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_arn: Option<String>,
    /// The group a `rolling` run works in (it has no route).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<String>,
    /// What undoes the run by hand if it could not undo itself.
    pub rollback_command: String,
    pub blue: String,
    pub green: String,
    pub steps: Vec<StepRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The interval that failed, with every check's measured values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_check: Option<CheckOutcome>,
    /// From the moment a failure (or cancel) was detected to the original
    /// route read back from the API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_to_revert_seconds: Option<f64>,
    pub duration_seconds: f64,
    /// What a failed revert left behind, and the command that fixes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_behind: Option<String>,
    pub warnings: Vec<String>,
    /// `ab`: the per-variant report, its significance test, and where its
    /// numbers come from (docs/ab.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ab: Option<serde_json::Value>,
    /// `shadow` and `canary --shadow-first`: the replay's report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<crate::shadow::report::ShadowReport>,
    /// Every `--hook` that ran, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookRecord>,
    /// `rolling --in-place`: every `--deploy` and `--undo` that ran, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub batch_commands: Vec<BatchCommandRecord>,
}

impl RunReport {
    pub fn set_final(&mut self, f: &Final) {
        self.exit_code = f.exit_code();
        let (result, reason) = match f {
            Final::Promoted => ("promoted", None),
            Final::Reverted {
                reason: r @ Reason::Cancelled(_),
            } => ("cancelled", Some(r.clone())),
            Final::Reverted { reason } => ("reverted", Some(reason.clone())),
            Final::NotStarted { reason } => ("not-started", Some(reason.clone())),
            Final::RevertIncomplete { reason, .. } => ("revert-incomplete", Some(reason.clone())),
            Final::PromotedHookFailed { reason } => ("promoted-hook-failed", Some(reason.clone())),
        };
        self.result = result;
        self.reason = reason;
    }

    /// The hook that failed the run (the last one that did not pass).
    pub fn failed_hook(&self) -> Option<&HookRecord> {
        (self.hooks.iter().rev())
            .find(|h| !h.passed && h.stage != crate::engine::HookStage::PostRevert)
    }

    /// The `--deploy` or `--undo` that failed last.
    pub fn failed_batch_command(&self) -> Option<&BatchCommandRecord> {
        self.batch_commands.iter().rev().find(|c| !c.passed)
    }

    pub fn record_step(&mut self, percent: Tenths, blue_weight: u16, green_weight: u16, at: f64) {
        self.steps.push(StepRecord {
            percent: percent.as_percent(),
            blue_weight,
            green_weight,
            started_at_seconds: at,
            duration_seconds: 0.0,
            intervals: vec![],
        });
    }
}
