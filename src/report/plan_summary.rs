//! A dry run's job summary: in GitHub Actions the plan step's summary shows
//! the plan (what the route or group is now, and every call the run would
//! make, then those of its revert), as a live run's summary shows its
//! report. Pure markdown here; `github::GithubEnv::append_summary` writes it.

use crate::redact;

/// One planned API call (or wait), as the dry run prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub action: String,
    pub resource: String,
    pub detail: String,
}

/// What the summary shows.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub strategy: String,
    /// `label: text` lines above the table (route, now, blue, green, ...).
    pub facts: Vec<(String, String)>,
    pub calls: Vec<Row>,
    pub on_failure: Vec<Row>,
}

/// A table cell: one line, pipes escaped, secrets masked.
fn cell(s: &str) -> String {
    redact::text(s)
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn table(rows: &[Row], budget: usize) -> String {
    let mut out = String::from("| # | Call | Resource | Detail |\n|---:|---|---|---|\n");
    for (i, r) in rows.iter().enumerate() {
        let line = format!(
            "| {} | {} | `{}` | {} |\n",
            i + 1,
            cell(&r.action),
            cell(&r.resource),
            cell(&r.detail)
        );
        if out.len() + line.len() > budget {
            out.push_str(&format!("\n_{} more calls not shown_\n", rows.len() - i));
            break;
        }
        out.push_str(&line);
    }
    out
}

/// The summary's markdown, within `budget` bytes (what is left of GitHub's
/// 1 MiB per step).
pub fn markdown(p: &Plan, budget: usize) -> String {
    let mut out = format!(
        "## alb-rollout {}: dry run\n\nPreflight passed; nothing was changed. The run would make these calls.\n\n",
        cell(&p.strategy)
    );
    for (k, v) in &p.facts {
        out.push_str(&format!("- **{}**: {}\n", cell(k), cell(v)));
    }
    out.push('\n');
    let half = budget.saturating_sub(out.len()) / 2;
    out.push_str(&table(&p.calls, half));
    if !p.on_failure.is_empty() {
        out.push_str("\n**On a failed check or cancel:**\n\n");
        out.push_str(&table(&p.on_failure, half));
    }
    if out.len() > budget {
        out.truncate(budget.saturating_sub(1));
        while !out.is_char_boundary(out.len()) {
            out.pop();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(a: &str, d: &str) -> Row {
        Row {
            action: a.into(),
            resource: "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/1/2".into(),
            detail: d.into(),
        }
    }

    #[test]
    fn a_plan_summary_lists_facts_calls_and_the_revert() {
        let p = Plan {
            strategy: "canary".into(),
            facts: vec![("route".into(), "the default action of listener L".into())],
            calls: vec![
                row("ModifyListener", "blue 90 | green 10"),
                row("analyse", "2m"),
            ],
            on_failure: vec![row("ModifyListener", "forward to blue")],
        };
        let md = markdown(&p, 1 << 20);
        for part in [
            "## alb-rollout canary: dry run",
            "- **route**: the default action of listener L",
            "| 1 | ModifyListener |",
            "blue 90 \\| green 10",
            "| 2 | analyse |",
            "**On a failed check or cancel:**",
            "forward to blue",
        ] {
            assert!(md.contains(part), "{part}: {md}");
        }
    }

    #[test]
    fn a_long_plan_stays_within_the_budget_and_says_what_is_left_out() {
        let p = Plan {
            strategy: "rolling".into(),
            calls: (0..1000)
                .map(|i| row("RegisterTargets", &format!("10.0.{i}.1")))
                .collect(),
            ..Plan::default()
        };
        let md = markdown(&p, 4000);
        assert!(md.len() <= 4000, "{}", md.len());
        assert!(md.contains("more calls not shown"), "{md}");
    }
}
