//! `iam-policy`: print the least-privilege policy document for a command
//! (built by `iam`). Pure: no AWS configuration is loaded, no call is made.

use super::{invalid, EXIT_PROMOTED};
use crate::cli::{IamPolicyArgs, Output};
use crate::iam::{build, Request};
use std::io::Write;

pub fn run(a: &IamPolicyArgs, output: Output) -> i32 {
    let request = Request {
        strategy: a.strategy,
        listeners: a.listeners.clone(),
        rules: a.rules.clone(),
        target_groups: a.target_groups.clone(),
        access_logs: a.access_logs.clone(),
        shadow_first: a.shadow_first,
    };
    match build(&request) {
        Ok(policy) => match policy.to_pretty() {
            Ok(s) => {
                // A closed pipe (`| head`) is the reader's choice, not an error.
                let _ = writeln!(std::io::stdout().lock(), "{s}");
                EXIT_PROMOTED
            }
            Err(e) => super::failed(&format!("could not encode the policy: {e}"), 1, output),
        },
        Err(errors) => invalid(&errors, output),
    }
}
