//! `ALB_ROLLOUT_<X>` variables the chosen subcommand does not read. The
//! GitHub Action passes every input as one (empty when not given); clap
//! reads only the subcommand's own, so `bake: 15m` on `command: canary`
//! would be dropped without a word. A non-empty variable that no flag of
//! the subcommand (or a global flag) reads, and that is not one of the
//! non-flag variables below, is an input error: exit 2 before any AWS
//! call. The known set is walked from clap's own definitions, so a new
//! flag is covered by its `env = ...` alone.

use crate::preflight::InputError;
use clap::{ArgMatches, Command};

pub const PREFIX: &str = "ALB_ROLLOUT_";

/// `ALB_ROLLOUT_*` variables that are not flags, so every subcommand may
/// see them: the log filter (`main`), the OIDC client secret a created
/// rule puts back (docs/dark-launch.md), and what a hook's environment
/// holds (issue 17: the stage, the run's id, strategy, step, green's
/// percent, the load balancer's DNS name, the preview header, the batch's
/// targets), since an alb-rollout command may run inside another run's
/// hook; and `BIN`, the binary the integration tests run. Prefixed ones
/// are in `NOT_FLAG_PREFIXES`.
pub const NOT_FLAGS: &[&str] = &[
    "BIN",
    "LOG",
    "OIDC_CLIENT_SECRET",
    "HOOK",
    "RUN_ID",
    "STRATEGY",
    "STEP",
    "GREEN_PERCENT",
    "LB_DNS",
    "PREVIEW_HEADER",
    "TARGETS",
];

/// Inside a hook (`ALB_ROLLOUT_HOOK` set) these describe the hook's run,
/// not flags for this command.
pub const HOOK_CONTEXT: &[&str] = &["GREEN", "BLUE"];

/// The action's own variables (`ALB_ROLLOUT_ACTION_COMMAND`, ...), and the
/// test suites' settings (tests/live_aws.rs's `LIVE_*`, the soak test's
/// `SOAK_*`), which reach the binary from a developer's shell.
pub const NOT_FLAG_PREFIXES: &[&str] = &["ACTION_", "LIVE_", "SOAK_"];

/// The env names the arguments of `cmd` read (its own, not its
/// subcommands').
fn env_names(cmd: &Command) -> Vec<String> {
    cmd.get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect()
}

/// Every subcommand path (`canary`, `routes remove`) with its command.
fn leaves<'a>(cmd: &'a Command, path: &str, out: &mut Vec<(String, &'a Command)>) {
    for sub in cmd.get_subcommands() {
        let p = match path {
            "" => sub.get_name().to_string(),
            _ => format!("{path} {}", sub.get_name()),
        };
        if sub.has_subcommands() {
            leaves(sub, &p, out);
        } else {
            out.push((p, sub));
        }
    }
}

/// The subcommand at `path` and the commands above it (whose global and
/// own arguments it also reads).
fn chain<'a>(root: &'a Command, path: &[String]) -> Vec<&'a Command> {
    let mut out = vec![root];
    let mut at = root;
    for name in path {
        match at.find_subcommand(name) {
            Some(s) => {
                out.push(s);
                at = s;
            }
            None => break,
        }
    }
    out
}

/// The subcommand path that `m` chose: `["canary"]`, `["routes", "remove"]`.
pub fn chosen(m: &ArgMatches) -> Vec<String> {
    let mut out = vec![];
    let mut at = m;
    while let Some((name, sub)) = at.subcommand() {
        out.push(name.to_string());
        at = sub;
    }
    out
}

/// The process's `ALB_ROLLOUT_*` variables (others, and names or values
/// that are not Unicode, are no flag's).
pub fn from_process() -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    vars.sort();
    vars
}

/// The action input a variable comes from: `ALB_ROLLOUT_KEEP_BLUE` is `keep-blue`.
pub fn input_name(var: &str) -> String {
    var.trim_start_matches(PREFIX)
        .to_lowercase()
        .replace('_', "-")
}

/// Errors for the non-empty `ALB_ROLLOUT_*` variables in `vars` that
/// subcommand `path` of `root` does not read.
pub fn unknown(root: &Command, path: &[String], vars: &[(String, String)]) -> Vec<InputError> {
    let known: Vec<String> = chain(root, path).into_iter().flat_map(env_names).collect();
    let in_hook = vars
        .iter()
        .any(|(k, v)| k == "ALB_ROLLOUT_HOOK" && !v.trim().is_empty());
    let mut all = vec![];
    leaves(root, "", &mut all);
    let here = path.join(" ");
    let mut errors = vec![];
    for (var, value) in vars {
        let Some(rest) = var.strip_prefix(PREFIX) else {
            continue;
        };
        if value.trim().is_empty()
            || known.contains(var)
            || NOT_FLAGS.contains(&rest)
            || NOT_FLAG_PREFIXES.iter().any(|p| rest.starts_with(p))
            || (in_hook && HOOK_CONTEXT.contains(&rest))
        {
            continue;
        }
        let takers: Vec<&str> = (all.iter())
            .filter(|(_, c)| env_names(c).contains(var))
            .map(|(p, _)| p.as_str())
            .collect();
        let taken = match takers.as_slice() {
            [] => "no command takes it".to_string(),
            t => format!("it is taken by: {}", t.join(", ")),
        };
        errors.push(InputError::new(
            var,
            format!(
                "is set (action input `{}`), but `{here}` does not read it; {taken}. Remove the input from this step, or use the command that takes it",
                input_name(var)
            ),
        ));
    }
    errors
}

#[cfg(test)]
#[path = "env_inputs_tests.rs"]
mod tests;
