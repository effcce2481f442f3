//! Command-line types of the rule commands (`ab`, `dark`, `routes`), kept
//! beside `cli` (which re-exports them) so each file stays small. Like every
//! flag, each is also readable from its `ALB_ROLLOUT_<FLAG>` variable.

use crate::cli::AnalysisArgs;
use clap::builder::BoolishValueParser;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// What `ab` and `dark` share: the listener, green, the rule, the run.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Listener ARN: the rule goes on it; its default action is blue.
    /// Give it more than once (or comma-separated) for a rule on each
    /// listener of one load balancer: every route must forward to the same
    /// blue.
    #[arg(help_heading = crate::cli::heading::ROUTE, long, required = true, value_delimiter = ',', env = "ALB_ROLLOUT_LISTENER")]
    pub listener: Vec<String>,
    /// Split this rule's traffic instead of the listener's default action:
    /// the new rule goes just before it, with its conditions and the
    /// --match ones (repeatable; each rule's listener must be a --listener
    /// too).
    #[arg(help_heading = crate::cli::heading::ROUTE, long, value_delimiter = ',', env = "ALB_ROLLOUT_RULE")]
    pub rule: Vec<String>,
    /// Target group (ARN or name) the matching requests go to.
    #[arg(help_heading = crate::cli::heading::ROUTE, long, env = "ALB_ROLLOUT_GREEN")]
    pub green: String,
    /// Which requests go to green: header:NAME=VALUE, cookie:NAME=VALUE,
    /// query:KEY=VALUE, source-ip:CIDR or path:/PATTERN. Repeat it: all
    /// must hold (AND). In ALB_ROLLOUT_MATCH, one per line.
    #[arg(help_heading = crate::cli::heading::ROUTE, long = "match", env = "ALB_ROLLOUT_MATCH", value_delimiter = '\n')]
    pub matches: Vec<String>,
    /// The rule's priority (1-50000, lower is evaluated first); default:
    /// after every rule of the listener. One route only: with several,
    /// each rule is placed among its own listener's rules.
    #[arg(help_heading = crate::cli::heading::ROUTE, long, env = "ALB_ROLLOUT_PRIORITY")]
    pub priority: Option<u32>,
    /// After a successful run, leave the rule in place (an edge toggle;
    /// `alb-rollout routes remove` removes it later).
    #[arg(help_heading = crate::cli::heading::DEPLOY, long, env = "ALB_ROLLOUT_KEEP", value_parser = BoolishValueParser::new())]
    pub keep: bool,
    /// How long to wait for green's targets to be healthy.
    #[arg(help_heading = crate::cli::heading::DEPLOY, long, default_value = "5m", env = "ALB_ROLLOUT_HEALTH_TIMEOUT")]
    pub health_timeout: String,
    /// Bound on the revert after a cancel, from the signal.
    #[arg(help_heading = crate::cli::heading::SAFETY, long, default_value = "8s", env = "ALB_ROLLOUT_REVERT_TIMEOUT")]
    pub revert_timeout: String,
    /// Analysis settings file (TOML); flags and env vars override it.
    #[arg(help_heading = crate::cli::heading::ANALYSIS, long, env = "ALB_ROLLOUT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Validate against live state and print the plan; change nothing.
    #[arg(help_heading = crate::cli::heading::SAFETY, long, env = "ALB_ROLLOUT_DRY_RUN", value_parser = BoolishValueParser::new())]
    pub dry_run: bool,
    /// Start even if the listener records another run in progress.
    #[arg(help_heading = crate::cli::heading::SAFETY, long, env = "ALB_ROLLOUT_FORCE", value_parser = BoolishValueParser::new())]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct AbArgs {
    #[command(flatten)]
    pub rule: RuleArgs,
    /// The variant to compare with (default: what the listener's default
    /// action forwards to).
    #[arg(help_heading = crate::cli::heading::ROUTE, long, env = "ALB_ROLLOUT_BLUE")]
    pub blue: Option<String>,
    /// How long the test runs, judged every --interval (with CloudWatch,
    /// the final report also waits for the last minute to arrive).
    #[arg(help_heading = crate::cli::heading::STEPS, long, env = "ALB_ROLLOUT_DURATION")]
    pub duration: String,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct DarkArgs {
    #[command(flatten)]
    pub rule: RuleArgs,
    /// How long green is probed through the rule [default: one --interval].
    #[arg(help_heading = crate::cli::heading::STEPS, long, env = "ALB_ROLLOUT_DURATION")]
    pub duration: Option<String>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct RoutesArgs {
    #[command(subcommand)]
    pub command: RoutesCmd,
}

#[derive(Debug, Subcommand)]
pub enum RoutesCmd {
    /// The rules alb-rollout created on the listener (found by their tag).
    List(RoutesListArgs),
    /// Delete one rule alb-rollout created; any other rule is refused.
    Remove(RoutesRemoveArgs),
}

#[derive(Debug, Args)]
pub struct RoutesListArgs {
    /// Listener ARN whose rules are listed.
    #[arg(help_heading = crate::cli::heading::ROUTE, long, env = "ALB_ROLLOUT_LISTENER")]
    pub listener: String,
}

#[derive(Debug, Args)]
pub struct RoutesRemoveArgs {
    /// Listener ARN the rule is on.
    #[arg(help_heading = crate::cli::heading::ROUTE, long, env = "ALB_ROLLOUT_LISTENER")]
    pub listener: String,
    /// The rule's ARN (`routes list` shows it).
    #[arg(help_heading = crate::cli::heading::ROUTE, long, env = "ALB_ROLLOUT_RULE")]
    pub rule: String,
    /// Say what would be removed; change nothing.
    #[arg(help_heading = crate::cli::heading::SAFETY, long, env = "ALB_ROLLOUT_DRY_RUN", value_parser = BoolishValueParser::new())]
    pub dry_run: bool,
}
