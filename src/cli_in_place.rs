//! Command-line types of `rolling --in-place` and `rollback --undo`, kept
//! beside `cli` (flattened into its `RollingArgs` and `RollbackArgs`) so
//! that file stays small. Like every flag, each is also readable from its
//! `ALB_ROLLOUT_<FLAG>` variable.

use clap::builder::BoolishValueParser;
use clap::Args;

/// `rolling --in-place`: the group's own targets get the new version.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = crate::cli::heading::DEPLOY)]
pub struct InPlaceArgs {
    /// Deploy to the group's own targets instead of swapping them: each
    /// batch is taken out, given --deploy and put back (see
    /// docs/rolling.md#in-place).
    #[arg(long, env = "ALB_ROLLOUT_IN_PLACE", value_parser = BoolishValueParser::new())]
    pub in_place: bool,
    /// With --in-place: the targets to deploy to, as the group lists them
    /// (a port may be left out) [default: every target of the group].
    #[arg(long, value_delimiter = ',', env = "ALB_ROLLOUT_IN_PLACE_TARGETS")]
    pub targets: Vec<String>,
    /// With --in-place: the command that installs the new version on a
    /// batch (out of the group), given as ALB_ROLLOUT_TARGETS (ID or
    /// ID:PORT, comma-separated); run with `sh -c`.
    #[arg(long, env = "ALB_ROLLOUT_DEPLOY")]
    pub deploy: Option<String>,
    #[command(flatten)]
    pub undo: UndoArgs,
}

/// `--undo`, on `rolling --in-place` and on `rollback`.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = crate::cli::heading::DEPLOY)]
pub struct UndoArgs {
    /// The command that installs the old version again on a batch (out of
    /// the group, in ALB_ROLLOUT_TARGETS): on a failure every batch whose
    /// deploy started is undone, newest first.
    #[arg(long, env = "ALB_ROLLOUT_UNDO")]
    pub undo: Option<String>,
}
