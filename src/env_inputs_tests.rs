//! Unknown `ALB_ROLLOUT_*` variables, judged against clap's own definitions.

use super::*;
use crate::cli::Cli;
use clap::CommandFactory;

fn check(path: &[&str], vars: &[(&str, &str)]) -> Vec<String> {
    let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    unknown(&Cli::command(), &path, &vars)
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn a_flag_of_another_command_is_refused_naming_input_and_takers() {
    let e = check(&["canary"], &[("ALB_ROLLOUT_BAKE", "15m")]);
    assert_eq!(e.len(), 1, "{e:?}");
    for part in [
        "ALB_ROLLOUT_BAKE",
        "action input `bake`",
        "`canary` does not read it",
        "taken by: blue-green",
    ] {
        assert!(e[0].contains(part), "{part}: {e:?}");
    }
    let e = check(&["rollback"], &[("ALB_ROLLOUT_KEEP_BLUE", "1m")]);
    assert!(e[0].contains("action input `keep-blue`"), "{e:?}");
}

#[test]
fn the_commands_own_global_and_nested_flags_are_known() {
    let vars = [
        ("ALB_ROLLOUT_LISTENER", "l"),
        ("ALB_ROLLOUT_WAIT", "2m"),
        ("ALB_ROLLOUT_REGION", "us-east-1"),
        ("ALB_ROLLOUT_OUTPUT", "json"),
    ];
    assert_eq!(check(&["rollback"], &vars), Vec::<String>::new());
    let canary = [
        ("ALB_ROLLOUT_DEREGISTER_BLUE", "2"),
        ("ALB_ROLLOUT_PROBE", "http://x/"),
    ];
    assert_eq!(
        check(&["canary"], &canary),
        Vec::<String>::new(),
        "flattened args"
    );
    let e = check(&["routes", "list"], &[("ALB_ROLLOUT_STEPS", "100")]);
    assert!(e[0].contains("`routes list` does not read it"), "{e:?}");
}

#[test]
fn empty_and_non_flag_variables_are_ignored() {
    let vars = [
        ("ALB_ROLLOUT_BAKE", ""),
        ("ALB_ROLLOUT_MATCH", "  "),
        ("ALB_ROLLOUT_LOG", "debug"),
        ("ALB_ROLLOUT_OIDC_CLIENT_SECRET", "s"),
        ("ALB_ROLLOUT_ACTION_COMMAND", "canary"),
        ("ALB_ROLLOUT_RUN_ID", "r-1"),
        ("ALB_ROLLOUT_TARGETS", "10.0.0.1"),
        ("ALB_ROLLOUT_LIVE_LISTENER", "arn"),
        ("AWS_REGION", "us-east-1"),
    ];
    assert_eq!(check(&["status"], &vars), Vec::<String>::new());
}

#[test]
fn green_and_blue_are_a_hooks_context_only_inside_a_hook() {
    let outside = check(&["rollback"], &[("ALB_ROLLOUT_GREEN", "g")]);
    assert!(
        outside[0].contains("taken by: canary, blue-green"),
        "{outside:?}"
    );
    let inside = [
        ("ALB_ROLLOUT_HOOK", "pre-step"),
        ("ALB_ROLLOUT_GREEN", "g"),
        ("ALB_ROLLOUT_BLUE", "b"),
    ];
    assert_eq!(check(&["rollback"], &inside), Vec::<String>::new());
}

#[test]
fn a_variable_no_command_takes_says_so() {
    let e = check(&["canary"], &[("ALB_ROLLOUT_BOGUS", "1")]);
    assert!(e[0].contains("no command takes it"), "{e:?}");
}
