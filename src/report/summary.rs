//! The job summary of a run, in GitHub-flavoured markdown: the result, the
//! reason and the `rollback` command on failure, a timeline table (one row
//! per shift and per analysis interval) and a mermaid chart of green's share
//! and error rate. Pure: built from the final `RunReport` alone, so every
//! strategy that fills one gets a summary.

use super::RunReport;
use crate::redact;

/// GitHub's cap for one step's summary.
pub const MAX_BYTES: usize = 1024 * 1024;

/// Chart points: more would not be readable and would only cost bytes.
const MAX_POINTS: usize = 100;

/// What the summary and the outputs are made of.
pub struct Finished<'a> {
    pub report: &'a RunReport,
    /// The route's weights at the end (`name weight, ...`), when known.
    pub final_weights: Option<String>,
}

/// One timeline row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub at: f64,
    pub step: String,
    pub weights: String,
    pub healthy: String,
    pub errors: String,
    pub verdict: String,
    /// Green's share in percent, and its error rate in percent if measured.
    pub share: f64,
    pub green_error: Option<f64>,
}

fn detail<'a>(checks: &'a [crate::analysis::CheckResult], name: &str) -> &'a str {
    checks
        .iter()
        .find(|c| c.check == name)
        .map_or("", |c| c.detail.as_str())
}

/// `green 1.50% of 200 requests, ...` → 1.5 (the error-rate check's words).
pub fn green_rate(detail: &str) -> Option<f64> {
    let rest = detail.strip_prefix("green ")?;
    rest.split_once('%')?.0.parse().ok()
}

/// The interval's verdict, naming the checks that decided it unless it passed
/// (a probe or Prometheus failure has no column of its own).
fn verdict(iv: &super::IntervalRecord) -> String {
    let word = serde_json::to_value(iv.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let by: Vec<&str> = iv
        .checks
        .iter()
        .filter(|c| c.verdict == iv.verdict)
        .map(|c| c.check)
        .collect();
    match iv.verdict {
        crate::analysis::Verdict::Pass => word,
        _ => format!("{word} ({})", by.join(", ")),
    }
}

pub fn rows(r: &RunReport, final_weights: Option<&str>) -> Vec<Row> {
    let mut out = Vec::new();
    for (i, s) in r.steps.iter().enumerate() {
        let base = Row {
            at: s.started_at_seconds,
            step: format!("{} at {}%", i + 1, s.percent),
            weights: format!("{} / {}", s.blue_weight, s.green_weight),
            healthy: String::new(),
            errors: String::new(),
            verdict: "shifted".into(),
            share: s.percent,
            green_error: None,
        };
        out.push(base.clone());
        for iv in &s.intervals {
            let errors = detail(&iv.checks, "error-rate");
            out.push(Row {
                at: iv.at_seconds,
                healthy: detail(&iv.checks, "health")
                    .trim_start_matches("green ")
                    .to_string(),
                errors: errors.split(';').next().unwrap_or("").to_string(),
                verdict: verdict(iv),
                green_error: green_rate(errors),
                ..base.clone()
            });
        }
    }
    let promoted = r.result == "promoted";
    out.push(Row {
        at: r.duration_seconds,
        step: "end".into(),
        weights: final_weights.unwrap_or("").to_string(),
        healthy: String::new(),
        errors: String::new(),
        verdict: r.result.to_string(),
        share: if promoted { 100.0 } else { 0.0 },
        green_error: None,
    });
    out
}

fn cell(s: &str) -> String {
    redact::text(s)
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

fn mmss(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn table_row(r: &Row) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} |\n",
        mmss(r.at),
        cell(&r.step),
        cell(&r.weights),
        cell(&r.healthy),
        cell(&r.errors),
        cell(&r.verdict)
    )
}

const TABLE_HEAD: &str = "| Time | Step | Weights (blue / green) | Healthy targets | Error rate (green vs blue) | Verdict |\n| --- | --- | --- | --- | --- | --- |\n";

/// The table within `budget` bytes: the first and last rows kept (the start
/// and the end matter most), the middle dropped and counted.
pub fn table(rows: &[Row], budget: usize) -> String {
    let lines: Vec<String> = rows.iter().map(table_row).collect();
    let total: usize = TABLE_HEAD.len() + lines.iter().map(String::len).sum::<usize>();
    if total <= budget {
        return format!("{TABLE_HEAD}{}", lines.concat());
    }
    let note =
        |n: usize| format!("| … | {n} rows dropped to fit GitHub's 1 MiB summary | | | | |\n");
    let mut left = budget.saturating_sub(TABLE_HEAD.len() + note(lines.len()).len());
    let (mut head, mut tail) = (0, 0);
    while head + tail < lines.len() {
        let next = if head <= tail {
            head
        } else {
            lines.len() - 1 - tail
        };
        if lines[next].len() > left {
            break;
        }
        left -= lines[next].len();
        if head <= tail {
            head += 1
        } else {
            tail += 1
        }
    }
    let dropped = lines.len() - head - tail;
    format!(
        "{TABLE_HEAD}{}{}{}",
        lines[..head].concat(),
        note(dropped),
        lines[lines.len() - tail..].concat()
    )
}

/// An `xychart-beta` of green's share and error rate over time.
pub fn chart(rows: &[Row]) -> String {
    let step = rows.len().div_ceil(MAX_POINTS).max(1);
    let mut picked: Vec<&Row> = rows.iter().step_by(step).collect();
    if let (Some(last), Some(p)) = (rows.last(), picked.last()) {
        if !std::ptr::eq(last, *p) {
            picked.push(last);
        }
    }
    // Categories must be unique (a repeated one is merged): number repeats.
    let mut seen = std::collections::HashMap::new();
    let xs: Vec<String> = picked
        .iter()
        .map(|r| {
            let t = mmss(r.at);
            let n = seen.entry(t.clone()).and_modify(|n| *n += 1).or_insert(1);
            match *n {
                1 => format!("\"{t}\""),
                n => format!("\"{t} ({n})\""),
            }
        })
        .collect();
    let share: Vec<String> = picked.iter().map(|r| format!("{:.1}", r.share)).collect();
    let mut out = format!(
        "```mermaid\nxychart-beta\n    title \"Green's share of traffic and error rate (%)\"\n    x-axis [{}]\n    y-axis \"percent\" 0 --> 100\n    line [{}]\n",
        xs.join(", "),
        share.join(", ")
    );
    if picked.iter().any(|r| r.green_error.is_some()) {
        let mut last = 0.0;
        let errs: Vec<String> = picked
            .iter()
            .map(|r| {
                last = r.green_error.unwrap_or(last);
                format!("{:.2}", last.min(100.0))
            })
            .collect();
        out.push_str(&format!("    line [{}]\n", errs.join(", ")));
    }
    out.push_str("```\n");
    out
}

/// The reason and the command that puts the route back.
fn failure(r: &RunReport) -> String {
    let Some(reason) = &r.reason else {
        return String::new();
    };
    let mut s = format!("**Reason:** {}\n\n", cell(reason.message()));
    if let Some(left) = &r.left_behind {
        s.push_str(&format!("**Left behind:** {}\n\n", cell(left)));
    }
    s.push_str(&hook_tail(r));
    s.push_str(&batch_command_tail(r));
    if r.result == "promoted-hook-failed" {
        s.push_str("The route stays promoted: nothing was reverted.\n\n");
        return s;
    }
    s.push_str(&format!(
        "If the {} is not back as it was, restore it with:\n\n```sh\n{}\n```\n\n",
        match r.target_group_arn {
            Some(_) => "target group",
            None => "route",
        },
        r.rollback_command
    ));
    s
}

/// The failed hook's last lines, in a fence no line of its output can close.
fn hook_tail(r: &RunReport) -> String {
    let Some(h) = r.failed_hook() else {
        return String::new();
    };
    let body = h.tail.join("\n");
    let fence = "`".repeat(3.max(longest_backtick_run(&body) + 1));
    format!(
        "**Failed hook:** {} `{}` ({})\n\n{fence}text\n{body}\n{fence}\n\n",
        h.stage,
        cell(&h.command),
        h.outcome
    )
}

/// The failed `--deploy`/`--undo`'s last lines, fenced like a hook's.
fn batch_command_tail(r: &RunReport) -> String {
    let Some(c) = r.failed_batch_command() else {
        return String::new();
    };
    let body = c.tail.join("\n");
    let fence = "`".repeat(3.max(longest_backtick_run(&body) + 1));
    format!(
        "**Failed --{}:** batch {} of {} ({}) `{}` ({})\n\n{fence}text\n{body}\n{fence}\n\n",
        c.stage,
        c.batch,
        c.batches,
        cell(&c.targets.join(", ")),
        cell(&c.command),
        c.outcome
    )
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

fn head(run: &Finished) -> String {
    let r = run.report;
    let mark = if r.result == "promoted" { "✅" } else { "❌" };
    let mut rows = vec![
        ("Run", format!("`{}`", r.run_id)),
        (
            "Result",
            format!(
                "{} (exit {}) after {:.0}s",
                r.result, r.exit_code, r.duration_seconds
            ),
        ),
    ];
    match &r.target_group_arn {
        // A group run has no route, weights or second group.
        Some(group) => {
            rows.push(("Target group", format!("`{group}`")));
            // In place a round is a batch deployed and back in service.
            let what = match r.batch_commands.is_empty() {
                true => "Rounds analysed",
                false => "Batches analysed",
            };
            rows.push((what, r.steps.len().to_string()));
        }
        None => {
            rows.push(("Listener", format!("`{}`", r.listener_arn)));
            rows.push(("Blue", format!("`{}`", r.blue)));
            rows.push(("Green", format!("`{}`", r.green)));
            let weights = run.final_weights.as_deref().unwrap_or("unknown");
            rows.push(("Final weights", cell(weights)));
        }
    }
    let detection = r
        .detection_to_revert_seconds
        .map(|s| format!("{s:.1}s"))
        .unwrap_or_else(|| "-".into());
    rows.push(("Detection to revert", detection));
    let table: String = rows
        .iter()
        .map(|(k, v)| format!("| {k} | {v} |\n"))
        .collect();
    format!(
        "## {mark} alb-rollout {}: {}\n\n| | |\n| --- | --- |\n{table}\n",
        r.strategy, r.result
    )
}

/// The whole summary within `budget` bytes (the table gives way first).
pub fn markdown(run: &Finished, budget: usize) -> String {
    let rows = rows(run.report, run.final_weights.as_deref());
    let shadow = (run.report.shadow.as_ref())
        .map(|s| s.markdown())
        .unwrap_or_default();
    let top = redact::text(&format!("{}{}{shadow}", head(run), failure(run.report)));
    let graph = chart(&rows);
    let fixed = top.len() + "### Timeline\n\n".len() + 1 + graph.len();
    let table = table(&rows, budget.saturating_sub(fixed));
    let all = format!("{top}### Timeline\n\n{table}\n{graph}");
    if all.len() <= budget {
        all
    } else {
        // Not even the head fits: say so rather than break the markdown.
        String::new()
    }
}

#[cfg(test)]
#[path = "summary_tests.rs"]
pub(crate) mod tests;
