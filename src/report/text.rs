//! Progress lines a person can follow in a CI log: step, weights, health,
//! error rates, verdict and time left. On a terminal, verdicts are coloured.

use super::{Progress, Reporter};
use crate::analysis::{BakeDecision, Verdict};
use std::io::Write;
use std::time::Duration;

pub struct TextReporter<W: Write + Send> {
    out: W,
    /// A terminal: colours, and a live countdown line redrawn in place.
    tty: bool,
    /// The live line is showing and must be cleared before the next line.
    dirty: bool,
    /// The run's strategy, from its first line: a blue-green run has one
    /// switch, a rolling run rounds, rather than a canary's steps.
    strategy: String,
    /// `rolling --in-place` (from its first round): batches deployed, not
    /// rounds replaced.
    in_place: bool,
}

impl<W: Write + Send> TextReporter<W> {
    pub fn new(out: W, tty: bool) -> Self {
        TextReporter {
            out,
            tty,
            dirty: false,
            strategy: String::new(),
            in_place: false,
        }
    }

    /// Where an analysis interval stands: the canary's step, blue-green's
    /// switch, rolling's round.
    fn stage(&self, step: usize, percent: crate::plan::Tenths) -> String {
        match self.strategy.as_str() {
            _ if percent.0 == 0 => "preview through the header rule".to_string(),
            _ if self.in_place => format!("batch {}, {percent} deployed", step + 1),
            "blue-green" => format!("switched, {percent} to green"),
            "ab" | "dark" => "the rule's segment on green".to_string(),
            "rolling" => format!("round {}, {percent} replaced", step + 1),
            _ => format!("step {} at {percent}", step + 1),
        }
    }

    fn paint(&self, s: &str, code: &str) -> String {
        if self.tty {
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
            (Verdict::Waiting, BakeDecision::Hold) => self.paint("waiting, holding", "36"),
            (Verdict::Waiting, _) => self.paint("waiting", "36"),
            (Verdict::NoData, BakeDecision::Hold) => self.paint("no data, holding", "33"),
            (Verdict::NoData, _) => self.paint("no data", "33"),
        }
    }
}

fn secs(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

impl<W: Write + Send> Reporter for TextReporter<W> {
    fn live(&self) -> bool {
        self.tty
    }

    fn progress(&mut self, p: Progress<'_>) {
        if let Progress::Tick { label, left } = p {
            self.tick(label, left);
            return;
        }
        if let Progress::Started { strategy, .. } = &p {
            self.strategy = strategy.to_string();
        }
        if let Progress::Round { in_place: true, .. } = &p {
            self.in_place = true;
        }
        if std::mem::take(&mut self.dirty) {
            let _ = write!(self.out, "\r\x1b[2K");
        }
        if let Some(line) = self.line(p) {
            // Check details quote provider errors; mask any URL's secrets.
            let _ = writeln!(self.out, "{}", crate::redact::text(&line));
            let _ = self.out.flush();
        }
    }
}

impl<W: Write + Send> TextReporter<W> {
    /// Redraw the live line in place (terminals only).
    fn tick(&mut self, label: &str, left: Duration) {
        if self.tty {
            let _ = write!(self.out, "\r\x1b[2K  {label} in {}s", left.as_secs());
            let _ = self.out.flush();
            self.dirty = true;
        }
    }

    fn line(&self, p: Progress<'_>) -> Option<String> {
        Some(match p {
            Progress::Started {
                run_id,
                strategy,
                scope,
                shape,
                total_bake,
            } => {
                format!(
                    "alb-rollout {strategy} {run_id}: {shape}, {} of analysis, on the {scope}",
                    secs(total_bake)
                )
            }
            Progress::Registered { targets, group } => {
                format!(
                    "registered {} in {group}",
                    crate::alb::list_targets(targets)
                )
            }
            Progress::Deregistered { targets, group } => {
                format!(
                    "deregistered {} from {group}; draining",
                    crate::alb::list_targets(targets)
                )
            }
            Progress::Round {
                round,
                rounds,
                in_place: true,
                ..
            } => format!(
                "batch {}/{rounds}: deployed and back in service; checking",
                round + 1
            ),
            Progress::Round {
                round,
                rounds,
                percent,
                ..
            } => format!(
                "round {}/{rounds}: {percent} of the targets replaced; checking",
                round + 1
            ),
            Progress::Health {
                counts,
                waited,
                batch: Some((i, n)),
            } => format!(
                "batch {i}/{n}: back in service: {counts} (waited {})",
                secs(waited)
            ),
            Progress::Health { counts, waited, .. } => {
                format!("green is ready: {counts} (waited {})", secs(waited))
            }
            Progress::Shifted {
                step,
                steps,
                percent,
                forward,
            } => match self.strategy.as_str() {
                "blue-green" => format!(
                    "switched: {percent} to green  (weights: {})",
                    forward.weights_text()
                ),
                _ => format!(
                    "step {}/{steps}: {percent} to green  (weights: {})",
                    step + 1,
                    forward.weights_text()
                ),
            },
            Progress::Interval {
                step,
                percent,
                baked,
                bake,
                outcome,
                decision,
            } => {
                let checks: Vec<String> = outcome
                    .checks
                    .iter()
                    .map(|c| format!("{}: {}", c.check, c.detail))
                    .collect();
                let verdict = self.verdict(outcome.verdict, decision);
                format!(
                    "  [{}, {} left] {verdict}  {}",
                    self.stage(step, percent),
                    secs(bake.saturating_sub(baked)),
                    checks.join(" | ")
                )
            }
            Progress::Reverting { reason } => format!(
                "{} {}: reverting",
                self.paint("FAILED", "1;31"),
                reason.message()
            ),
            Progress::RampedBack {
                step,
                steps,
                forward,
            } => format!(
                "ramping back {}/{steps}: weights {} (read back)",
                step + 1,
                forward.weights_text()
            ),
            Progress::Reverted { seconds } => {
                format!(
                    "reverted: original route restored and read back {seconds:.1}s after detection"
                )
            }
            Progress::Promoted { forward } => {
                format!(
                    "{}: 100% to green (weights: {})",
                    self.paint("promoted", "1;32"),
                    forward.weights_text()
                )
            }
            Progress::Attached { forward, attach } => format!(
                "{}: weights {} (read back; no request moved)",
                match attach {
                    true => "green attached at weight 0 (AWS health-checks a group only once the load balancer forwards to it)",
                    false => "blue's weight-0 entry removed after its last batch",
                },
                forward.weights_text()
            ),
            Progress::Warning(w) => format!("{} {w}", self.paint("warning:", "33")),
            Progress::Batch(line) | Progress::Shadow(line) => line,
            Progress::Rule {
                verb,
                priority,
                matches,
                forward,
            } => format!(
                "rule {verb} at priority {priority}: {matches} -> {}",
                forward.weights_text()
            ),
            Progress::Tick { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::{Forward, HealthCounts};
    use crate::plan::Tenths;

    fn render(tty: bool, events: Vec<Progress<'_>>) -> String {
        let mut buf = Vec::new();
        {
            let mut r = TextReporter::new(&mut buf, tty);
            for e in events {
                r.progress(e);
            }
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn plain_lines_for_logs() {
        let f = Forward::single("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/g");
        let out = render(
            false,
            vec![
                Progress::Health {
                    counts: HealthCounts {
                        healthy: 2,
                        ..Default::default()
                    },
                    waited: Duration::from_secs(4),
                    batch: None,
                },
                Progress::Tick {
                    label: "next check",
                    left: Duration::from_secs(3),
                },
                Progress::Shifted {
                    step: 0,
                    steps: 3,
                    percent: Tenths(5),
                    forward: &f,
                },
            ],
        );
        assert_eq!(out, "green is ready: 2 healthy (waited 4s)\nstep 1/3: 0.5% to green  (weights: targetgroup/green/g 1)\n");
    }

    #[test]
    fn a_terminal_gets_a_live_line_cleared_before_the_next() {
        let out = render(
            true,
            vec![
                Progress::Tick {
                    label: "step 1 at 5%, 2m left; next check",
                    left: Duration::from_secs(9),
                },
                Progress::Warning("slow".into()),
            ],
        );
        assert!(
            out.starts_with("\r\x1b[2K  step 1 at 5%, 2m left; next check in 9s\r\x1b[2K"),
            "{out:?}"
        );
        assert!(out.contains("slow\n"));
    }

    #[test]
    fn an_in_place_batch_reads_deployed_and_back_in_service() {
        let counts = HealthCounts {
            healthy: 4,
            ..Default::default()
        };
        let outcome = crate::analysis::CheckOutcome {
            verdict: Verdict::Pass,
            checks: vec![],
        };
        let out = render(
            false,
            vec![
                Progress::Health {
                    counts,
                    waited: Duration::from_secs(4),
                    batch: Some((1, 2)),
                },
                Progress::Round {
                    round: 0,
                    rounds: 2,
                    percent: Tenths(500),
                    in_place: true,
                },
                Progress::Interval {
                    step: 0,
                    percent: Tenths(500),
                    baked: Duration::from_secs(10),
                    bake: Duration::from_secs(10),
                    outcome: &outcome,
                    decision: &BakeDecision::Continue,
                },
            ],
        );
        assert!(
            out.starts_with("batch 1/2: back in service: 4 healthy (waited 4s)\nbatch 1/2: deployed and back in service; checking\n"),
            "{out}"
        );
        assert!(
            !out.contains("green is ready") && !out.contains("replaced"),
            "{out}"
        );
        assert!(out.contains("[batch 1, 50% deployed,"), "{out}");
    }
}
