//! The flags of the team's own commands: `--hook STAGE=COMMAND` at a stage
//! of the run, `--hook-timeout`, and `--check COMMAND` as an analysis
//! source (exit 0 passes, 1 fails, anything else is no data). Flattened
//! into the analysis flags, so every deploy command (`canary`,
//! `blue-green`, `rolling`, `ab`, `dark`) takes them; parsed once here
//! into `strategy::hooks::Hooks`.

use crate::engine::HookStage;
use crate::plan::parse_duration;
use crate::preflight::InputError;
use crate::strategy::hooks::Hooks;
use clap::Args;

#[derive(Debug, Args, Default, Clone)]
pub struct CommandArgs {
    /// Run COMMAND with `sh -c` at STAGE: pre-traffic, post-step,
    /// pre-promote, post-promote or post-revert (docs/hooks.md). Repeat it;
    /// in ALB_ROLLOUT_HOOK, one per line. A failure before the promotion
    /// reverts.
    #[arg(
        help_heading = crate::cli::heading::STEPS,
        long = "hook",
        value_name = "STAGE=COMMAND",
        env = "ALB_ROLLOUT_HOOK",
        value_delimiter = '\n'
    )]
    pub hooks: Vec<String>,
    /// How long a hook may run before it counts as failed.
    #[arg(help_heading = crate::cli::heading::STEPS, long, default_value = "10m", env = "ALB_ROLLOUT_HOOK_TIMEOUT")]
    pub hook_timeout: String,
    /// Run COMMAND with `sh -c` every interval as a check: exit 0 passes,
    /// 1 fails, anything else (or running past the interval) is no data.
    /// Repeat it; in ALB_ROLLOUT_CHECK, one per line.
    #[arg(
        long = "check",
        value_name = "COMMAND",
        env = "ALB_ROLLOUT_CHECK",
        value_delimiter = '\n'
    )]
    pub checks: Vec<String>,
}

pub const DEFAULT_HOOK_TIMEOUT: &str = "10m";

/// The hooks, or every problem with them (each naming `--hook`).
pub fn parse_hooks(a: &CommandArgs, errors: &mut Vec<InputError>) -> Hooks {
    // Empty: the Action's input left blank.
    let raw = match a.hook_timeout.trim() {
        "" => DEFAULT_HOOK_TIMEOUT,
        t => t,
    };
    let timeout = match parse_duration("--hook-timeout", raw) {
        Ok(d) if d.is_zero() => {
            errors.push(InputError::new("--hook-timeout", "must be longer than 0s"));
            d
        }
        Ok(d) => d,
        Err(e) => {
            errors.push(InputError::for_flag("--hook-timeout", &e));
            Default::default()
        }
    };
    let list = (a.hooks.iter())
        .filter(|h| !h.trim().is_empty())
        .filter_map(|h| parse_one(h).map_err(|e| errors.push(e)).ok())
        .collect();
    Hooks { list, timeout }
}

fn parse_one(h: &str) -> Result<(HookStage, String), InputError> {
    let stages = HookStage::ALL.map(HookStage::name).join(", ");
    let Some((stage, command)) = h.split_once('=') else {
        return Err(InputError::new(
            "--hook",
            format!("{h:?} is not STAGE=COMMAND (stages: {stages})"),
        ));
    };
    let Some(stage) = HookStage::parse(stage.trim()) else {
        return Err(InputError::new(
            "--hook",
            format!("{:?} is not a stage: one of {stages}", stage.trim()),
        ));
    };
    match command.trim() {
        "" => Err(InputError::new(
            "--hook",
            format!("{stage}= has no command"),
        )),
        c => Ok((stage, c.to_string())),
    }
}

/// The `--check` commands, blank lines (an empty Action input) dropped.
pub fn parse_checks(a: &CommandArgs) -> Vec<String> {
    (a.checks.iter())
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(hooks: &[&str], timeout: &str) -> CommandArgs {
        CommandArgs {
            hooks: hooks.iter().map(|s| s.to_string()).collect(),
            hook_timeout: timeout.into(),
            checks: vec![],
        }
    }

    #[test]
    fn hooks_parse_in_order_with_commands_that_contain_equals() {
        let mut errors = vec![];
        let h = parse_hooks(
            &args(
                &["pre-traffic=./smoke.sh", "post-step=X=1 ./load.sh", ""],
                "2m",
            ),
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            h.list,
            vec![
                (HookStage::PreTraffic, "./smoke.sh".to_string()),
                (HookStage::PostStep, "X=1 ./load.sh".to_string()),
            ]
        );
        assert_eq!(h.timeout.as_secs(), 120);
    }

    #[test]
    fn bad_hooks_name_the_flag_and_the_stages() {
        let mut errors = vec![];
        parse_hooks(
            &args(&["pre-trafic=./x", "./no-stage", "post-step= "], "0s"),
            &mut errors,
        );
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 4, "{text:?}");
        assert!(
            text.iter().any(|t| t.contains("--hook-timeout")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("\"pre-trafic\" is not a stage")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("not STAGE=COMMAND")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("post-step= has no command")),
            "{text:?}"
        );
    }
}
