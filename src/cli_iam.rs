//! Command-line type of `iam-policy` (beside `cli`, which re-exports it).
//! Unlike every other command's, its flags have no `ALB_ROLLOUT_*`
//! variable: it is run by hand (or by a script) when a role's policy is
//! written, never by the action, and a deploy step's variables must not
//! change the policy it prints.

use crate::iam::Strategy;
use clap::Args;

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// The command the role runs (each deploy command's policy also covers
    /// `rollback` of its runs).
    #[arg(long, value_enum)]
    pub strategy: Strategy,
    /// Listener ARN the runs use (repeat for more); its rules and the rules
    /// a run creates on it are derived. Placeholders such as REGION or
    /// ACCOUNT are kept as written. Default: any listener.
    #[arg(long = "listener", value_delimiter = ',')]
    pub listeners: Vec<String>,
    /// A rule the runs shift (`--rule` of canary, blue-green, rollback)
    /// instead of the listener's default action (repeat for more).
    #[arg(long = "rule", value_delimiter = ',')]
    pub rules: Vec<String>,
    /// Target group (ARN or name) the runs register in, deregister from or
    /// record on (repeat for more; with `--register` or `--deregister-blue`
    /// list both blue and green). Default: any target group.
    #[arg(
        long = "target-group",
        env = "ALB_ROLLOUT_TARGET_GROUP",
        value_delimiter = ','
    )]
    pub target_groups: Vec<String>,
    /// Where the access logs are, s3://BUCKET/PREFIX (`shadow`, and
    /// `canary` with `--shadow-first`). Default: any bucket's AWSLogs/.
    #[arg(long)]
    pub access_logs: Option<String>,
    /// The canary runs with `--shadow-first` (its replay reads the access logs).
    #[arg(long)]
    pub shadow_first: bool,
}
