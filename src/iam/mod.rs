//! Least-privilege IAM policies, built purely: `uses` says which actions
//! each command's code paths call and on what kind of resource (the table
//! beside the adapter, `alb::iam_actions`, says how IAM authorizes each
//! action), `arn` derives the ARN patterns from the flags, `policy` groups
//! them into statements and evaluates a policy against one call (for the
//! tests that check the policies against the emulator's call log).
//! `app::iam_policy` prints it; no AWS call is made.

pub mod arn;
pub mod policy;
pub mod uses;

pub use policy::{build, Policy, Request, Statement};
pub use uses::Strategy;

#[cfg(test)]
mod tests;
