//! The post-promotion phase of the full deploy (`canary --deregister-blue
//! BATCH`): after green has all the traffic, blue's targets leave in
//! batches. Pure: parsing the batch size, cutting blue's targets into
//! batches, and the actions that follow the promotion.
//!
//! Before the first batch the run holds for `--settle` with analysis: a
//! listener change reaches ALB's nodes seconds after the API call returns,
//! so the read-back alone does not prove that blue gets no new request
//! (see docs/full-deploy.md for why a settle time and not a probe). Then,
//! per batch: deregister, wait until the targets have drained, and (before
//! the next batch) one interval of analysis of green. A failure at any
//! point reverts: the convergence registers the batches back and waits
//! until enough of blue is healthy before the route moves (`converge`).

use crate::alb::{HealthState, Target, TargetHealth};
use crate::engine::{Action, BakeSpec, Group, Role};
use crate::plan::Tenths;
use serde::Serialize;
use std::time::Duration;

/// The default `--settle`: longer than the few seconds a listener change
/// usually takes to reach every ALB node, short next to a deploy.
pub const DEFAULT_SETTLE: &str = "15s";

/// `DEFAULT_SETTLE` as a duration: the revert's settle where no
/// `--settle` is given.
pub fn default_settle() -> Duration {
    Duration::from_secs(15)
}

/// How many of blue's targets leave at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BatchSize {
    /// A share of blue's targets at the start, rounded up (at least 1).
    Percent(u8),
    Count(usize),
}

/// `25%` or `2`. Zero, more than 100% and anything else are refused.
pub fn parse_batch(s: &str) -> Result<BatchSize, String> {
    let s = s.trim();
    let bad = || format!("{s:?} is not a batch size: give a count (2) or a share (25%)");
    match s.strip_suffix('%') {
        Some(p) => match p.trim().parse::<u8>() {
            Ok(n @ 1..=100) => Ok(BatchSize::Percent(n)),
            Ok(_) => Err(format!("{s:?} must be between 1% and 100%")),
            Err(_) => Err(bad()),
        },
        None => match s.parse::<usize>() {
            Ok(0) => Err("a batch of 0 targets would never end: give at least 1".into()),
            Ok(n) => Ok(BatchSize::Count(n)),
            Err(_) => Err(bad()),
        },
    }
}

impl BatchSize {
    /// Targets per batch out of `total`.
    pub fn per_batch(self, total: usize) -> usize {
        match self {
            BatchSize::Count(n) => n,
            BatchSize::Percent(p) => (total * usize::from(p)).div_ceil(100),
        }
        .max(1)
    }
}

/// The targets that serve or may serve: those already leaving (draining)
/// or unused are not blue's to take out.
pub fn serving(health: &[TargetHealth]) -> Vec<Target> {
    health
        .iter()
        .filter(|h| {
            !matches!(
                h.state,
                HealthState::Draining | HealthState::UnhealthyDraining | HealthState::Unused
            )
        })
        .map(|h| h.target.clone())
        .collect()
}

/// `targets` cut into batches of `size`, in the order given.
pub fn batches(targets: &[Target], size: BatchSize) -> Vec<Vec<Target>> {
    targets
        .chunks(size.per_batch(targets.len()))
        .map(<[Target]>::to_vec)
        .collect()
}

/// What the full deploy does after the promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlueDrain {
    pub batches: Vec<Vec<Target>>,
    /// The hold (with analysis) before the first batch.
    #[serde(rename = "settle_seconds", with = "crate::plan::seconds")]
    pub settle: Duration,
    /// The analysis between two batches.
    #[serde(rename = "check_seconds", with = "crate::plan::seconds")]
    pub check: Duration,
}

impl BlueDrain {
    /// The actions after the promotion write; `after_steps` numbers the
    /// holds after the canary's steps. No batches, no actions: a blue
    /// without targets has nothing to drain.
    pub fn actions(&self, blue: &str, after_steps: usize) -> Vec<Action> {
        if self.batches.is_empty() {
            return vec![];
        }
        let group = Group {
            arn: blue.to_string(),
            role: Role::Blue,
        };
        let hold = |duration| {
            Action::Bake(BakeSpec {
                step: after_steps,
                percent: Tenths::FULL,
                duration,
            })
        };
        let mut out = vec![hold(self.settle)];
        for (i, batch) in self.batches.iter().enumerate() {
            if i > 0 {
                out.push(hold(self.check));
            }
            out.push(Action::Deregister {
                group: group.clone(),
                targets: batch.clone(),
            });
            out.push(Action::AwaitDrained {
                group: group.clone(),
                targets: batch.clone(),
            });
        }
        out
    }
}

#[cfg(test)]
#[path = "drain_blue_tests.rs"]
mod tests;
