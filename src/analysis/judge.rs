//! Judging one analysis interval: each check gives pass, fail or no-data with
//! the measured values, and the interval's verdict is the worst of them.
//! Pure and table-tested; providers only supply numbers.

use super::command_check::judge_command;
pub use super::command_check::CommandCheck;
use crate::alb::HealthCounts;
use crate::provider::{ProbeOutcome, TrafficStats};
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    /// Highest acceptable 5xx fraction of green (0.0..=1.0).
    pub max_error_rate: f64,
    /// Fewer green requests than this in the window is "no data".
    pub min_requests: u64,
    /// Judge green's error rate by its excess over blue's in the same window,
    /// so a platform-wide incident does not count against the canary.
    pub compare_to_blue: bool,
    #[serde(rename = "max_latency_seconds", with = "crate::plan::seconds::option")]
    pub max_latency: Option<Duration>,
    /// Any unhealthy green target fails the interval (default true).
    pub fail_on_unhealthy: bool,
    pub prometheus_max: Option<f64>,
    /// Status range a probe must answer with.
    pub probe_status: Option<(u16, u16)>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_error_rate: 0.01,
            min_requests: 20,
            compare_to_blue: false,
            max_latency: None,
            fail_on_unhealthy: true,
            prometheus_max: None,
            probe_status: None,
        }
    }
}

/// A measurement, or why it could not be made.
pub type Measured<T> = Result<T, String>;

/// Everything measured in one interval. `Err` keeps a provider's failure.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sample {
    pub green_health: Option<Measured<HealthCounts>>,
    pub green: Option<Measured<Option<TrafficStats>>>,
    pub blue: Option<Measured<Option<TrafficStats>>>,
    pub probe: Option<ProbeOutcome>,
    pub prometheus: Option<Measured<Option<f64>>>,
    /// `--check` commands, in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<CommandCheck>,
    /// CloudWatch has not ingested a new minute since the step's shift (or
    /// the last judgement): its checks wait, with this explanation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_waiting: Option<String>,
    /// Start (Unix seconds) of the newest CloudWatch minute judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judged_minute: Option<i64>,
    /// Every CloudWatch minute this sample judges (`analysis::minutes`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub judged_minutes: Vec<i64>,
    /// One group judged alone (`rolling`): no blue, and messages name "the
    /// group" rather than green.
    #[serde(skip)]
    pub single: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// The data is expected but not there yet (CloudWatch's lag): neither a
    /// pass nor "no data".
    Waiting,
    NoData,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// `health`, `error-rate`, `latency`, `probe`, `prometheus`, `command`.
    pub check: &'static str,
    pub verdict: Verdict,
    /// What was measured against what, in words a person reads in CI logs.
    pub detail: String,
    /// The `--check` command this verdict is of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOutcome {
    pub verdict: Verdict,
    pub checks: Vec<CheckResult>,
}

impl CheckOutcome {
    /// The failing (or else no-data) checks, joined for one line of output.
    pub fn summary(&self) -> String {
        let pick: Vec<&CheckResult> = self
            .checks
            .iter()
            .filter(|c| c.verdict == self.verdict)
            .collect();
        pick.iter()
            .map(|c| format!("{}: {}", c.check, c.detail))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn result(check: &'static str, verdict: Verdict, detail: String) -> CheckResult {
    CheckResult {
        check,
        verdict,
        detail,
        command: None,
    }
}

/// How messages name the judged group.
const GREEN: &str = "green";
const GROUP: &str = "the group";

fn pct(x: f64) -> String {
    // Adding 0.0 turns an empty float sum (-0.0) into 0.0 for display.
    format!("{:.2}%", x * 100.0 + 0.0)
}

fn judge_health(h: &Result<HealthCounts, String>, t: &Thresholds, who: &str) -> CheckResult {
    match h {
        Err(e) => result(
            "health",
            Verdict::NoData,
            format!("target health unavailable: {e}"),
        ),
        Ok(c) if c.healthy == 0 => result(
            "health",
            Verdict::Fail,
            format!("{who} has no healthy target ({c})"),
        ),
        Ok(c) if c.unhealthy > 0 && t.fail_on_unhealthy => result(
            "health",
            Verdict::Fail,
            format!("{who} has {} unhealthy target(s) ({c})", c.unhealthy),
        ),
        Ok(c) => result("health", Verdict::Pass, format!("{who} {c}")),
    }
}

fn traffic_line(name: &str, s: &TrafficStats) -> String {
    let unreachable = match s.connection_errors {
        n if n > 0.0 => {
            format!(" ({n} of them 502s from the load balancer: TargetConnectionErrorCount)")
        }
        _ => String::new(),
    };
    format!(
        "{name} {} of {} requests{unreachable}",
        pct(s.error_rate().unwrap_or(0.0)),
        s.requests
    )
}

fn judge_errors(
    green: &Result<Option<TrafficStats>, String>,
    blue: Option<&Result<Option<TrafficStats>, String>>,
    t: &Thresholds,
    who: &str,
) -> CheckResult {
    let g = match green {
        Err(e) => {
            return result(
                "error-rate",
                Verdict::NoData,
                format!("{who} metrics unavailable: {e}"),
            )
        }
        Ok(None) => {
            return result(
                "error-rate",
                Verdict::NoData,
                format!(
                    "no requests to {who} in the window (need {})",
                    t.min_requests
                ),
            )
        }
        Ok(Some(g)) if g.requests < t.min_requests as f64 => {
            return result(
                "error-rate",
                Verdict::NoData,
                format!(
                    "{} requests to {who} in the window, fewer than --min-requests {}",
                    g.requests, t.min_requests
                ),
            )
        }
        Ok(Some(g)) => g,
    };
    let blue = match who {
        GREEN => Some(blue.and_then(|b| b.as_ref().ok()).and_then(|b| b.as_ref())),
        _ => None,
    };
    judge_rate(g, blue, t, who)
}

/// Green's rate against the maximum, alone or by its excess over blue.
/// Blue is a baseline only with `--min-requests` requests, like green: 1
/// failure in 2 blue requests would otherwise forgive a green at 50%. An
/// under-sampled blue leaves green judged alone (never more lenient than the
/// comparison), and a green over the maximum then is "no data", not a fail,
/// since a blue as bad might explain it.
/// `blue` is `None` when there is no blue (one group judged alone), and
/// `Some(None)` when blue had no data.
fn judge_rate(
    g: &TrafficStats,
    blue: Option<Option<&TrafficStats>>,
    t: &Thresholds,
    who: &str,
) -> CheckResult {
    let g_rate = g.error_rate().unwrap_or(0.0);
    let b = blue.flatten();
    let blue_part = match blue {
        Some(Some(b)) => format!(", {}", traffic_line("blue", b)),
        Some(None) => ", blue: no data".to_string(),
        None => String::new(),
    };
    let baseline = b.filter(|b| b.requests >= t.min_requests as f64);
    let (judged, what) = match (t.compare_to_blue, baseline.and_then(|b| b.error_rate())) {
        (true, Some(br)) => ((g_rate - br).max(0.0), "green's excess over blue".to_string()),
        (true, None) => (
            g_rate,
            format!(
                "blue had {} requests, fewer than --min-requests {}, too few to compare: green alone",
                b.map_or(0.0, |b| b.requests),
                t.min_requests
            ),
        ),
        (false, _) => (g_rate, who.to_string()),
    };
    let detail = format!(
        "{}{blue_part}; {what} {} vs max {}",
        traffic_line(who, g),
        pct(judged),
        pct(t.max_error_rate)
    );
    let verdict = match (
        judged > t.max_error_rate,
        t.compare_to_blue && baseline.is_none(),
    ) {
        (false, _) => Verdict::Pass,
        (true, true) => Verdict::NoData,
        (true, false) => Verdict::Fail,
    };
    result("error-rate", verdict, detail)
}

fn judge_latency(
    green: &Result<Option<TrafficStats>, String>,
    max: Duration,
    who: &str,
) -> CheckResult {
    match green
        .as_ref()
        .ok()
        .and_then(|g| g.as_ref())
        .and_then(|g| g.avg_response_seconds)
    {
        None => result(
            "latency",
            Verdict::NoData,
            format!("no response-time data for {who}"),
        ),
        Some(avg) => {
            let v = if avg > max.as_secs_f64() {
                Verdict::Fail
            } else {
                Verdict::Pass
            };
            result(
                "latency",
                v,
                format!(
                    "{who} average {:.0} ms vs max {} ms",
                    avg * 1000.0,
                    max.as_millis()
                ),
            )
        }
    }
}

fn judge_probe(p: &ProbeOutcome, range: (u16, u16)) -> CheckResult {
    match (p.status, &p.error) {
        (Some(s), _) if (range.0..=range.1).contains(&s) => result(
            "probe",
            Verdict::Pass,
            format!("HTTP {s} in {} ms", p.latency_ms),
        ),
        (Some(s), _) => result(
            "probe",
            Verdict::Fail,
            format!("HTTP {s}, expected {}-{}", range.0, range.1),
        ),
        (None, e) => result(
            "probe",
            Verdict::Fail,
            format!("request failed: {}", e.as_deref().unwrap_or("no response")),
        ),
    }
}

fn judge_prometheus(v: &Result<Option<f64>, String>, max: f64) -> CheckResult {
    match v {
        Err(e) => result("prometheus", Verdict::NoData, format!("query failed: {e}")),
        Ok(None) => result(
            "prometheus",
            Verdict::NoData,
            "query returned no series".into(),
        ),
        Ok(Some(x)) if *x > max => {
            result("prometheus", Verdict::Fail, format!("{x} above max {max}"))
        }
        Ok(Some(x)) => result("prometheus", Verdict::Pass, format!("{x} within max {max}")),
    }
}

pub fn judge(s: &Sample, t: &Thresholds) -> CheckOutcome {
    let who = match s.single {
        true => GROUP,
        false => GREEN,
    };
    let mut checks = Vec::new();
    if let Some(h) = &s.green_health {
        checks.push(judge_health(h, t, who));
    }
    if let Some(why) = &s.metrics_waiting {
        checks.push(result("error-rate", Verdict::Waiting, why.clone()));
        if t.max_latency.is_some() {
            checks.push(result("latency", Verdict::Waiting, why.clone()));
        }
    } else if let Some(g) = &s.green {
        checks.push(judge_errors(g, s.blue.as_ref(), t, who));
        if let Some(max) = t.max_latency {
            checks.push(judge_latency(g, max, who));
        }
    }
    if let Some(p) = &s.probe {
        checks.push(judge_probe(p, t.probe_status.unwrap_or((200, 299))));
    }
    if let (Some(v), Some(max)) = (&s.prometheus, t.prometheus_max) {
        checks.push(judge_prometheus(v, max));
    }
    checks.extend(s.commands.iter().map(judge_command));
    let verdict = checks
        .iter()
        .map(|c| c.verdict)
        .max()
        .unwrap_or(Verdict::NoData);
    CheckOutcome { verdict, checks }
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
