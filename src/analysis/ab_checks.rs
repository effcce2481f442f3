//! The A/B report's `--check` part: each command's verdict at every
//! interval of the run, in order, with its counts, so a team that judges a
//! variant by its own metric (a conversion rate from its analytics) sees
//! how that metric went over the test, not only the interval that ended it.
//! Pure: read from the intervals the run recorded.

use super::Verdict;
use crate::report::RunReport;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckSeries {
    pub command: String,
    /// One per interval, in order: `pass`, `fail`, `no-data`.
    pub verdicts: Vec<Verdict>,
    pub passed: usize,
    pub failed: usize,
    pub no_data: usize,
    /// The last interval's detail (its exit and last output line).
    pub last: String,
}

/// Every `--check` command's series, in the order they first ran.
pub fn series(r: &RunReport) -> Vec<CheckSeries> {
    let mut out: Vec<CheckSeries> = Vec::new();
    let checks = (r.steps.iter())
        .flat_map(|s| s.intervals.iter())
        .flat_map(|i| i.checks.iter());
    for c in checks {
        let Some(cmd) = &c.command else { continue };
        let at = match out.iter().position(|s| &s.command == cmd) {
            Some(i) => i,
            None => {
                out.push(CheckSeries {
                    command: cmd.clone(),
                    verdicts: vec![],
                    passed: 0,
                    failed: 0,
                    no_data: 0,
                    last: String::new(),
                });
                out.len() - 1
            }
        };
        let s = &mut out[at];
        s.verdicts.push(c.verdict);
        match c.verdict {
            Verdict::Pass => s.passed += 1,
            Verdict::Fail => s.failed += 1,
            _ => s.no_data += 1,
        }
        s.last = c.detail.clone();
    }
    out
}

fn mark(v: Verdict) -> char {
    match v {
        Verdict::Pass => '+',
        Verdict::Fail => 'x',
        _ => '?',
    }
}

/// `check `./conversion.sh`: ++x (2 pass, 1 fail, 0 no data)`, one line each.
pub fn render_text(all: &[CheckSeries]) -> String {
    let mut out = String::new();
    for s in all {
        let marks: String = s.verdicts.iter().copied().map(mark).collect();
        let _ = writeln!(
            out,
            "check `{}` per interval (+ pass, x fail, ? no data): {marks} ({} pass, {} fail, {} no data); last: {}",
            s.command, s.passed, s.failed, s.no_data, s.last
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::CheckResult;
    use crate::report::{IntervalRecord, StepRecord};

    fn interval(checks: &[(&str, Verdict)]) -> IntervalRecord {
        IntervalRecord {
            at_seconds: 0.0,
            verdict: Verdict::Pass,
            checks: (checks.iter())
                .map(|(cmd, v)| CheckResult {
                    check: "command",
                    verdict: *v,
                    detail: format!("`{cmd}` {v:?}"),
                    command: Some(cmd.to_string()),
                })
                .chain(std::iter::once(CheckResult {
                    check: "health",
                    verdict: Verdict::Pass,
                    detail: "green 1 healthy".into(),
                    command: None,
                }))
                .collect(),
        }
    }

    #[test]
    fn each_check_gets_its_verdicts_per_interval_in_order() {
        let mut r = crate::report::summary::tests::report(false);
        r.steps = vec![StepRecord {
            percent: 100.0,
            blue_weight: 0,
            green_weight: 0,
            started_at_seconds: 0.0,
            duration_seconds: 0.0,
            intervals: vec![
                interval(&[("./a.sh", Verdict::Pass), ("./b.sh", Verdict::NoData)]),
                interval(&[("./a.sh", Verdict::Pass), ("./b.sh", Verdict::Pass)]),
                interval(&[("./a.sh", Verdict::Fail), ("./b.sh", Verdict::Pass)]),
            ],
        }];
        let s = series(&r);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].command, "./a.sh");
        assert_eq!(s[0].verdicts, [Verdict::Pass, Verdict::Pass, Verdict::Fail]);
        assert_eq!((s[0].passed, s[0].failed, s[0].no_data), (2, 1, 0));
        assert_eq!((s[1].passed, s[1].failed, s[1].no_data), (2, 0, 1));
        let text = render_text(&s);
        assert!(text.contains("check `./a.sh` per interval (+ pass, x fail, ? no data): ++x (2 pass, 1 fail, 0 no data)"), "{text}");
        assert!(
            text.contains("`./b.sh` per interval (+ pass, x fail, ? no data): ?++"),
            "{text}"
        );
    }
}
