//! The judgement of a bake window across its intervals: counts failures
//! against `--failure-limit` and applies the no-data policy. Pure.

use super::judge::{CheckOutcome, Verdict};
use serde::Serialize;
use std::time::Duration;

/// What an interval without enough data means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum NoDataPolicy {
    /// Count it as a failed interval.
    Fail,
    /// Hold the step (its bake clock stops) until data comes, up to
    /// `--no-data-timeout`, then fail.
    Pause,
    /// Count it as passed, and say so in the output.
    Pass,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BakeDecision {
    /// Keep going; the interval counts toward the step's bake time.
    Continue,
    /// Keep going, but this interval does not count toward the bake time.
    Hold,
    /// Revert: the reason, with the measured values.
    Fail(String),
}

/// Carries failure counts across every step of one run.
#[derive(Debug, Clone)]
pub struct BakeTracker {
    pub failure_limit: u32,
    pub on_no_data: NoDataPolicy,
    pub no_data_timeout: Duration,
    failures: u32,
    held: Duration,
    /// Consecutive time spent waiting for CloudWatch to ingest a minute.
    waited: Duration,
}

impl BakeTracker {
    pub fn new(failure_limit: u32, on_no_data: NoDataPolicy, no_data_timeout: Duration) -> Self {
        BakeTracker {
            failure_limit: failure_limit.max(1),
            on_no_data,
            no_data_timeout,
            failures: 0,
            held: Duration::ZERO,
            waited: Duration::ZERO,
        }
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    fn fail(&mut self, why: String) -> BakeDecision {
        self.failures += 1;
        if self.failures >= self.failure_limit {
            BakeDecision::Fail(format!(
                "{why} (failed interval {} of --failure-limit {})",
                self.failures, self.failure_limit
            ))
        } else {
            BakeDecision::Continue
        }
    }

    /// Decide after one interval of `interval` length judged as `outcome`.
    pub fn observe(&mut self, outcome: &CheckOutcome, interval: Duration) -> BakeDecision {
        if outcome.verdict != Verdict::Waiting {
            self.waited = Duration::ZERO;
        }
        match outcome.verdict {
            Verdict::Pass => {
                self.held = Duration::ZERO;
                BakeDecision::Continue
            }
            Verdict::Waiting => self.wait(outcome, interval),
            Verdict::Fail => self.fail(outcome.summary()),
            Verdict::NoData => match self.on_no_data {
                NoDataPolicy::Pass => BakeDecision::Continue,
                NoDataPolicy::Fail => self.fail(format!("no data: {}", outcome.summary())),
                NoDataPolicy::Pause => {
                    self.held += interval;
                    if self.held >= self.no_data_timeout {
                        BakeDecision::Fail(format!(
                            "no data for {}s (--no-data-timeout): {}",
                            self.held.as_secs(),
                            outcome.summary()
                        ))
                    } else {
                        BakeDecision::Hold
                    }
                }
            },
        }
    }
}

impl BakeTracker {
    /// CloudWatch's lag is expected, so waiting for a minute to arrive holds
    /// the step; but a minute that never comes is "no data" once it has
    /// taken `--no-data-timeout`, and the no-data policy decides.
    fn wait(&mut self, outcome: &CheckOutcome, interval: Duration) -> BakeDecision {
        self.waited += interval;
        if self.waited < self.no_data_timeout {
            return BakeDecision::Hold;
        }
        let why = format!(
            "no data: no CloudWatch minute arrived for {}s (--no-data-timeout): {}",
            self.waited.as_secs(),
            outcome.summary()
        );
        match self.on_no_data {
            NoDataPolicy::Pass => BakeDecision::Continue,
            NoDataPolicy::Fail | NoDataPolicy::Pause => BakeDecision::Fail(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::judge::CheckResult;

    fn outcome(v: Verdict) -> CheckOutcome {
        CheckOutcome {
            verdict: v,
            checks: vec![CheckResult {
                check: "error-rate",
                verdict: v,
                detail: "green 5.00%".into(),
                command: None,
            }],
        }
    }
    const I: Duration = Duration::from_secs(10);

    #[test]
    fn first_failure_reverts_by_default() {
        let mut t = BakeTracker::new(1, NoDataPolicy::Fail, I * 10);
        assert_eq!(
            t.observe(&outcome(Verdict::Pass), I),
            BakeDecision::Continue
        );
        match t.observe(&outcome(Verdict::Fail), I) {
            BakeDecision::Fail(why) => assert!(
                why.contains("green 5.00%") && why.contains("1 of --failure-limit 1"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn failure_limit_counts_all_failed_intervals() {
        let mut t = BakeTracker::new(3, NoDataPolicy::Fail, I * 10);
        let f = outcome(Verdict::Fail);
        assert_eq!(t.observe(&f, I), BakeDecision::Continue);
        assert_eq!(
            t.observe(&outcome(Verdict::Pass), I),
            BakeDecision::Continue
        );
        assert_eq!(t.observe(&f, I), BakeDecision::Continue);
        assert!(matches!(t.observe(&f, I), BakeDecision::Fail(_)));
        assert_eq!(t.failures(), 3);
    }

    #[test]
    fn no_data_policies() {
        let nd = outcome(Verdict::NoData);
        let mut pass = BakeTracker::new(1, NoDataPolicy::Pass, I);
        assert_eq!(pass.observe(&nd, I), BakeDecision::Continue);
        let mut fail = BakeTracker::new(1, NoDataPolicy::Fail, I);
        assert!(matches!(fail.observe(&nd, I), BakeDecision::Fail(w) if w.starts_with("no data")));
        let mut pause = BakeTracker::new(1, NoDataPolicy::Pause, I * 3);
        assert_eq!(pause.observe(&nd, I), BakeDecision::Hold);
        assert_eq!(pause.observe(&nd, I), BakeDecision::Hold);
        assert_eq!(
            pause.observe(&outcome(Verdict::Pass), I),
            BakeDecision::Continue,
            "data resets the hold"
        );
        assert_eq!(pause.observe(&nd, I), BakeDecision::Hold);
        assert_eq!(pause.observe(&nd, I), BakeDecision::Hold);
        assert!(
            matches!(pause.observe(&nd, I), BakeDecision::Fail(w) if w.contains("--no-data-timeout"))
        );
    }

    #[test]
    fn waiting_for_cloudwatch_holds_then_is_no_data_after_the_timeout() {
        let w = outcome(Verdict::Waiting);
        let mut t = BakeTracker::new(1, NoDataPolicy::Fail, I * 3);
        assert_eq!(t.observe(&w, I), BakeDecision::Hold, "lag is not no-data");
        assert_eq!(t.observe(&w, I), BakeDecision::Hold);
        assert_eq!(
            t.observe(&outcome(Verdict::Pass), I),
            BakeDecision::Continue
        );
        assert_eq!(
            t.observe(&w, I),
            BakeDecision::Hold,
            "a minute resets the wait"
        );
        assert_eq!(t.observe(&w, I), BakeDecision::Hold);
        assert!(
            matches!(t.observe(&w, I), BakeDecision::Fail(m) if m.contains("no CloudWatch minute arrived for 30s"))
        );
        assert_eq!(t.failures(), 0, "waiting never counts as a failed interval");
        let mut pass = BakeTracker::new(1, NoDataPolicy::Pass, I);
        assert_eq!(pass.observe(&w, I), BakeDecision::Continue);
    }
}
