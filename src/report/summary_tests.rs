//! The summary: rows from a report, the table's truncation, the chart.

use super::*;
use crate::analysis::{CheckOutcome, CheckResult, Verdict};
use crate::engine::Reason;
use crate::report::{IntervalRecord, StepRecord};

fn check(check: &'static str, verdict: Verdict, detail: &str) -> CheckResult {
    CheckResult {
        check,
        verdict,
        detail: detail.into(),
        command: None,
    }
}

fn interval(at: f64, verdict: Verdict, green: &str) -> IntervalRecord {
    IntervalRecord {
        at_seconds: at,
        verdict,
        checks: vec![
            check("health", Verdict::Pass, "green 2 healthy"),
            check(
                "error-rate",
                verdict,
                &format!("green {green}% of 40 requests, blue 0.00% of 300 requests; green {green}% vs max 1.00%"),
            ),
        ],
    }
}

/// A two-step run: promoted, or reverted at the second step's check.
pub(crate) fn report(reverted: bool) -> RunReport {
    let step = |percent, b, g, at, intervals| StepRecord {
        percent,
        blue_weight: b,
        green_weight: g,
        started_at_seconds: at,
        duration_seconds: 6.0,
        intervals,
    };
    let bad = interval(10.0, Verdict::Fail, "50.00");
    let mut r = RunReport {
        result: "promoted",
        exit_code: 0,
        run_id: "r-1".into(),
        strategy: "canary",
        listener_arn: "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/1/2".into(),
        rule_arn: None,
        target_group_arn: None,
        rollback_command: "alb-rollout rollback --listener arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/1/2".into(),
        blue: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1".into(),
        green: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/2".into(),
        steps: vec![
            step(
                10.0,
                900,
                100,
                1.0,
                vec![interval(4.0, Verdict::Pass, "0.00")],
            ),
            step(50.0, 500, 500, 7.0, vec![]),
        ],
        reason: None,
        failed_check: None,
        detection_to_revert_seconds: None,
        duration_seconds: 13.0,
        left_behind: None,
        warnings: vec![],
        ab: None,
        shadow: None,
        hooks: vec![],
        batch_commands: vec![],
    };
    if reverted {
        r.steps[1].intervals.push(bad.clone());
        r.result = "reverted";
        r.exit_code = 1;
        r.reason = Some(Reason::CheckFailed(
            "error-rate: green 50.00% (http://u:pw@127.0.0.1/x?t=secret)".into(),
        ));
        r.failed_check = Some(CheckOutcome {
            verdict: Verdict::Fail,
            checks: bad.checks,
        });
        r.detection_to_revert_seconds = Some(0.25);
    }
    r
}

#[test]
fn rows_follow_the_shifts_and_intervals() {
    let r = report(true);
    let rows = rows(&r, Some("blue 1"));
    let verdicts: Vec<&str> = rows.iter().map(|r| r.verdict.as_str()).collect();
    assert_eq!(
        verdicts,
        [
            "shifted",
            "pass",
            "shifted",
            "fail (error-rate)",
            "reverted"
        ]
    );
    assert_eq!(rows[1].healthy, "2 healthy");
    assert_eq!(
        rows[3].errors,
        "green 50.00% of 40 requests, blue 0.00% of 300 requests"
    );
    assert_eq!(rows[3].green_error, Some(50.0));
    assert_eq!(rows[3].weights, "500 / 500");
    assert_eq!((rows[4].share, rows[4].weights.as_str()), (0.0, "blue 1"));
}

#[test]
fn green_rate_reads_the_error_rate_words() {
    assert_eq!(green_rate("green 1.50% of 200 requests, blue x"), Some(1.5));
    assert_eq!(green_rate("no requests to green in the window"), None);
}

#[test]
fn a_reverted_summary_has_the_reason_the_command_and_no_secret() {
    let r = report(true);
    let md = markdown(
        &Finished {
            report: &r,
            final_weights: Some("targetgroup/blue/1 1".into()),
        },
        MAX_BYTES,
    );
    for part in [
        "## ❌ alb-rollout canary: reverted",
        "**Reason:** error-rate: green 50.00%",
        "alb-rollout rollback --listener arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/1/2\n",
        "| 0:10 | 2 at 50% | 500 / 500 | 2 healthy | green 50.00% of 40 requests, blue 0.00% of 300 requests | fail (error-rate) |",
        "```mermaid\nxychart-beta",
        "line [10.0, 10.0, 50.0, 50.0, 0.0]",
        "line [0.00, 0.00, 0.00, 50.00, 50.00]",
    ] {
        assert!(md.contains(part), "{part}\n{md}");
    }
    assert!(!md.contains("secret") && !md.contains(":pw@"), "{md}");
}

#[test]
fn a_promoted_summary_has_no_rollback_command() {
    let r = report(false);
    let md = markdown(
        &Finished {
            report: &r,
            final_weights: Some("targetgroup/green/2 999".into()),
        },
        MAX_BYTES,
    );
    assert!(md.starts_with("## ✅ alb-rollout canary: promoted"), "{md}");
    assert!(md.contains("| Final weights | targetgroup/green/2 999 |"));
    assert!(!md.contains("rollback"), "{md}");
}

fn many_rows(n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            at: i as f64,
            step: format!("row-{i}"),
            weights: "500 / 500".into(),
            healthy: "1 healthy".into(),
            errors: String::new(),
            verdict: "pass".into(),
            share: 50.0,
            green_error: None,
        })
        .collect()
}

#[test]
fn a_long_timeline_keeps_its_first_and_last_rows() {
    let rows = many_rows(1000);
    let t = table(&rows, 4000);
    assert!(t.len() <= 4000, "{}", t.len());
    assert!(t.contains("| row-0 |") && t.contains("| row-999 |"), "{t}");
    assert!(!t.contains("| row-500 |"));
    let kept = t.matches("| row-").count();
    assert!(
        t.contains(&format!("| … | {} rows dropped", 1000 - kept)),
        "{t}"
    );
    assert_eq!(table(&rows[..3], 4000).matches("| row-").count(), 3);
}

#[test]
fn the_whole_summary_stays_under_the_cap() {
    let mut r = report(false);
    let iv = r.steps[0].intervals[0].clone();
    r.steps[0].intervals = vec![iv; 40_000];
    let run = Finished {
        report: &r,
        final_weights: None,
    };
    let md = markdown(&run, MAX_BYTES);
    assert!(
        md.len() <= MAX_BYTES && md.len() > MAX_BYTES / 2,
        "{}",
        md.len()
    );
    assert!(md.contains("rows dropped to fit"));
    let points = chart(&rows(&r, None)).matches(":").count();
    assert!(points <= MAX_POINTS + 1, "{points}");
    assert_eq!(markdown(&run, 100), "", "too small for the head");
}

#[test]
fn chart_categories_are_unique() {
    let mut rows = many_rows(3);
    rows.iter_mut().for_each(|r| r.at = 3.0);
    let c = chart(&rows);
    assert!(
        c.contains("x-axis [\"0:03\", \"0:03 (2)\", \"0:03 (3)\"]"),
        "{c}"
    );
}

#[test]
fn a_rolling_summary_names_its_group_and_the_rollback_that_restores_it() {
    let mut r = report(true);
    let group = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/1";
    r.strategy = "rolling";
    r.listener_arn = String::new();
    r.target_group_arn = Some(group.into());
    r.rollback_command = format!("alb-rollout rollback --target-group {group}");
    let md = markdown(
        &Finished {
            report: &r,
            final_weights: None,
        },
        MAX_BYTES,
    );
    for part in [
        "## ❌ alb-rollout rolling: reverted",
        &format!("| Target group | `{group}` |"),
        "| Rounds analysed | 2 |",
        "If the target group is not back as it was",
        &format!("alb-rollout rollback --target-group {group}\n"),
    ] {
        assert!(md.contains(part), "{part}\n{md}");
    }
    assert!(
        !md.contains("Final weights") && !md.contains("| Listener |"),
        "{md}"
    );
}

fn hook(
    stage: crate::engine::HookStage,
    passed: bool,
    tail: &[&str],
) -> crate::report::result::HookRecord {
    crate::report::result::HookRecord {
        stage,
        step: 0,
        command: "./smoke.sh".into(),
        exit_status: Some(if passed { 0 } else { 3 }),
        passed,
        outcome: if passed { "exit 0" } else { "exit 3" }.into(),
        duration_seconds: 1.0,
        tail: tail.iter().map(|l| l.to_string()).collect(),
    }
}

#[test]
fn a_failed_hook_puts_its_last_lines_in_the_summary() {
    use crate::engine::HookStage;
    let mut r = report(true);
    r.reason = Some(Reason::CheckFailed(
        "hook pre-traffic `./smoke.sh` failed: exit 3".into(),
    ));
    r.hooks = vec![
        hook(
            HookStage::PreTraffic,
            false,
            &["GET /checkout: 500", "```not a fence end"],
        ),
        hook(HookStage::PostRevert, false, &["undo failed"]),
    ];
    let md = markdown(
        &Finished {
            report: &r,
            final_weights: None,
        },
        MAX_BYTES,
    );
    assert!(
        md.contains("**Failed hook:** pre-traffic `./smoke.sh` (exit 3)"),
        "{md}"
    );
    assert!(
        md.contains("````text\nGET /checkout: 500\n```not a fence end\n````"),
        "{md}"
    );
    assert!(
        !md.contains("undo failed"),
        "the post-revert hook is not the culprit: {md}"
    );
}

#[test]
fn a_failed_post_promote_hook_says_the_route_stays_promoted() {
    let mut r = report(false);
    r.result = "promoted-hook-failed";
    r.exit_code = 1;
    r.reason = Some(Reason::CheckFailed(
        "hook post-promote `./smoke.sh` failed: exit 3".into(),
    ));
    r.hooks = vec![hook(
        crate::engine::HookStage::PostPromote,
        false,
        &["boom"],
    )];
    let md = markdown(
        &Finished {
            report: &r,
            final_weights: None,
        },
        MAX_BYTES,
    );
    assert!(
        md.contains("The route stays promoted: nothing was reverted."),
        "{md}"
    );
    assert!(!md.contains("restore it with"), "{md}");
}

#[test]
fn a_failed_deploy_puts_its_batch_and_last_lines_in_the_summary() {
    let mut r = report(true);
    r.reason = Some(Reason::Error(
        "--deploy on batch 2 of 2 (10.0.0.3:80) failed: exit 4".into(),
    ));
    r.batch_commands = vec![crate::report::result::BatchCommandRecord {
        stage: "deploy",
        batch: 2,
        batches: 2,
        targets: vec!["10.0.0.3:80".into()],
        command: "./install.sh".into(),
        exit_status: Some(4),
        passed: false,
        outcome: "exit 4".into(),
        duration_seconds: 2.0,
        tail: vec!["apt: disk full".into()],
    }];
    let md = markdown(
        &Finished {
            report: &r,
            final_weights: None,
        },
        MAX_BYTES,
    );
    assert!(
        md.contains("**Failed --deploy:** batch 2 of 2 (10.0.0.3:80) `./install.sh` (exit 4)"),
        "{md}"
    );
    assert!(md.contains("```text\napt: disk full\n```"), "{md}");
    r.target_group_arn = Some("arn:tg".into());
    let md = markdown(
        &Finished {
            report: &r,
            final_weights: None,
        },
        MAX_BYTES,
    );
    assert!(md.contains("| Batches analysed |"), "{md}");
    assert!(!md.contains("Rounds analysed"), "{md}");
}
