//! Hooks as planned actions: a user's command at one stage of the run, with
//! the variables it is given fixed at planning time (which step, green's
//! share, the batch, the preview header while the preview rule is live).
//! Where each stage goes in a plan is `strategy::hooks`; the engine decides
//! what a hook's failure means (before the promotion a failed check, after
//! it a failed run with the route left alone, after a revert nothing).

use crate::alb::Target;
use crate::plan::Tenths;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookStage {
    /// Green is healthy (and the preview rule live), no public traffic yet.
    PreTraffic,
    /// After each step's hold passed its analysis, before the next write.
    PostStep,
    PrePromote,
    PostPromote,
    /// After a verified revert; informational.
    PostRevert,
}

impl HookStage {
    pub const ALL: [HookStage; 5] = [
        HookStage::PreTraffic,
        HookStage::PostStep,
        HookStage::PrePromote,
        HookStage::PostPromote,
        HookStage::PostRevert,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HookStage::PreTraffic => "pre-traffic",
            HookStage::PostStep => "post-step",
            HookStage::PrePromote => "pre-promote",
            HookStage::PostPromote => "post-promote",
            HookStage::PostRevert => "post-revert",
        }
    }

    pub fn parse(s: &str) -> Option<HookStage> {
        HookStage::ALL.into_iter().find(|h| h.name() == s)
    }

    /// A failure here is a failed check: the run reverts.
    pub fn before_promotion(self) -> bool {
        matches!(
            self,
            HookStage::PreTraffic | HookStage::PostStep | HookStage::PrePromote
        )
    }
}

impl std::fmt::Display for HookStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One hook where the plan runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookSpec {
    pub stage: HookStage,
    pub command: String,
    #[serde(rename = "timeout_seconds", with = "crate::plan::seconds")]
    pub timeout: Duration,
    /// 1-based; 0 before the first step.
    pub step: usize,
    pub green_percent: Tenths,
    /// The batch: rolling's round, or the targets the run registers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// `NAME=VALUE` while the preview rule is live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_header: Option<String>,
}

impl HookSpec {
    /// What reports call it: `hook pre-traffic`, `hook post-step 2`.
    pub fn label(&self) -> String {
        match self.stage {
            HookStage::PostStep => format!("hook post-step {}", self.step),
            s => format!("hook {s}"),
        }
    }
}
