//! How a revert moves traffic back (`--abort`): the convergence
//! (`converge`) decides everything else.

use serde::Serialize;

/// How a revert moves traffic back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AbortMode {
    /// One write of the route as it was before the run.
    #[default]
    Flip,
    /// Back through the run's own stages, newest first, one verified
    /// write each, paced (none of it after a cancel: one write then).
    Gradual,
}
