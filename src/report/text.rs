//! Progress lines a person can follow in a CI log: step, weights, health,
//! error rates, verdict and time left. On a terminal, verdicts are coloured.

use super::{Progress, Reporter};
use crate::alb::arn_resource;
use crate::analysis::{BakeDecision, Verdict};
use std::io::Write;
use std::time::Duration;

pub struct TextReporter<W: Write + Send> {
    out: W,
    color: bool,
}

impl<W: Write + Send> TextReporter<W> {
    pub fn new(out: W, color: bool) -> Self {
        TextReporter { out, color }
    }

    fn paint(&self, s: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn verdict(&self, v: Verdict, d: &BakeDecision) -> String {
        match (v, d) {
            (_, BakeDecision::Fail(_)) => self.paint("FAIL", "1;31"),
            (Verdict::Pass, _) => self.paint("pass", "32"),
            (Verdict::Fail, _) => self.paint("fail (within --failure-limit)", "33"),
            (Verdict::NoData, BakeDecision::Hold) => self.paint("no data, holding", "33"),
            (Verdict::NoData, _) => self.paint("no data", "33"),
        }
    }
}

fn secs(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

impl<W: Write + Send> Reporter for TextReporter<W> {
    fn progress(&mut self, p: Progress<'_>) {
        let line = match p {
            Progress::Started {
                run_id,
                route,
                steps,
                total_bake,
            } => {
                format!(
                    "alb-rollout canary {run_id}: {steps} steps, {} of analysis, on the {route}",
                    secs(total_bake)
                )
            }
            Progress::Registered { targets } => {
                format!(
                    "registered {} in green",
                    targets
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            Progress::Health { counts, waited } => {
                format!("green is ready: {counts} (waited {})", secs(waited))
            }
            Progress::Shifted {
                step,
                steps,
                percent,
                forward,
            } => {
                let weights: Vec<String> = forward
                    .groups
                    .iter()
                    .map(|g| format!("{} {}", arn_resource(&g.target_group_arn), g.weight))
                    .collect();
                format!(
                    "step {}/{steps}: {percent} to green  (weights: {})",
                    step + 1,
                    weights.join(", ")
                )
            }
            Progress::Interval {
                step,
                percent,
                baked,
                bake,
                outcome,
                decision,
            } => {
                let left = bake.saturating_sub(baked);
                let checks: Vec<String> = outcome
                    .checks
                    .iter()
                    .map(|c| format!("{}: {}", c.check, c.detail))
                    .collect();
                format!(
                    "  [step {} at {percent}, {} left] {}  {}",
                    step + 1,
                    secs(left),
                    self.verdict(outcome.verdict, decision),
                    checks.join(" | ")
                )
            }
            Progress::Reverting { reason } => format!(
                "{} {}: reverting",
                self.paint("FAILED", "1;31"),
                reason.message()
            ),
            Progress::Reverted { seconds } => format!(
                "reverted: original route restored and read back {seconds:.1}s after detection"
            ),
            Progress::Promoted { forward } => {
                let weights: Vec<String> = forward
                    .groups
                    .iter()
                    .map(|g| format!("{} {}", arn_resource(&g.target_group_arn), g.weight))
                    .collect();
                format!(
                    "{}: 100% to green (weights: {})",
                    self.paint("promoted", "1;32"),
                    weights.join(", ")
                )
            }
            Progress::Warning(w) => format!("{} {w}", self.paint("warning:", "33")),
        };
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }
}
