//! Reporting inside GitHub Actions (`GITHUB_ACTIONS=true`): a `::group::`
//! per step, one annotation for the result, step outputs in
//! `$GITHUB_OUTPUT` and a job summary in `$GITHUB_STEP_SUMMARY`.
//!
//! Written by hand rather than with a crate: the Actions crates are young,
//! and all this needs is the workflow-command escaping and the file syntax.
//! Everything written goes through `redact::text`. Nothing is ever sent as
//! `::add-mask::`: a masked ARN would make the runner drop the output that
//! contains it, silently.

use super::{summary, Progress, Reporter};
use crate::redact;
use std::io::Write;
use std::path::PathBuf;

/// Where the runner wants outputs and the summary; `None` outside Actions.
#[derive(Debug, Clone, Default)]
pub struct GithubEnv {
    pub output: Option<PathBuf>,
    pub summary: Option<PathBuf>,
}

impl GithubEnv {
    pub fn from_env() -> Option<GithubEnv> {
        if std::env::var("GITHUB_ACTIONS").ok().as_deref() != Some("true") {
            return None;
        }
        let path = |k| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Some(GithubEnv {
            output: path("GITHUB_OUTPUT"),
            summary: path("GITHUB_STEP_SUMMARY"),
        })
    }

    /// Append `name<<DELIM` outputs; a failure is a warning on stderr, never
    /// a change of the run's result.
    pub fn write_outputs(&self, outputs: &[(&str, String)]) {
        let text: String = outputs.iter().map(|(k, v)| output_entry(k, v)).collect();
        if let Some(p) = &self.output {
            append(p, &text, "GITHUB_OUTPUT");
        }
    }

    /// Append the job summary, within what GitHub accepts for one step.
    pub fn write_summary(&self, run: &summary::Finished) {
        let Some(p) = &self.summary else { return };
        let used = std::fs::metadata(p).map(|m| m.len() as usize).unwrap_or(0);
        let budget = summary::MAX_BYTES.saturating_sub(used);
        append(p, &summary::markdown(run, budget), "GITHUB_STEP_SUMMARY");
    }
}

/// Append a dry run's plan (`plan_summary`) to the job summary, when in
/// GitHub Actions.
pub fn plan_summary(plan: &super::plan_summary::Plan) {
    let Some(p) = GithubEnv::from_env().and_then(|e| e.summary) else {
        return;
    };
    let used = std::fs::metadata(&p).map(|m| m.len() as usize).unwrap_or(0);
    let budget = summary::MAX_BYTES.saturating_sub(used);
    let text = super::plan_summary::markdown(plan, budget);
    append(&p, &text, "GITHUB_STEP_SUMMARY");
}

fn append(path: &PathBuf, text: &str, what: &str) {
    let r = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = r {
        eprintln!("warning: could not write {what} ({}): {e}", path.display());
    }
}

/// A workflow command's message: `%`, CR and LF are the runner's escapes.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`, which end it.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::name k=v,...::message`, escaped and with URLs masked.
pub fn command(name: &str, props: &[(&str, &str)], message: &str) -> String {
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(&redact::text(v))))
        .collect();
    let sep = if props.is_empty() { "" } else { " " };
    format!(
        "::{name}{sep}{}::{}",
        props.join(","),
        escape_data(&redact::text(message))
    )
}

/// 32 random hex digits: `/dev/urandom`, else std's randomly keyed hasher
/// (no new dependency for 16 bytes).
fn random_hex() -> String {
    use std::io::Read;
    let mut b = [0u8; 16];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if ok.is_err() {
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in b.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A delimiter that occurs nowhere in `value`: a value holding its own
/// delimiter line would end early and let the rest set other outputs.
pub fn delimiter(value: &str) -> String {
    loop {
        let d = format!("ghadelimiter_{}", random_hex());
        if !value.contains(&d) {
            return d;
        }
    }
}

/// One output in the multiline syntax, URLs masked.
pub fn output_entry(name: &str, value: &str) -> String {
    let v = redact::text(value);
    let d = delimiter(&v);
    format!("{name}<<{d}\n{v}\n{d}\n")
}

/// Every value the binary writes as the `result` output: a run's
/// (`result_output`), and those of commands without a run report
/// (`result_only`). action.yml and docs/output.md list each one (a test
/// checks them).
pub const RESULTS: &[&str] = &[
    "promoted",
    "reverted",
    "cancelled",
    "failed",
    "revert-incomplete",
    "dry-run",
    "rolled-back",
    "nothing-to-do",
    "removed",
    "ok",
];

/// The Action's `result` output for a process exit code and JSON `result`:
/// `promoted`, `reverted`, `cancelled`, `failed`, `revert-incomplete`.
pub fn result_output(result: &str, exit_code: i32) -> &'static str {
    match (exit_code, result) {
        (130, _) => "cancelled",
        (3, _) => "revert-incomplete",
        (0, "promoted") => "promoted",
        (_, "reverted") => "reverted",
        _ => "failed",
    }
}

/// The outputs of a finished run (docs/output.md, "In GitHub Actions").
pub fn outputs(run: &summary::Finished) -> Vec<(&'static str, String)> {
    let r = run.report;
    let failed = r.failed_check.as_ref().map(|o| {
        let names: Vec<&str> = o
            .checks
            .iter()
            .filter(|c| c.verdict == o.verdict)
            .map(|c| c.check)
            .collect();
        names.join(",")
    });
    // A failed hook is a failed check without an interval: name its stage.
    let failed = failed.or_else(|| r.failed_hook().map(|h| format!("hook {}", h.stage)));
    // A failed replay is a failed check without an interval too.
    let failed = failed.or_else(|| {
        let s = r.shadow.as_ref()?;
        (s.judgement.verdict != crate::shadow::judge::Verdict::Pass && r.exit_code == 1)
            .then(|| "shadow".to_string())
    });
    vec![
        ("result", result_output(r.result, r.exit_code).to_string()),
        (
            "final-weights",
            run.final_weights.clone().unwrap_or_default(),
        ),
        ("failed-check", failed.unwrap_or_default()),
        (
            "detection-to-revert-seconds",
            r.detection_to_revert_seconds
                .map(|s| format!("{s:.1}"))
                .unwrap_or_default(),
        ),
        ("duration-seconds", format!("{:.1}", r.duration_seconds)),
        ("run-id", r.run_id.clone()),
    ]
}

/// The one annotation of a run: an error with the reason unless promoted
/// (the UI shows few per step, so never one per interval).
pub fn annotation(run: &summary::Finished) -> String {
    let r = run.report;
    let result = result_output(r.result, r.exit_code);
    let title = format!("alb-rollout {}: {result}", r.strategy);
    match &r.reason {
        None => command(
            "notice",
            &[("title", &title)],
            &format!(
                "green serves the route (weights: {}) after {:.0}s",
                run.final_weights.as_deref().unwrap_or("unknown"),
                r.duration_seconds
            ),
        ),
        Some(reason) => {
            let mut msg = reason.message().to_string();
            if let Some(left) = &r.left_behind {
                msg = format!("{msg}\nLEFT BEHIND: {left}");
            }
            command("error", &[("title", &title)], &msg)
        }
    }
}

/// For commands without a run report (input errors, `rollback`, `status`,
/// a dry run): the `result` output and, with `error`, its one annotation
/// (on stderr, where the error itself goes).
pub fn result_only(result: &str, error: Option<&str>) {
    debug_assert!(RESULTS.contains(&result), "{result} is not in RESULTS");
    let Some(env) = GithubEnv::from_env() else {
        return;
    };
    if let Some(e) = error {
        let title = format!("alb-rollout: {result}");
        eprintln!("{}", command("error", &[("title", &title)], e));
    }
    env.write_outputs(&[("result", result.to_string())]);
}

/// Wraps the text reporter: groups the log by step, and at the end writes
/// the annotation, the outputs and the summary.
pub struct GithubReporter<R: Reporter> {
    inner: R,
    /// The stream the text reporter writes to: the runner reads commands
    /// from stdout and stderr, and `--output json` keeps stdout for JSON.
    out: Box<dyn Write + Send>,
    env: Option<GithubEnv>,
    open: bool,
    promoted: Option<String>,
}

impl<R: Reporter> GithubReporter<R> {
    /// Outside Actions (`env` is `None`) every event just goes to `inner`.
    pub fn new(inner: R, out: Box<dyn Write + Send>, env: Option<GithubEnv>) -> Self {
        GithubReporter {
            inner,
            out,
            env,
            open: false,
            promoted: None,
        }
    }

    fn line(&mut self, s: &str) {
        let _ = writeln!(self.out, "{s}");
        let _ = self.out.flush();
    }

    fn group(&mut self, title: Option<&str>) {
        if std::mem::take(&mut self.open) {
            self.line("::endgroup::");
        }
        if let Some(t) = title {
            self.line(&command("group", &[], t));
            self.open = true;
        }
    }

    /// The weights green was promoted to, as seen by this reporter.
    pub fn promoted_weights(&self) -> Option<&str> {
        self.promoted.as_deref()
    }

    /// Close the open group, then write the annotation, outputs and summary.
    pub fn finish(&mut self, run: &summary::Finished) {
        let Some(env) = self.env.clone() else { return };
        self.group(None);
        self.line(&annotation(run));
        env.write_outputs(&outputs(run));
        env.write_summary(run);
    }
}

impl<R: Reporter> Reporter for GithubReporter<R> {
    fn live(&self) -> bool {
        self.inner.live()
    }

    fn progress(&mut self, p: Progress<'_>) {
        if let Progress::Promoted { forward } = &p {
            self.promoted = Some(forward.weights_text());
        }
        if self.env.is_none() {
            return self.inner.progress(p);
        }
        match &p {
            // The start line stays above the first group.
            Progress::Started { run_id, .. } => {
                let title = format!("{run_id}: record, register, health");
                self.inner.progress(p);
                return self.group(Some(&title));
            }
            Progress::Shifted {
                step,
                steps,
                percent,
                ..
            } => self.group(Some(&format!(
                "step {}/{steps}: {percent} to green",
                step + 1
            ))),
            Progress::Round {
                round,
                rounds,
                in_place,
                ..
            } => {
                let word = if *in_place { "batch" } else { "round" };
                let title = format!("{word} {}/{rounds}", round + 1);
                self.inner.progress(p);
                return self.group(Some(&title));
            }
            // The failure and the promotion stay visible below the last group.
            Progress::Reverting { .. } | Progress::Promoted { .. } => self.group(None),
            _ => {}
        }
        self.inner.progress(p);
    }
}

#[cfg(test)]
#[path = "github_tests.rs"]
mod tests;
