//! A `--check` command as an analysis check: how it ended (`CommandCheck`,
//! measured by the collector through the command port) and its verdict:
//! exit 0 passes, 1 fails, anything else is no data.

use super::judge::{CheckResult, Verdict};
use serde::Serialize;

/// How one `--check` command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandCheck {
    pub command: String,
    /// Its exit status; `None` when it ran past its timeout or did not start.
    pub exit_status: Option<i32>,
    /// `exit 1`, `timed out after 30s`.
    pub outcome: String,
    /// Its last output line, for the verdict's detail.
    pub last_line: Option<String>,
}

impl CommandCheck {
    pub fn of(spec: &crate::command::CommandSpec, r: &crate::command::CommandResult) -> Self {
        CommandCheck {
            command: crate::redact::text(&spec.script),
            exit_status: r.exit.code(),
            outcome: r.exit.describe(spec.timeout),
            last_line: r.tail.last().cloned(),
        }
    }
}

/// Exit 0 passes, 1 fails; any other end (a status, a timeout, a signal)
/// is no data, for `--on-no-data` to decide.
pub(super) fn judge_command(c: &CommandCheck) -> CheckResult {
    let verdict = match c.exit_status {
        Some(0) => Verdict::Pass,
        Some(1) => Verdict::Fail,
        _ => Verdict::NoData,
    };
    let said = match &c.last_line {
        Some(l) if !l.trim().is_empty() => format!(": {}", l.trim()),
        _ => String::new(),
    };
    let what = match verdict {
        Verdict::NoData => format!("{} (only exit 0 or 1 judges)", c.outcome),
        _ => c.outcome.clone(),
    };
    CheckResult {
        check: "command",
        verdict,
        detail: format!("`{}` {what}{said}", c.command),
        command: Some(c.command.clone()),
    }
}
