//! `--help` as users read it: every flag explained, a deploy command's flags
//! grouped under the same headings.

use super::*;
use clap::CommandFactory;

/// Every command and subcommand, with its path (`canary`, `routes remove`).
fn commands() -> Vec<(String, clap::Command)> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = Vec::new();
    let mut todo = vec![(String::new(), cmd)];
    while let Some((path, c)) = todo.pop() {
        for sub in c.get_subcommands() {
            let p = format!("{path} {}", sub.get_name()).trim().to_string();
            todo.push((p, sub.clone()));
        }
        out.push((path, c));
    }
    out
}

#[test]
fn every_flag_of_every_command_has_help_text() {
    let mut missing = Vec::new();
    for (path, c) in commands() {
        for a in c.get_arguments() {
            let id = a.get_id().as_str();
            let builtin = matches!(id, "help" | "version");
            if !builtin && a.get_help().is_none() && a.get_long_help().is_none() {
                missing.push(format!("{path} --{}", a.get_long().unwrap_or(id)));
            }
        }
    }
    assert!(missing.is_empty(), "flags without help: {missing:?}");
}

const DEPLOY_HEADINGS: [&str; 6] = ["Route", "Steps", "Analysis", "Deploy", "Safety", "Output"];

fn help_of(path: &str) -> String {
    let (_, mut c) = commands()
        .into_iter()
        .find(|(p, _)| p == path)
        .unwrap_or_else(|| panic!("no command {path}"));
    c.render_help().to_string()
}

/// Where the line listing `--flag` starts (not a mention in another's help).
fn flag_line(help: &str, flag: &str) -> Option<usize> {
    let mut at = 0;
    for line in help.split_inclusive('\n') {
        let rest = line.trim_start().trim_start_matches("-v, ");
        if let Some(after) = rest.strip_prefix(&format!("--{flag}")) {
            if after.starts_with([' ', '\n', '.']) {
                return Some(at);
            }
        }
        at += line.len();
    }
    None
}

#[test]
fn canary_help_groups_its_flags_under_the_deploy_headings_in_order() {
    let help = help_of("canary");
    let at: Vec<usize> = DEPLOY_HEADINGS
        .iter()
        .map(|h| {
            help.find(&format!("\n{h}:\n"))
                .unwrap_or_else(|| panic!("no {h}:\n{help}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "headings out of order: {at:?}\n{help}"
    );
    // A flag sits under its own heading: between it and the next one.
    let under = |flag: &str, h: usize| {
        let i = flag_line(&help, flag).unwrap_or_else(|| panic!("no --{flag}"));
        at[h] < i && at.get(h + 1).is_none_or(|&next| i < next)
    };
    for (flag, h) in [
        ("listener", 0),
        ("green", 0),
        ("steps", 1),
        ("interval", 2),
        ("max-error-rate", 2),
        ("config", 2),
        ("register", 3),
        ("deregister-blue", 3),
        ("abort", 4),
        ("dry-run", 4),
        ("revert-timeout", 4),
        ("output", 5),
    ] {
        assert!(
            under(flag, h),
            "--{flag} is not under {}:\n{help}",
            DEPLOY_HEADINGS[h]
        );
    }
}

#[test]
fn every_deploy_command_uses_the_same_headings() {
    for path in ["canary", "blue-green", "rolling", "ab", "dark"] {
        let help = help_of(path);
        for h in DEPLOY_HEADINGS {
            let has = help.contains(&format!("\n{h}:\n"));
            // Only canary and blue-green take steps' worth of flags of each kind;
            // every deploy command has the route, analysis, safety and output.
            let required =
                !matches!(h, "Steps" | "Deploy") || matches!(path, "canary" | "blue-green");
            assert!(has || !required, "{path} --help has no {h}:\n{help}");
        }
        let options = help.split("\nOptions:\n").nth(1).unwrap_or("");
        let ungrouped: Vec<&str> = options
            .lines()
            .take_while(|l| !l.is_empty())
            .filter(|l| !l.starts_with("  -h, --help") && !l.starts_with("  -V, --version"))
            .collect();
        assert!(
            ungrouped.is_empty(),
            "{path}: flags outside any heading: {ungrouped:?}"
        );
    }
}

#[test]
fn the_top_level_description_names_every_strategy_and_the_revert() {
    let about = Cli::command()
        .get_about()
        .map(|a| a.to_string())
        .unwrap_or_default();
    for word in [
        "canary",
        "blue/green",
        "rolling",
        "A/B",
        "dark launch",
        "reverted automatically",
    ] {
        assert!(about.contains(word), "{word} missing from: {about}");
    }
}
