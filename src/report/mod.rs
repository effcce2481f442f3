//! Reporting a run: progress events as they happen (`text` for people, a
//! live line on a terminal), the final machine-readable result (`result`),
//! and inside GitHub Actions groups, annotations, outputs and a job summary
//! (`github`, `summary`).

pub mod github;
pub mod plan_summary;
pub mod result;
pub mod summary;
pub mod text;

use crate::alb::{Forward, HealthCounts, Target};
use crate::analysis::{BakeDecision, CheckOutcome};
use crate::engine::Reason;
use crate::plan::Tenths;
use std::time::Duration;

pub use result::{IntervalRecord, RunReport, StepRecord};

/// Something a person following the run wants to see.
#[derive(Debug)]
pub enum Progress<'a> {
    Started {
        run_id: &'a str,
        strategy: &'a str,
        scope: &'a crate::engine::Scope,
        /// What the run will do, in a few words ("3 steps", "one switch").
        shape: &'a str,
        total_bake: Duration,
    },
    /// Targets registered in `group` ("green", or "the group" in `rolling`).
    Registered {
        targets: &'a [Target],
        group: &'a str,
    },
    /// Targets taken out of blue (`--deregister-blue`); they drain next.
    Deregistered {
        targets: &'a [Target],
        group: &'a str,
    },
    /// A rolling round's targets are in and out; its analysis follows.
    Round {
        round: usize,
        rounds: usize,
        percent: Tenths,
        /// `rolling --in-place`: the round is a batch deployed and back in
        /// service, not targets replaced.
        in_place: bool,
    },
    Health {
        counts: HealthCounts,
        waited: Duration,
        /// `rolling --in-place`: the batch (1-based) of how many that is
        /// back in service, rather than green being ready.
        batch: Option<(usize, usize)>,
    },
    Shifted {
        step: usize,
        steps: usize,
        percent: Tenths,
        forward: &'a Forward,
    },
    Interval {
        step: usize,
        percent: Tenths,
        baked: Duration,
        bake: Duration,
        outcome: &'a CheckOutcome,
        decision: &'a BakeDecision,
    },
    Reverting {
        reason: &'a Reason,
    },
    /// One step of a gradual abort (`--abort gradual`), before the last.
    RampedBack {
        step: usize,
        steps: usize,
        forward: &'a Forward,
    },
    Reverted {
        seconds: f64,
    },
    Promoted {
        forward: &'a Forward,
    },
    /// A weight-0 entry written (`attach`: a group AWS does not health-check
    /// until a listener forwards to it) or removed (blue's, after the full
    /// deploy's last batch); no request moved.
    Attached {
        forward: &'a Forward,
        attach: bool,
    },
    Warning(String),
    /// `rolling --in-place`: what happens to a batch (recorded, its
    /// `--deploy` or `--undo` started or done), as one line.
    Batch(String),
    /// `shadow`: what the replay read, sent and found, as one line.
    Shadow(String),
    /// A rule of the run's (`ab`, `dark`) was `created`, `rewritten` (to
    /// its real forward, after it put a fresh green in use at weight 0) or
    /// `deleted` as planned.
    Rule {
        verb: &'static str,
        priority: u32,
        /// The rule's conditions in `--match` form.
        matches: &'a str,
        forward: &'a Forward,
    },
    /// Once a second during a wait, for a live view on a terminal.
    Tick {
        label: &'a str,
        left: Duration,
    },
}

pub trait Reporter: Send {
    fn progress(&mut self, p: Progress<'_>);
    /// True when the reporter redraws a live line and wants `Tick`s.
    fn live(&self) -> bool {
        false
    }
}

/// A reporter that keeps nothing, for tests and `--output json` quiet runs.
pub struct Silent;

impl Reporter for Silent {
    fn progress(&mut self, _: Progress<'_>) {}
}
