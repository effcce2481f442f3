//! The A/B report: per variant (blue, green) the requests, 5xx count and rate,
//! latency p50/p99 when known, and a two-proportion z-test on the 5xx rates
//! that says whether the difference is statistically significant. Pure: the
//! counts come from the providers, this only judges and renders them.
//!
//! The test: pooled proportion p = (x1 + x2) / (n1 + n2), standard error
//! se = sqrt(p (1 - p) (1/n1 + 1/n2)), z = (rate_blue - rate_green) / se,
//! two-sided p-value = erfc(|z| / sqrt 2). It rests on the normal
//! approximation, which is weak when a variant expects fewer than 10 errors
//! or 10 successes under the pooled rate; the report says so rather than
//! hiding the number.

use serde::Serialize;
use std::fmt::Write as _;

pub const DEFAULT_ALPHA: f64 = 0.05;
/// Expected errors (and successes) per variant below which the normal
/// approximation is called weak (the usual n*p >= 10 rule of thumb).
pub const MIN_EXPECTED: f64 = 10.0;

/// What was measured for one variant over the test.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VariantCounts {
    pub requests: u64,
    pub errors_5xx: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantReport {
    /// `blue` or `green`.
    pub variant: &'static str,
    pub target_group: String,
    pub requests: u64,
    pub errors_5xx: u64,
    /// 5xx / requests; absent when there were no requests.
    pub error_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Green's error rate is significantly lower.
    GreenBetter,
    /// Blue's error rate is significantly lower.
    BlueBetter,
    NoSignificantDifference,
    /// A variant had no requests: nothing to compare.
    InsufficientData,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Significance {
    /// Absent when the test cannot run (no requests, or no variance).
    pub z: Option<f64>,
    /// Two-sided; absent when a variant had no requests.
    pub p_value: Option<f64>,
    pub alpha: f64,
    pub significant: bool,
    /// The normal approximation is weak for these counts.
    pub weak_approximation: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbReport {
    pub blue: VariantReport,
    pub green: VariantReport,
    pub test: Significance,
    pub outcome: Outcome,
    /// One sentence: the verdict and why, for text output and summaries.
    pub verdict: String,
    /// Caveats, e.g. a weak approximation.
    pub notes: Vec<String>,
}

/// Complementary error function, erfc(x) = 1 - erf(x), with fractional error
/// below 1.2e-7 everywhere (Chebyshev fit, Numerical Recipes "erfcc"); the
/// relative accuracy holds in the tails, where p-values live.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    const C: [f64; 10] = [
        -1.265_512_23,
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let poly = C.iter().rev().fold(0.0, |acc, c| c + t * acc);
    let r = t * (-z * z + poly).exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// z and the two-sided p-value for x1 of n1 against x2 of n2 (z > 0 when the
/// first rate is higher). None when either n is 0. When the pooled rate is 0
/// or 1 both rates are equal and there is no variance: z absent, p = 1.
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<(Option<f64>, f64)> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (x1, n1, x2, n2) = (x1 as f64, n1 as f64, x2 as f64, n2 as f64);
    let pooled = (x1 + x2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 || !se.is_finite() {
        return Some((None, 1.0));
    }
    let z = (x1 / n1 - x2 / n2) / se;
    Some((Some(z), erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)))
}

fn variant(name: &'static str, tg: &str, c: &VariantCounts) -> VariantReport {
    VariantReport {
        variant: name,
        target_group: tg.to_string(),
        requests: c.requests,
        // More errors than requests is a provider inconsistency; cap it so a
        // rate never exceeds 100%.
        errors_5xx: c.errors_5xx.min(c.requests),
        error_rate: (c.requests > 0)
            .then(|| c.errors_5xx.min(c.requests) as f64 / c.requests as f64),
        p50_ms: c.p50_ms,
        p99_ms: c.p99_ms,
    }
}

/// Judge an A/B test. `alpha` must be in (0, 1).
pub fn report(
    blue: (&str, &VariantCounts),
    green: (&str, &VariantCounts),
    alpha: f64,
) -> Result<AbReport, String> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(format!(
            "significance level {alpha} is out of range: give a number between 0 and 1, e.g. 0.05"
        ));
    }
    let b = variant("blue", blue.0, blue.1);
    let g = variant("green", green.0, green.1);
    let tested = two_proportion_z(b.errors_5xx, b.requests, g.errors_5xx, g.requests);
    let (z, p_value) = match tested {
        Some((z, p)) => (z, Some(p)),
        None => (None, None),
    };
    let significant = p_value.is_some_and(|p| p < alpha);
    let weak = tested.is_some() && weak_approximation(&b, &g);
    let (outcome, verdict) = verdict(&b, &g, z, p_value, significant, alpha);
    let mut notes = Vec::new();
    if weak {
        notes.push(format!(
            "few requests or errors: under the pooled rate a variant expects fewer than \
             {MIN_EXPECTED} errors or successes, so the normal approximation is weak and the \
             p-value is rough; run longer or send more traffic to the segment"
        ));
    }
    Ok(AbReport {
        blue: b,
        green: g,
        test: Significance {
            z,
            p_value,
            alpha,
            significant,
            weak_approximation: weak,
        },
        outcome,
        verdict,
        notes,
    })
}

fn weak_approximation(b: &VariantReport, g: &VariantReport) -> bool {
    let (n1, n2) = (b.requests as f64, g.requests as f64);
    let pooled = (b.errors_5xx + g.errors_5xx) as f64 / (n1 + n2);
    [n1, n2]
        .iter()
        .any(|n| n * pooled < MIN_EXPECTED || n * (1.0 - pooled) < MIN_EXPECTED)
}

fn verdict(
    b: &VariantReport,
    g: &VariantReport,
    z: Option<f64>,
    p: Option<f64>,
    significant: bool,
    alpha: f64,
) -> (Outcome, String) {
    let Some(p) = p else {
        let empty: Vec<&str> = [&b, &g]
            .iter()
            .filter(|v| v.requests == 0)
            .map(|v| v.variant)
            .collect();
        return (
            Outcome::InsufficientData,
            format!(
                "no comparison: {} received no requests; check that the --match segment gets traffic",
                empty.join(" and ")
            ),
        );
    };
    if b.errors_5xx == 0 && g.errors_5xx == 0 {
        return (
            Outcome::NoSignificantDifference,
            "not significant: no errors in either variant (p = 1)".to_string(),
        );
    }
    if z.is_none() {
        return (
            Outcome::NoSignificantDifference,
            "not significant: every request failed in both variants (p = 1)".to_string(),
        );
    }
    let (better, worse) = if g.error_rate < b.error_rate {
        (g, b)
    } else {
        (b, g)
    };
    if !significant {
        return (
            Outcome::NoSignificantDifference,
            format!(
                "no significant difference in 5xx rate (p = {}, alpha {alpha})",
                fmt_p(p)
            ),
        );
    }
    let outcome = if better.variant == "green" {
        Outcome::GreenBetter
    } else {
        Outcome::BlueBetter
    };
    (
        outcome,
        format!(
            "{} did better: 5xx rate {} against {}'s {} (p = {}, significant at alpha {alpha})",
            better.variant,
            fmt_rate(better.error_rate),
            worse.variant,
            fmt_rate(worse.error_rate),
            fmt_p(p)
        ),
    )
}

fn fmt_rate(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".to_string(), |r| format!("{:.2}%", r * 100.0))
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".to_string(), |v| format!("{v:.0} ms"))
}

/// p-values keep their magnitude: 0.0066, 3.1e-9.
pub fn fmt_p(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.4}")
    } else {
        format!("{p:.1e}")
    }
}

/// The side-by-side table, then the test and the verdict.
pub fn render_text(r: &AbReport) -> String {
    let rows: [(&str, String, String); 6] = [
        (
            "target group",
            r.blue.target_group.clone(),
            r.green.target_group.clone(),
        ),
        (
            "requests",
            r.blue.requests.to_string(),
            r.green.requests.to_string(),
        ),
        (
            "5xx",
            r.blue.errors_5xx.to_string(),
            r.green.errors_5xx.to_string(),
        ),
        (
            "5xx rate",
            fmt_rate(r.blue.error_rate),
            fmt_rate(r.green.error_rate),
        ),
        ("latency p50", fmt_ms(r.blue.p50_ms), fmt_ms(r.green.p50_ms)),
        ("latency p99", fmt_ms(r.blue.p99_ms), fmt_ms(r.green.p99_ms)),
    ];
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(4);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(5);
    let mut out = format!("{:<14} {:<w1$}  {:<w2$}\n", "", "blue", "green");
    for (label, b, g) in &rows {
        let _ = writeln!(out, "{label:<14} {b:<w1$}  {g:<w2$}");
    }
    let z = r
        .test
        .z
        .map_or_else(|| "n/a".to_string(), |z| format!("{z:.2}"));
    let p = r.test.p_value.map_or_else(|| "n/a".to_string(), fmt_p);
    let _ = writeln!(
        out,
        "two-proportion z-test on 5xx rate: z = {z}, p = {p}, alpha = {}",
        r.test.alpha
    );
    let _ = writeln!(out, "verdict: {}", r.verdict);
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

#[cfg(test)]
#[path = "ab_tests.rs"]
mod tests;
