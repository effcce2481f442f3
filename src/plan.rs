//! Parsing and validating raw user input into typed values: percentages in
//! tenths, canary steps, durations, error-rate thresholds. Pure; collects
//! every problem at once so a user fixes them in one go.

use std::fmt;
use std::time::Duration;

/// A share of traffic in tenths of a percent (0..=1000), so 0.1% steps are
/// exact and map onto ALB weights (0..=999) without rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tenths(pub u16);

/// JSON shows the percentage people think in (0.5, 25), not tenths.
impl serde::Serialize for Tenths {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_percent())
    }
}

impl Tenths {
    pub const FULL: Tenths = Tenths(1000);

    pub fn parse(s: &str) -> Result<Tenths, String> {
        let s = s.trim().trim_end_matches('%');
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        let bad =
            || format!("{s:?} is not a percentage with at most one decimal (e.g. 5, 0.5, 12.5)");
        if int.is_empty()
            || frac.len() > 1
            || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: u32 = int.parse().map_err(|_| bad())?;
        let tenth: u32 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| bad())?
        };
        let v = whole.saturating_mul(10).saturating_add(tenth);
        if v > 1000 {
            return Err(format!("{s}% is above 100%"));
        }
        Ok(Tenths(v as u16))
    }

    pub fn as_percent(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl fmt::Display for Tenths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(10) {
            write!(f, "{}%", self.0 / 10)
        } else {
            write!(f, "{}.{}%", self.0 / 10, self.0 % 10)
        }
    }
}

/// One canary step: the share of traffic green gets, and how long to hold it
/// (None: one analysis interval).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    pub percent: Tenths,
    #[serde(rename = "pause_seconds", with = "seconds::option")]
    pub pause: Option<Duration>,
}

/// Durations in JSON output are seconds (a float), never `{secs, nanos}`.
pub mod seconds {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub mod option {
        use std::time::Duration;

        pub fn serialize<S: serde::Serializer>(
            d: &Option<Duration>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&d.as_secs_f64()),
                None => s.serialize_none(),
            }
        }
    }
}

/// The longest duration any flag takes: 7 days. Deadlines are computed as
/// `Instant + Duration`, which panics past what the clock can hold (about
/// 2^63 ns on Linux); a week is far inside it, and longer than any CI job
/// or hold a rollout needs (GitHub-hosted jobs stop after 6 hours).
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

pub fn parse_duration(flag: &str, s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let d = match t.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => humantime::parse_duration(t).map_err(|e| {
            format!("{flag}: {s:?} is not a duration ({e}); use e.g. 30s, 5m, 1h30m")
        })?,
    };
    if d > MAX_DURATION {
        return Err(format!(
            "{flag}: {s:?} is longer than the 7 days (7d, 168h) any duration may be"
        ));
    }
    Ok(d)
}

/// `5:2m,25:5m,50,100`: percents rising strictly, ending at 100.
pub fn parse_steps(s: &str) -> Result<Vec<Step>, Vec<String>> {
    let mut errors = Vec::new();
    let mut steps = Vec::new();
    for (i, raw) in s.split(',').map(str::trim).enumerate() {
        if raw.is_empty() {
            errors.push(format!("--steps: step {} is empty", i + 1));
            continue;
        }
        let (pct, pause) = match raw.split_once(':') {
            Some((p, d)) => (p, Some(d)),
            None => (raw, None),
        };
        let percent =
            Tenths::parse(pct).map_err(|e| format!("--steps: step {} ({raw}): {e}", i + 1));
        let pause = pause
            .map(|d| parse_duration(&format!("--steps: step {} ({raw})", i + 1), d))
            .transpose();
        match (percent, pause) {
            (Ok(percent), Ok(pause)) => steps.push(Step { percent, pause }),
            (p, d) => errors.extend(p.err().into_iter().chain(d.err())),
        }
    }
    if errors.is_empty() {
        errors.extend(check_step_order(&steps));
    }
    if errors.is_empty() {
        Ok(steps)
    } else {
        Err(errors)
    }
}

fn check_step_order(steps: &[Step]) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(first) = steps.first() {
        if first.percent.0 == 0 {
            errors
                .push("--steps: the first step must send some traffic to green (above 0%)".into());
        }
    }
    for w in steps.windows(2) {
        if w[1].percent <= w[0].percent {
            errors.push(format!(
                "--steps: steps must rise: {} is not above {}",
                w[1].percent, w[0].percent
            ));
        }
    }
    match steps.last() {
        Some(last) if last.percent != Tenths::FULL => errors.push(format!(
            "--steps: the last step must be 100, not {}",
            last.percent
        )),
        None => errors.push("--steps: give at least one step, e.g. 10:5m,100".into()),
        _ => {}
    }
    errors
}

/// `1%`, `0.5%` or a fraction below 1 like `0.01`: returns a fraction
/// (0.0..1.0). A bare number of 1 or more is refused: `--steps 1` means 1%,
/// so a bare `1` reads as 1%, yet as a fraction it is 100%, which no error
/// rate exceeds: the check would be silently off. 100% is refused for the
/// same reason.
pub fn parse_rate(flag: &str, s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, is_pct) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (t, false),
    };
    let v: f64 = num
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| format!("{flag}: {s:?} is not a rate; use e.g. 1% or 0.01"))?;
    if v < 0.0 {
        return Err(format!("{flag}: {s:?} is negative; use e.g. 1% or 0.01"));
    }
    match (is_pct, v) {
        (false, v) if (1.0..100.0).contains(&v) => Err(format!(
            "{flag}: a bare {num} is a fraction ({}% errors allowed, so the check could never \
             fail); write {num}% for a percentage, or {} as a fraction",
            v * 100.0,
            v / 100.0
        )),
        (false, v) if v >= 1.0 => Err(format!(
            "{flag}: {s:?} is not below 1; write a percentage below 100% (e.g. 1%) or a \
             fraction below 1 (e.g. 0.01)"
        )),
        (true, v) if v >= 100.0 => Err(format!(
            "{flag}: {s:?} would allow every request to fail, so the check could never fail; \
             use a percentage below 100% (e.g. 1%)"
        )),
        (true, v) => Ok(v / 100.0),
        (false, v) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenths_parse_table() {
        for (input, want) in [
            ("5", Some(50)),
            ("0.1", Some(1)),
            ("12.5%", Some(125)),
            ("100", Some(1000)),
            ("0", Some(0)),
        ] {
            assert_eq!(Tenths::parse(input).ok().map(|t| t.0), want, "{input}");
        }
        for bad in ["", "1.25", "-1", "abc", "100.1", "1e2", ".5"] {
            assert!(Tenths::parse(bad).is_err(), "{bad} should fail");
        }
        assert_eq!(Tenths(5).to_string(), "0.5%");
        assert_eq!(Tenths(250).to_string(), "25%");
    }

    #[test]
    fn steps_parse_with_pauses() {
        let s = parse_steps("0.5:30s,5:2m, 50 ,100").unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(
            s[0],
            Step {
                percent: Tenths(5),
                pause: Some(Duration::from_secs(30))
            }
        );
        assert_eq!(s[2].pause, None);
        assert_eq!(s[3].percent, Tenths::FULL);
    }

    #[test]
    fn steps_report_every_problem() {
        let errs = parse_steps("5:2x,abc,100").unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].contains("step 1 (5:2x)"));
        assert!(errs[1].contains("step 2 (abc)"));
        let order = parse_steps("50,25,90").unwrap_err();
        assert!(order.iter().any(|e| e.contains("25% is not above 50%")));
        assert!(order.iter().any(|e| e.contains("last step must be 100")));
        assert!(parse_steps("0,100").unwrap_err()[0].contains("above 0%"));
        assert!(parse_steps("").is_err());
    }

    #[test]
    fn rate_forms_table() {
        let ok = [
            ("1%", 0.01),
            ("0.5%", 0.005),
            (" 2 % ", 0.02),
            ("0%", 0.0),
            ("99.9%", 0.999),
            ("0.01", 0.01),
            ("0.999", 0.999),
            ("0", 0.0),
            ("1e-2", 0.01),
        ];
        for (input, want) in ok {
            let got = parse_rate("--max-error-rate", input);
            assert!(
                got.as_ref().is_ok_and(|v| (v - want).abs() < 1e-12),
                "{input}: {got:?}"
            );
        }
        // Refused, and the message says what to write instead.
        let refused = [
            ("1", "write 1% for a percentage, or 0.01 as a fraction"),
            ("5", "write 5% for a percentage, or 0.05 as a fraction"),
            ("1.0", "write 1.0% for a percentage, or 0.01 as a fraction"),
            ("150", "(e.g. 1%)"),
            ("100%", "could never fail"),
            ("150%", "could never fail"),
            ("-1%", "negative"),
            ("-0.5", "negative"),
            ("x", "not a rate"),
            ("%", "not a rate"),
            ("", "not a rate"),
            ("NaN", "not a rate"),
            ("inf%", "not a rate"),
        ];
        for (input, part) in refused {
            let e = parse_rate("--max-error-rate", input).expect_err(input);
            assert!(e.starts_with("--max-error-rate: "), "{input}: {e}");
            assert!(e.contains(part), "{input}: {e}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("--interval", "90").unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(
            parse_duration("--interval", "1m30s").unwrap(),
            Duration::from_secs(90)
        );
        assert!(parse_duration("--interval", "soon")
            .unwrap_err()
            .starts_with("--interval"));
    }

    #[test]
    fn durations_no_clock_can_hold_are_refused_naming_the_flag() {
        for huge in ["18446744073709551615", "8d", "604801", "200000h"] {
            let e = parse_duration("--revert-timeout", huge).expect_err(huge);
            assert!(e.starts_with("--revert-timeout: "), "{huge}: {e}");
            assert!(e.contains("7 days"), "{huge}: {e}");
        }
        assert_eq!(parse_duration("--bake", "7d").unwrap(), MAX_DURATION);
        assert_eq!(parse_duration("--bake", "604800").unwrap(), MAX_DURATION);
        let steps = parse_steps("10:8d,100").unwrap_err();
        assert!(steps[0].contains("7 days"), "{steps:?}");
    }
}
