//! Judging a replay (pure): each replayed request against what blue
//! answered in the log. A mismatch is a different status class (an answer
//! green never gave counts as one); latency compares green's server-side
//! time (`replay` measures it) with blue's `target_processing_time`, p50
//! and p99, each side raised to a floor first so that differences of a
//! few milliseconds, which no one can measure across a network, never
//! fail a run. No requests at all is "no data", for `--on-no-data`.

use serde::Serialize;
use std::collections::BTreeMap;

/// Below this, latencies are not told apart (seconds).
pub const LATENCY_FLOOR: f64 = 0.010;

/// Fewer timed requests than this and p99 is the slowest one or two, one
/// slow connection's noise: it is shown but not judged.
pub const P99_MIN_SAMPLES: usize = 100;

/// One replayed request and both answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The path without its query (reports show it).
    pub path: String,
    pub blue_status: u16,
    pub blue_seconds: Option<f64>,
    /// Green's status and server-side seconds, or why it gave none.
    pub green: Result<(u16, f64), String>,
    /// Whether green's time counts: not for the first request, which
    /// pays for the connection (TCP and TLS handshakes).
    pub timed: bool,
}

impl Outcome {
    pub fn mismatch(&self) -> bool {
        match &self.green {
            Ok((s, _)) => s / 100 != self.blue_status / 100,
            Err(_) => true,
        }
    }
}

/// The limits a replay must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bounds {
    /// `--max-mismatch`, in basis points.
    pub max_mismatch_bp: u32,
    /// `--max-latency-ratio`, in hundredths.
    pub max_latency_ratio_pct: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassRow {
    /// `2xx`...: blue's class.
    pub class: String,
    pub replayed: u64,
    pub mismatched: u64,
    pub mismatch_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub blue_p50_ms: f64,
    pub green_p50_ms: f64,
    pub blue_p99_ms: f64,
    pub green_p99_ms: f64,
    /// max(green, floor) / max(blue, floor), the larger of p50's and
    /// (with at least `P99_MIN_SAMPLES` timed requests) p99's.
    pub ratio: f64,
    /// The requests both sides timed.
    pub samples: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathCount {
    pub path: String,
    pub mismatched: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    NoData,
}

/// What the judge found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    pub verdict: Verdict,
    /// Why it failed (or why there is no data), with the numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub replayed: u64,
    pub mismatched: u64,
    pub mismatch_rate: f64,
    pub by_class: Vec<ClassRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// The ten paths with the most mismatches, most first.
    pub top_mismatching_paths: Vec<PathCount>,
}

/// The `q` quantile (nearest rank) of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn sorted(v: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = v.collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Latencies over the requests both sides timed.
fn latency(outcomes: &[Outcome]) -> Option<Latency> {
    let both: Vec<(f64, f64)> = (outcomes.iter())
        .filter(|o| o.timed)
        .filter_map(|o| Some((o.blue_seconds?, o.green.as_ref().ok()?.1)))
        .collect();
    let blue = sorted(both.iter().map(|b| b.0));
    let green = sorted(both.iter().map(|b| b.1));
    let (b50, b99) = (quantile(&blue, 0.5)?, quantile(&blue, 0.99)?);
    let (g50, g99) = (quantile(&green, 0.5)?, quantile(&green, 0.99)?);
    let r = |g: f64, b: f64| g.max(LATENCY_FLOOR) / b.max(LATENCY_FLOOR);
    let ms = |s: f64| (s * 1e4).round() / 10.0;
    Some(Latency {
        blue_p50_ms: ms(b50),
        green_p50_ms: ms(g50),
        blue_p99_ms: ms(b99),
        green_p99_ms: ms(g99),
        ratio: match both.len() >= P99_MIN_SAMPLES {
            true => (r(g50, b50).max(r(g99, b99)) * 100.0).round() / 100.0,
            false => (r(g50, b50) * 100.0).round() / 100.0,
        },
        samples: both.len(),
    })
}

fn classes(outcomes: &[Outcome]) -> Vec<ClassRow> {
    let mut rows: BTreeMap<u16, (u64, u64)> = BTreeMap::new();
    for o in outcomes {
        let r = rows.entry(o.blue_status / 100).or_default();
        r.0 += 1;
        r.1 += u64::from(o.mismatch());
    }
    (rows.into_iter())
        .map(|(c, (n, m))| ClassRow {
            class: format!("{c}xx"),
            replayed: n,
            mismatched: m,
            mismatch_rate: rate(m, n),
        })
        .collect()
}

fn rate(m: u64, n: u64) -> f64 {
    match n {
        0 => 0.0,
        n => (m as f64 / n as f64 * 1e4).round() / 1e4,
    }
}

fn top_paths(outcomes: &[Outcome]) -> Vec<PathCount> {
    let mut by: BTreeMap<&str, u64> = BTreeMap::new();
    for o in outcomes.iter().filter(|o| o.mismatch()) {
        *by.entry(o.path.as_str()).or_default() += 1;
    }
    let mut v: Vec<PathCount> = (by.into_iter())
        .map(|(p, n)| PathCount {
            path: p.to_string(),
            mismatched: n,
        })
        .collect();
    // Most first; a tie in path order, so the report is stable.
    v.sort_by(|a, b| b.mismatched.cmp(&a.mismatched).then(a.path.cmp(&b.path)));
    v.truncate(10);
    v
}

/// The verdict on a replay.
pub fn judge(outcomes: &[Outcome], b: Bounds) -> Judgement {
    let replayed = outcomes.len() as u64;
    let mismatched = outcomes.iter().filter(|o| o.mismatch()).count() as u64;
    let mismatch_rate = rate(mismatched, replayed);
    let latency = latency(outcomes);
    let max_mismatch = f64::from(b.max_mismatch_bp) / 1e4;
    let max_ratio = f64::from(b.max_latency_ratio_pct) / 100.0;
    let top = top_paths(outcomes);
    let reason = if replayed == 0 {
        Some("no data: no logged request of blue on this route in the window".to_string())
    } else if mismatch_rate > max_mismatch {
        let first = top.first().map(|p| format!("; most on {}", p.path));
        Some(format!(
            "shadow: {mismatched} of {replayed} replayed requests ({:.1}%) answered in another status class than blue did, more than --max-mismatch {:.1}%{}",
            mismatch_rate * 100.0,
            max_mismatch * 100.0,
            first.unwrap_or_default()
        ))
    } else {
        latency.as_ref().filter(|l| l.ratio > max_ratio).map(|l| format!(
            "shadow: green's latency is {:.2}x blue's (p50 {} ms vs {} ms, p99 {} ms vs {} ms), more than --max-latency-ratio {max_ratio}",
            l.ratio, l.green_p50_ms, l.blue_p50_ms, l.green_p99_ms, l.blue_p99_ms
        ))
    };
    let verdict = match (&reason, replayed) {
        (_, 0) => Verdict::NoData,
        (Some(_), _) => Verdict::Fail,
        (None, _) => Verdict::Pass,
    };
    Judgement {
        verdict,
        reason,
        replayed,
        mismatched,
        mismatch_rate,
        by_class: classes(outcomes),
        latency,
        top_mismatching_paths: top,
    }
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
