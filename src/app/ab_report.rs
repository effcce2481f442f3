//! The A/B report at the end of an `ab` run: per variant requests, 5xx and
//! latency p50/p99 with the two-proportion test (`analysis::ab`), from
//! CloudWatch over every minute the run touched, or with `--cloudwatch
//! false` from the probe's own requests (`TallyProbe`: each probe of green
//! through the rule is paired with the same request without the rule's
//! headers, which the listener's default action sends to blue).
//!
//! CloudWatch publishes a minute 1-3 minutes after it ends: after a run
//! that went through, the report waits (up to `REPORT_WAIT`) for the run's
//! last minute; after a revert or a cancel it does not wait, and says which
//! minutes it covers. A run that went through first waits `RULE_SETTLE`,
//! so requests the deleted rule routed while its deletion propagated count.

use crate::analysis::ab::{render_text, report, VariantCounts, DEFAULT_ALPHA};
use crate::cli::Output;
use crate::provider::cloudwatch_report::{fetch, window, Answer, Window};
use crate::provider::{MetricTarget, Probe, ProbeOutcome};
use crate::report::RunReport;
use crate::signal::Cancel;
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How long the report waits for CloudWatch's last minute of the run.
pub const REPORT_WAIT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_secs(10);
/// How long a rule change takes to reach every ALB node (seconds on AWS,
/// 3 s in the emulator), with room to spare.
pub const RULE_SETTLE: Duration = Duration::from_secs(8);

/// Probe outcomes of green (through the rule) and blue (without it).
#[derive(Default)]
pub struct Tallies {
    pub green: Vec<ProbeOutcome>,
    pub blue: Vec<ProbeOutcome>,
}

/// A probe of green that also probes blue and keeps every outcome.
pub struct TallyProbe {
    pub green: Arc<dyn Probe>,
    pub blue: Arc<dyn Probe>,
    pub tallies: Arc<Mutex<Tallies>>,
}

#[async_trait]
impl Probe for TallyProbe {
    async fn probe(&self) -> ProbeOutcome {
        let (g, b) = tokio::join!(self.green.probe(), self.blue.probe());
        let mut t = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        t.green.push(g.clone());
        t.blue.push(b);
        g
    }

    fn url(&self) -> &str {
        self.green.url()
    }
}

/// Counts from probe outcomes: a failed request counts as a 5xx (the load
/// balancer would have answered 502/503/504).
pub fn counts_of(outcomes: &[ProbeOutcome]) -> VariantCounts {
    let mut lat: Vec<f64> = outcomes
        .iter()
        .filter(|o| o.status.is_some())
        .map(|o| o.latency_ms as f64)
        .collect();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| -> Option<f64> {
        let i = ((p * lat.len() as f64).ceil() as usize).checked_sub(1)?;
        lat.get(i.min(lat.len().saturating_sub(1))).copied()
    };
    VariantCounts {
        requests: outcomes.len() as u64,
        errors_5xx: outcomes
            .iter()
            .filter(|o| o.status.is_none_or(|s| s >= 500))
            .count() as u64,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
    }
}

fn counts_of_cloudwatch(a: &Answer, i: usize) -> VariantCounts {
    let t = a.totals.get(i).copied().unwrap_or_default();
    VariantCounts {
        requests: t.requests.max(0.0).round() as u64,
        errors_5xx: t.errors_5xx.max(0.0).round() as u64,
        p50_ms: t.p50.map(|s| s * 1000.0),
        p99_ms: t.p99.map(|s| s * 1000.0),
    }
}

/// Where the report's numbers come from.
pub enum Source {
    CloudWatch {
        config: Box<aws_config::SdkConfig>,
        green: MetricTarget,
        blue: MetricTarget,
    },
    Probe(Arc<Mutex<Tallies>>),
}

/// Read CloudWatch, waiting for the window's last minute when `wait`.
async fn read_cloudwatch(
    config: &aws_config::SdkConfig,
    targets: &[MetricTarget],
    w: Window,
    wait: bool,
    cancel: &Cancel,
    output: Output,
) -> Result<Answer, String> {
    let client = aws_sdk_cloudwatch::Client::new(config);
    let endpoint = crate::provider::cloudwatch::endpoint(config);
    let deadline = tokio::time::Instant::now() + REPORT_WAIT;
    loop {
        let a = fetch(&client, &endpoint, targets, w)
            .await
            .map_err(|e| e.to_string())?;
        if a.complete(w)
            || !wait
            || tokio::time::Instant::now() >= deadline
            || cancel.is_cancelled()
        {
            return Ok(a);
        }
        let line = "waiting for CloudWatch's last minute of the run for the A/B report (it arrives 1-3 minutes late)";
        match output {
            Output::Text => println!("{line}"),
            Output::Json => eprintln!("{line}"),
        }
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

fn minute(t: i64) -> String {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

/// The report for a finished run, into `r` (JSON) and, in text, printed.
pub async fn add(
    mut r: RunReport,
    src: Source,
    started: SystemTime,
    cancel: Cancel,
    output: Output,
) -> RunReport {
    if r.result == "not-started" {
        return r;
    }
    let wait = r.result == "promoted";
    if wait {
        // Requests the deleted rule still routed while the deletion reached
        // every ALB node belong to the test: wait them out first.
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = tokio::time::sleep(RULE_SETTLE) => {}
        }
    }
    let w = window(started, SystemTime::now());
    let (blue, green, source, covers) = match src {
        Source::Probe(t) => {
            let t = t.lock().unwrap_or_else(|e| e.into_inner());
            let covers = format!(
                "{} probes of green through the rule and {} of blue without it",
                t.green.len(),
                t.blue.len()
            );
            (counts_of(&t.blue), counts_of(&t.green), "probe", covers)
        }
        Source::CloudWatch {
            config,
            green,
            blue,
        } => match read_cloudwatch(&config, &[green, blue], w, wait, &cancel, output).await {
            Ok(a) => {
                let upto = a
                    .newest
                    .map(|n| minute(n + 60))
                    .unwrap_or_else(|| "(none arrived yet)".into());
                let covers = format!(
                    "CloudWatch minutes from {} to {upto}{}",
                    minute(w.from),
                    if a.complete(w) {
                        ""
                    } else {
                        ", not all of the run: its last minutes had not arrived"
                    }
                );
                (
                    counts_of_cloudwatch(&a, 1),
                    counts_of_cloudwatch(&a, 0),
                    "cloudwatch",
                    covers,
                )
            }
            Err(e) => {
                r.warnings.push(format!("no A/B report: {e}"));
                return r;
            }
        },
    };
    let names = (
        crate::alb::arn_resource(&r.blue),
        crate::alb::arn_resource(&r.green),
    );
    let checks = crate::analysis::ab_checks::series(&r);
    let Ok(ab) = report((names.0, &blue), (names.1, &green), DEFAULT_ALPHA) else {
        return r;
    };
    if output == Output::Text {
        println!("A/B report ({covers}):\n{}", render_text(&ab));
        print!("{}", crate::analysis::ab_checks::render_text(&checks));
    }
    r.ab = Some(serde_json::json!({
        "source": source,
        "covers": covers,
        "window": {"from_unix": w.from, "to_unix": w.to},
        "report": ab,
        "checks": checks,
    }));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(status: Option<u16>, ms: u64) -> ProbeOutcome {
        ProbeOutcome {
            status,
            latency_ms: ms,
            error: None,
        }
    }

    #[test]
    fn probe_outcomes_count_as_requests_errors_and_percentiles() {
        let mut all: Vec<ProbeOutcome> = (1..=98).map(|i| o(Some(200), i)).collect();
        all.push(o(Some(503), 99));
        all.push(o(None, 5000));
        let c = counts_of(&all);
        assert_eq!((c.requests, c.errors_5xx), (100, 2));
        assert_eq!((c.p50_ms, c.p99_ms), (Some(50.0), Some(99.0)));
        assert_eq!(counts_of(&[]), VariantCounts::default());
    }
}
