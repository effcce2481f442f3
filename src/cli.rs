//! Command-line interface: raw user input as clap types. Every flag is also
//! readable from an `ALB_ROLLOUT_<FLAG>` environment variable (how the GitHub
//! Action passes its inputs). Values that need validation stay strings here;
//! `plan` and `preflight` turn them into typed values and collect errors.

use crate::analysis::NoDataPolicy;
use crate::engine::AbortMode;
use crate::strategy::canary::FinalRoute;
use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub use crate::cli_iam::IamPolicyArgs;
pub use crate::cli_rules::{
    AbArgs, DarkArgs, RoutesArgs, RoutesCmd, RoutesListArgs, RoutesRemoveArgs, RuleArgs,
};

/// The headings `--help` groups a deploy command's flags under.
pub mod heading {
    pub const ROUTE: &str = "Route";
    pub const STEPS: &str = "Steps";
    pub const ANALYSIS: &str = "Analysis";
    pub const DEPLOY: &str = "Deploy";
    pub const SAFETY: &str = "Safety";
    pub const OUTPUT: &str = "Output";
}

#[derive(Debug, Parser)]
#[command(
    name = "alb-rollout",
    version,
    about = "Deploy a new version behind an AWS Application Load Balancer: canary, blue/green, rolling, A/B test or dark launch, judged by metrics and reverted automatically when it fails",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
    /// AWS region (default: the standard chain: AWS_REGION, profile, ...).
    #[arg(help_heading = heading::ROUTE, long, global = true, env = "ALB_ROLLOUT_REGION")]
    pub region: Option<String>,
    /// Output format: readable text, or one JSON document on stdout.
    #[arg(help_heading = heading::OUTPUT, long, global = true, value_enum, default_value_t = Output::Text, env = "ALB_ROLLOUT_OUTPUT")]
    pub output: Output,
    /// More log detail on stderr (-v info, -vv debug).
    #[arg(help_heading = heading::OUTPUT, short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Show a listener's routes, weights and target health.
    Status(StatusArgs),
    /// Shift traffic from blue to green step by step, judging each step.
    Canary(Box<CanaryArgs>),
    /// Bring green up beside blue, switch all traffic to it in one write,
    /// judge it, and switch back in one write if it fails.
    BlueGreen(Box<BlueGreenArgs>),
    /// Replace targets inside one target group in rounds (no second
    /// environment), judging each round; undo it all if one fails.
    Rolling(Box<RollingArgs>),
    /// Restore the route (or target group) recorded by a run that crashed
    /// or was killed.
    Rollback(RollbackArgs),
    /// A/B test: send the requests that match --match to green through a
    /// tagged rule (one per --listener/--rule, on one load balancer) for
    /// --duration, judge green, then report both variants side by side with
    /// a significance test.
    Ab(Box<AbArgs>),
    /// Dark launch: make green reachable only through a --match rule (one
    /// per --listener/--rule; no public traffic), probe it through the load
    /// balancer; --keep leaves the rules as edge toggles.
    Dark(Box<DarkArgs>),
    /// Shadow: replay the requests blue served (from the load balancer's
    /// access logs) to green through a dark rule no user matches, and
    /// compare the answers; exit 1 when green's differ too much.
    Shadow(Box<crate::cli_shadow::ShadowCmdArgs>),
    /// The rules alb-rollout created on a listener: list them, remove one.
    Routes(RoutesArgs),
    /// Print the least-privilege IAM policy (JSON) for a command, scoped to
    /// the given listener, rules and target groups; makes no AWS call.
    IamPolicy(IamPolicyArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Listener ARN.
    #[arg(
        help_heading = heading::ROUTE,
        long,
        env = "ALB_ROLLOUT_LISTENER",
        required_unless_present = "target_group",
        conflicts_with = "target_group"
    )]
    pub listener: Option<String>,
    /// One target group instead: its targets and any `rolling` run on it.
    #[arg(help_heading = heading::ROUTE, long, env = "ALB_ROLLOUT_TARGET_GROUP")]
    pub target_group: Option<String>,
    /// Show only this rule of the listener.
    #[arg(help_heading = heading::ROUTE, long, env = "ALB_ROLLOUT_RULE")]
    pub rule: Option<String>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The listener whose route (or --rule) a run recorded itself on.
    #[arg(
        help_heading = heading::ROUTE,
        long,
        env = "ALB_ROLLOUT_LISTENER",
        required_unless_present = "target_group",
        conflicts_with = "target_group"
    )]
    pub listener: Option<String>,
    /// The target group a `rolling` run recorded itself on: its exact
    /// original targets are restored.
    #[arg(help_heading = heading::ROUTE, long, env = "ALB_ROLLOUT_TARGET_GROUP")]
    pub target_group: Option<String>,
    /// The rule a run shifted (its --rule), when it was not the listener's
    /// default action.
    #[arg(help_heading = heading::ROUTE, long, env = "ALB_ROLLOUT_RULE")]
    pub rule: Option<String>,
    /// Print what would be restored; change nothing.
    #[arg(help_heading = heading::SAFETY, long, env = "ALB_ROLLOUT_DRY_RUN", value_parser = BoolishValueParser::new())]
    pub dry_run: bool,
    /// Roll back even if the recorded run still shows a fresh heartbeat.
    #[arg(help_heading = heading::SAFETY, long, env = "ALB_ROLLOUT_FORCE", value_parser = BoolishValueParser::new())]
    pub force: bool,
    /// After an in-place run: the command that puts the old version back
    /// on each batch whose deploy started.
    #[command(flatten)]
    pub undo: crate::cli_in_place::UndoArgs,
    /// If the recorded run's heartbeat is fresh, wait up to this long (2m)
    /// for it to go stale (or for the run to remove its own record), then
    /// restore; a recovery step started right after a lost runner needs it.
    #[arg(help_heading = heading::SAFETY, long, env = "ALB_ROLLOUT_WAIT")]
    pub wait: Option<String>,
}

/// What every deploy command shares: the route's final shape, its timeouts,
/// the settings file, dry run and force.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// After success, keep blue in the action at weight 0 (one-call
    /// switch-back) or forward to green only.
    #[arg(help_heading = heading::DEPLOY, long, value_enum, default_value_t = FinalRoute::KeepBlue, env = "ALB_ROLLOUT_FINAL_ROUTE")]
    pub final_route: FinalRoute,
    /// How long to wait for green's targets to be healthy.
    #[arg(help_heading = heading::DEPLOY, long, default_value = "5m", env = "ALB_ROLLOUT_HEALTH_TIMEOUT")]
    pub health_timeout: String,
    /// Bound on the revert after a cancel, from the signal (a CI runner allows ~10s).
    #[arg(help_heading = heading::SAFETY, long, default_value = "8s", env = "ALB_ROLLOUT_REVERT_TIMEOUT")]
    pub revert_timeout: String,
    /// Analysis settings file (TOML); flags and env vars override it.
    #[arg(help_heading = heading::ANALYSIS, long, env = "ALB_ROLLOUT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Validate against live state and print the plan; change nothing.
    #[arg(help_heading = heading::SAFETY, long, env = "ALB_ROLLOUT_DRY_RUN", value_parser = BoolishValueParser::new())]
    pub dry_run: bool,
    /// Start even if the route records another run in progress.
    #[arg(help_heading = heading::SAFETY, long, env = "ALB_ROLLOUT_FORCE", value_parser = BoolishValueParser::new())]
    pub force: bool,
    /// Before any public traffic, send only requests with this header
    /// (NAME=VALUE) to green, through a tagged rule, judged by --probe sent
    /// with the header; see docs/dark-launch.md.
    #[arg(help_heading = heading::STEPS, long, env = "ALB_ROLLOUT_PREVIEW_HEADER")]
    pub preview_header: Option<String>,
    /// With --preview-header: how long the preview lasts [default: one
    /// --interval].
    #[arg(help_heading = heading::STEPS, long, env = "ALB_ROLLOUT_PREVIEW")]
    pub preview: Option<String>,
}

#[derive(Debug, Args)]
pub struct CanaryArgs {
    /// Listener ARN whose default action (or --rule) is shifted. Give it
    /// more than once (or comma-separated) to move several routes as one:
    /// every route must forward to the same blue.
    #[arg(
        help_heading = heading::ROUTE,
        long,
        required = true,
        value_delimiter = ',',
        env = "ALB_ROLLOUT_LISTENER"
    )]
    pub listener: Vec<String>,
    /// Shift this rule's forward action instead of the default action
    /// of the listener it is on (repeatable; each rule's listener must be
    /// a --listener too).
    #[arg(help_heading = heading::ROUTE, long, value_delimiter = ',', env = "ALB_ROLLOUT_RULE")]
    pub rule: Vec<String>,
    /// Target group (ARN or name) the route forwards to now.
    #[arg(help_heading = heading::ROUTE, long, env = "ALB_ROLLOUT_BLUE")]
    pub blue: String,
    /// Target group (ARN or name) with the new version; with routes on
    /// several load balancers one per load balancer (repeatable or
    /// comma-separated), in the order the routes' load balancers first appear.
    #[arg(help_heading = heading::ROUTE, long, required = true, value_delimiter = ',', env = "ALB_ROLLOUT_GREEN")]
    pub green: Vec<String>,
    /// Percent to green per step, with an optional hold: 5:2m,25:5m,50:5m,100.
    #[arg(help_heading = heading::STEPS, long, env = "ALB_ROLLOUT_STEPS")]
    pub steps: String,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Targets to register in green first (instance IDs or IP[:port]).
    #[arg(help_heading = heading::DEPLOY, long, value_delimiter = ',', env = "ALB_ROLLOUT_REGISTER")]
    pub register: Vec<String>,
    /// Enable group stickiness for this long while both groups take traffic.
    #[arg(help_heading = heading::STEPS, long, env = "ALB_ROLLOUT_STICKINESS")]
    pub stickiness: Option<String>,
    #[command(flatten)]
    pub drain: DrainArgs,
    /// How a revert moves traffic back: flip (one write of the original
    /// route) or gradual (back through the applied weights, a verified write
    /// each, 5s apart; after a cancel without pauses, and one flip when the
    /// rest would not fit --revert-timeout).
    #[arg(help_heading = heading::SAFETY, long, value_enum, default_value_t = AbortMode::Flip, env = "ALB_ROLLOUT_ABORT")]
    pub abort: AbortMode,
    #[command(flatten)]
    pub run: RunArgs,
    /// Before any weight moves, replay blue's logged requests to green
    /// through the preview rule and judge them (the Shadow flags); a
    /// failure reverts the deploy.
    #[arg(help_heading = crate::cli_shadow::HEADING, long, env = "ALB_ROLLOUT_SHADOW_FIRST", value_parser = BoolishValueParser::new())]
    pub shadow_first: bool,
    #[command(flatten)]
    pub shadow: crate::cli_shadow::ShadowArgs,
}

#[derive(Debug, Args)]
pub struct BlueGreenArgs {
    /// Listener ARN whose default action (or --rule) is switched. Give it
    /// more than once (or comma-separated) to move several routes as one:
    /// every route must forward to the same blue.
    #[arg(
        help_heading = heading::ROUTE,
        long,
        required = true,
        value_delimiter = ',',
        env = "ALB_ROLLOUT_LISTENER"
    )]
    pub listener: Vec<String>,
    /// Switch this rule's forward action instead of the default action
    /// of the listener it is on (repeatable; each rule's listener must be
    /// a --listener too).
    #[arg(help_heading = heading::ROUTE, long, value_delimiter = ',', env = "ALB_ROLLOUT_RULE")]
    pub rule: Vec<String>,
    /// Target group (ARN or name) the route forwards to now.
    #[arg(help_heading = heading::ROUTE, long, env = "ALB_ROLLOUT_BLUE")]
    pub blue: String,
    /// Target group (ARN or name) with the new version; with routes on
    /// several load balancers one per load balancer (repeatable or
    /// comma-separated), in the order the routes' load balancers first appear.
    #[arg(help_heading = heading::ROUTE, long, required = true, value_delimiter = ',', env = "ALB_ROLLOUT_GREEN")]
    pub green: Vec<String>,
    /// How long to judge green at 100% after the switch (with CloudWatch:
    /// judged minutes, which arrive 1-3 minutes late).
    #[arg(help_heading = heading::STEPS, long, default_value = "5m", env = "ALB_ROLLOUT_BAKE")]
    pub bake: String,
    /// After the bake, keep judging this much longer with blue one write
    /// away (weight 0 in the forward); a failure still switches back.
    #[arg(help_heading = heading::STEPS, long, default_value = "0s", env = "ALB_ROLLOUT_KEEP_BLUE")]
    pub keep_blue: String,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Targets to register in green first (instance IDs or IP[:port]).
    #[arg(help_heading = heading::DEPLOY, long, value_delimiter = ',', env = "ALB_ROLLOUT_REGISTER")]
    pub register: Vec<String>,
    #[command(flatten)]
    pub drain: DrainArgs,
    /// How a revert moves traffic back: only flip (one write of the
    /// original route); gradual is refused, the switch was one write.
    #[arg(help_heading = heading::SAFETY, long, value_enum, default_value_t = AbortMode::Flip, env = "ALB_ROLLOUT_ABORT")]
    pub abort: AbortMode,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Deregistering blue's targets after the promotion (the full deploy):
/// shared by `canary` and `blue-green`.
#[derive(Debug, Args, Default, Clone)]
pub struct DrainArgs {
    /// After the promotion (blue-green: after --keep-blue), deregister
    /// blue's targets in batches of this many (2) or this share of them
    /// (25%), each drained and green analysed before the next. See
    /// docs/full-deploy.md.
    #[arg(help_heading = heading::DEPLOY, long, env = "ALB_ROLLOUT_DEREGISTER_BLUE")]
    pub deregister_blue: Option<String>,
    /// With --deregister-blue: hold (with analysis) this long after the
    /// promotion before the first batch, so every ALB node has the new route.
    /// A revert waits as long after moving traffic back before it removes
    /// the targets that may still get requests.
    #[arg(help_heading = heading::DEPLOY, long, default_value = crate::strategy::drain_blue::DEFAULT_SETTLE, env = "ALB_ROLLOUT_SETTLE")]
    pub settle: String,
    /// With --deregister-blue: how long a batch may take to drain (more
    /// than blue's deregistration delay).
    #[arg(help_heading = heading::DEPLOY, long, default_value = "10m", env = "ALB_ROLLOUT_DRAIN_TIMEOUT")]
    pub drain_timeout: String,
}

#[derive(Debug, Args)]
pub struct RollingArgs {
    /// Target group (ARN or name) whose targets are replaced.
    #[arg(help_heading = heading::ROUTE, long, env = "ALB_ROLLOUT_TARGET_GROUP")]
    pub target_group: String,
    /// New targets (instance IDs or IP[:port]), comma or whitespace separated.
    #[arg(help_heading = heading::DEPLOY, long, value_delimiter = ',', env = "ALB_ROLLOUT_ADD")]
    pub add: Vec<String>,
    /// Targets to take out, as the group lists them (a port may be left out).
    #[arg(help_heading = heading::DEPLOY, long, value_delimiter = ',', env = "ALB_ROLLOUT_REMOVE")]
    pub remove: Vec<String>,
    /// Targets per round: a count (10) or a share of the larger of the two
    /// lists (25%).
    #[arg(help_heading = heading::STEPS, long, default_value = "25%", env = "ALB_ROLLOUT_BATCH")]
    pub batch: String,
    /// How many healthy targets the group may lack at any moment, below
    /// what it had; 0 registers each round's new targets before old ones
    /// leave. A full group (1,000 targets) needs at least a round's worth.
    #[arg(help_heading = heading::STEPS, long, default_value_t = 0, env = "ALB_ROLLOUT_MAX_UNAVAILABLE")]
    pub max_unavailable: usize,
    /// How long a round's new targets may take to be healthy.
    #[arg(help_heading = heading::DEPLOY, long, default_value = "5m", env = "ALB_ROLLOUT_HEALTH_TIMEOUT")]
    pub health_timeout: String,
    /// How long a round's old targets may take to drain (more than the
    /// group's deregistration delay).
    #[arg(help_heading = heading::DEPLOY, long, default_value = "10m", env = "ALB_ROLLOUT_DRAIN_TIMEOUT")]
    pub drain_timeout: String,
    /// Bound on the revert after a cancel, from the signal.
    #[arg(help_heading = heading::SAFETY, long, default_value = "8s", env = "ALB_ROLLOUT_REVERT_TIMEOUT")]
    pub revert_timeout: String,
    /// Analysis settings file (TOML); flags and env vars override it.
    #[arg(help_heading = heading::ANALYSIS, long, env = "ALB_ROLLOUT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Validate against live state and print the plan; change nothing.
    #[arg(help_heading = heading::SAFETY, long, env = "ALB_ROLLOUT_DRY_RUN", value_parser = BoolishValueParser::new())]
    pub dry_run: bool,
    /// Start even if the group records another run in progress.
    #[arg(help_heading = heading::SAFETY, long, env = "ALB_ROLLOUT_FORCE", value_parser = BoolishValueParser::new())]
    pub force: bool,
    #[command(flatten)]
    pub in_place: crate::cli_in_place::InPlaceArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// Analysis flags. All optional so a config file can fill them; defaults
/// are applied after merging (see `settings`).
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = heading::ANALYSIS)]
pub struct AnalysisArgs {
    #[command(flatten)]
    pub commands: crate::cli_hooks::CommandArgs,
    /// Time between analysis checks [default: 30s].
    #[arg(long, env = "ALB_ROLLOUT_INTERVAL")]
    pub interval: Option<String>,
    /// Highest acceptable 5xx rate of green: 1% or a fraction below 1 like
    /// 0.01; a bare 1 and 100% are refused (they switch the check off)
    /// [default: 1%].
    #[arg(long, env = "ALB_ROLLOUT_MAX_ERROR_RATE")]
    pub max_error_rate: Option<String>,
    /// Judge green's error rate by its excess over blue's [default: false].
    #[arg(long, env = "ALB_ROLLOUT_COMPARE_BLUE", num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub compare_blue: Option<bool>,
    /// Fewer green (and, with --compare-blue, blue) requests than this in the
    /// window is "no data"; at least 1 [default: 20].
    #[arg(long, env = "ALB_ROLLOUT_MIN_REQUESTS")]
    pub min_requests: Option<u64>,
    /// What an interval without enough data means [default: fail].
    #[arg(long, value_enum, env = "ALB_ROLLOUT_ON_NO_DATA")]
    pub on_no_data: Option<NoDataPolicy>,
    /// With --on-no-data pause, and while waiting for CloudWatch's next
    /// minute: give up after this long without data [default: 10m].
    #[arg(long, env = "ALB_ROLLOUT_NO_DATA_TIMEOUT")]
    pub no_data_timeout: Option<String>,
    /// Failed intervals before revert [default: 1].
    #[arg(long, env = "ALB_ROLLOUT_FAILURE_LIMIT")]
    pub failure_limit: Option<u32>,
    /// CloudWatch minutes each check judges, as a duration in whole minutes:
    /// the newest ingested ones since the step's shift [default: 60s].
    #[arg(long, env = "ALB_ROLLOUT_METRIC_PERIOD")]
    pub metric_period: Option<String>,
    /// Judge green by the ALB's CloudWatch metrics (error rate, latency);
    /// `false` leaves --probe/Prometheus and health, which are faster
    /// signals than CloudWatch's minutes-late data [default: true].
    #[arg(long, env = "ALB_ROLLOUT_CLOUDWATCH", num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub cloudwatch: Option<bool>,
    /// Highest acceptable average TargetResponseTime of green, e.g. 500ms.
    #[arg(long, env = "ALB_ROLLOUT_MAX_LATENCY")]
    pub max_latency: Option<String>,
    /// Do not fail a check for unhealthy green targets (a green with no
    /// healthy target still fails).
    #[arg(long, env = "ALB_ROLLOUT_TOLERATE_UNHEALTHY", num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub tolerate_unhealthy: Option<bool>,
    /// HTTP probe each interval: URL[=STATUS], STATUS like 200, 2xx, 200-299.
    /// Userinfo and query values of the URL are masked in all output.
    #[arg(long, env = "ALB_ROLLOUT_PROBE")]
    pub probe: Option<String>,
    /// Prometheus base URL, e.g. http://prometheus:9090: its /api/v1/query
    /// is asked --prometheus-query each interval.
    #[arg(long, env = "ALB_ROLLOUT_PROMETHEUS_URL")]
    pub prometheus_url: Option<String>,
    /// PromQL instant query that reduces to one number (e.g. a ratio of
    /// sums); a value above --prometheus-max fails the interval.
    #[arg(long, env = "ALB_ROLLOUT_PROMETHEUS_QUERY")]
    pub prometheus_query: Option<String>,
    /// Fail when the Prometheus query's value is above this.
    #[arg(long, env = "ALB_ROLLOUT_PROMETHEUS_MAX")]
    pub prometheus_max: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn canary(args: &[&str]) -> CanaryArgs {
        let base = [
            "alb-rollout",
            "canary",
            "--listener",
            "l",
            "--blue",
            "b",
            "--green",
            "g",
            "--steps",
            "100",
        ];
        let cli = Cli::try_parse_from(base.iter().chain(args)).unwrap();
        match cli.command {
            Cmd::Canary(c) => *c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn booleans_can_be_set_either_way() {
        assert_eq!(canary(&[]).analysis.compare_blue, None);
        assert_eq!(
            canary(&["--compare-blue"]).analysis.compare_blue,
            Some(true)
        );
        assert_eq!(
            canary(&["--compare-blue=false"]).analysis.compare_blue,
            Some(false)
        );
        assert_eq!(
            canary(&["--tolerate-unhealthy", "--dry-run"])
                .analysis
                .tolerate_unhealthy,
            Some(true)
        );
    }

    #[test]
    fn register_takes_a_comma_list() {
        let cli = Cli::try_parse_from([
            "alb-rollout",
            "canary",
            "--listener",
            "l",
            "--blue",
            "b",
            "--green",
            "g",
            "--steps",
            "100",
            "--register",
            "10.0.0.1:80,10.0.0.2",
        ])
        .unwrap();
        let Cmd::Canary(c) = cli.command else {
            panic!("not canary")
        };
        assert_eq!(c.register, vec!["10.0.0.1:80", "10.0.0.2"]);
    }
}

#[cfg(test)]
#[path = "cli_help_tests.rs"]
mod help_tests;
