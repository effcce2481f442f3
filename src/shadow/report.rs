//! What a replay reports: the logs read, what was left out and why, and
//! the judgement (replayed, mismatch rate by blue's status class, p50 and
//! p99 side by side, the ten paths with most mismatches). The JSON result's
//! `shadow` object, its text lines and the GitHub summary's section. Paths
//! are shown without their query, and the shadow header's value (the run
//! id) is the only header named: nothing a user sent is printed.

use super::judge::{Judgement, Verdict};
use super::Prepared;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowReport {
    pub log_objects: usize,
    pub log_lines: u64,
    /// Malformed lines by reason: counted and skipped.
    pub malformed: BTreeMap<String, u64>,
    /// Lines of other routes, target groups or load balancers.
    pub not_on_route: u64,
    pub outside_window: u64,
    /// Requests not replayed for their method (`--methods`).
    pub methods_skipped: BTreeMap<String, u64>,
    pub sampled_out: u64,
    /// Selected requests the replay did not reach (`--duration` ended).
    pub not_sent: u64,
    #[serde(flatten)]
    pub judgement: Judgement,
}

impl ShadowReport {
    pub fn new(objects: usize, p: &Prepared, not_sent: u64, judgement: Judgement) -> Self {
        ShadowReport {
            log_objects: objects,
            log_lines: p.lines,
            malformed: p.malformed.clone(),
            not_on_route: p.not_on_route,
            outside_window: p.outside_window,
            methods_skipped: p.methods_skipped.clone(),
            sampled_out: p.sampled_out,
            not_sent,
            judgement,
        }
    }

    fn skipped(&self) -> String {
        let mut parts = vec![];
        let n: u64 = self.malformed.values().sum();
        if n > 0 {
            let why: Vec<String> = self
                .malformed
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            parts.push(format!("{n} malformed ({})", why.join(", ")));
        }
        for (m, v) in &self.methods_skipped {
            parts.push(format!("{v} {m} (not in --methods)"));
        }
        if self.sampled_out > 0 {
            parts.push(format!("{} left out by --sample", self.sampled_out));
        }
        if self.not_sent > 0 {
            parts.push(format!(
                "{} not sent before --duration ended",
                self.not_sent
            ));
        }
        match parts.is_empty() {
            true => String::new(),
            false => format!("; skipped: {}", parts.join(", ")),
        }
    }

    /// The report as text lines.
    pub fn lines(&self) -> Vec<String> {
        let j = &self.judgement;
        let mut out = vec![format!(
            "shadow: {} log objects, {} lines; {} requests replayed, {} mismatched ({:.1}%){}",
            self.log_objects,
            self.log_lines,
            j.replayed,
            j.mismatched,
            j.mismatch_rate * 100.0,
            self.skipped()
        )];
        for c in &j.by_class {
            out.push(format!(
                "  blue {}: {} replayed, {} mismatched ({:.1}%)",
                c.class,
                c.replayed,
                c.mismatched,
                c.mismatch_rate * 100.0
            ));
        }
        if let Some(l) = &j.latency {
            out.push(format!(
                "  latency: p50 blue {} ms, green {} ms; p99 blue {} ms, green {} ms; ratio {:.2}",
                l.blue_p50_ms, l.green_p50_ms, l.blue_p99_ms, l.green_p99_ms, l.ratio
            ));
        }
        for p in &j.top_mismatching_paths {
            out.push(format!("  mismatching: {} ({})", p.path, p.mismatched));
        }
        out.push(match (j.verdict, &j.reason) {
            (Verdict::Pass, _) => "  verdict: pass".to_string(),
            (_, Some(r)) => format!("  verdict: {r}"),
            (v, None) => format!("  verdict: {v:?}"),
        });
        out
    }

    /// The GitHub summary's section.
    pub fn markdown(&self) -> String {
        let j = &self.judgement;
        let mut s = format!(
            "### Shadow\n\n{} requests replayed, {} mismatched ({:.1}%).\n\n| Blue's class | Replayed | Mismatched |\n| --- | --- | --- |\n",
            j.replayed,
            j.mismatched,
            j.mismatch_rate * 100.0
        );
        for c in &j.by_class {
            s.push_str(&format!(
                "| {} | {} | {} |\n",
                c.class, c.replayed, c.mismatched
            ));
        }
        if let Some(l) = &j.latency {
            s.push_str(&format!(
                "\n| Latency | Blue | Green |\n| --- | --- | --- |\n| p50 | {} ms | {} ms |\n| p99 | {} ms | {} ms |\n",
                l.blue_p50_ms, l.green_p50_ms, l.blue_p99_ms, l.green_p99_ms
            ));
        }
        if !j.top_mismatching_paths.is_empty() {
            s.push_str("\nMost mismatching paths:\n\n");
            for p in &j.top_mismatching_paths {
                s.push_str(&format!(
                    "- `{}`: {}\n",
                    p.path.replace('`', "'"),
                    p.mismatched
                ));
            }
        }
        s.push('\n');
        s
    }
}
