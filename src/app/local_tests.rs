use super::*;
use crate::cli::Cli;
use clap::Parser;

const L: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/1/2";
const G_US: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/3";

fn flags_of(args: &[&str]) -> Vec<(&'static str, String)> {
    let cli = Cli::try_parse_from(std::iter::once("alb-rollout").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    arn_flags(&cli.command)
        .into_iter()
        .map(|(f, v, _)| (f, v.to_string()))
        .collect()
}

fn configured(region: &str, source: &str) -> ConfiguredRegion {
    ConfiguredRegion {
        region: region.into(),
        source: source.into(),
    }
}

#[test]
fn every_arn_flag_of_a_deploy_command_is_checked() {
    let canary = flags_of(&[
        "canary",
        "--listener",
        L,
        "--rule",
        "r",
        "--blue",
        "b",
        "--green",
        "g",
        "--steps",
        "100",
    ]);
    let names: Vec<&str> = canary.iter().map(|(f, _)| *f).collect();
    assert_eq!(names, ["--listener", "--rule", "--blue", "--green"]);
    let remove = flags_of(&["routes", "remove", "--listener", L, "--rule", "r"]);
    assert_eq!(remove.len(), 2);
    let ab = flags_of(&[
        "ab",
        "--listener",
        L,
        "--green",
        "g",
        "--match",
        "header:a=b",
        "--duration",
        "1m",
    ]);
    assert_eq!(
        ab.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
        ["--listener", "--green"]
    );
}

#[test]
fn a_malformed_listener_is_refused_naming_the_flag_and_value() {
    let cli = Cli::try_parse_from(["alb-rollout", "status", "--listener", "nope"]).unwrap();
    let errors = check_arns(&arn_flags(&cli.command)).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].culprit, "--listener");
    assert!(errors[0].message.contains("\"nope\""), "{}", errors[0]);
}

#[test]
fn every_bad_arn_is_reported_at_once_and_names_are_allowed_for_groups() {
    let cli = Cli::try_parse_from([
        "alb-rollout",
        "canary",
        "--listener",
        "nope",
        "--blue",
        "blue-v1",
        "--green",
        "arn:x",
        "--steps",
        "100",
    ])
    .unwrap();
    let errors = check_arns(&arn_flags(&cli.command)).unwrap_err();
    let culprits: Vec<&str> = errors.iter().map(|e| e.culprit.as_str()).collect();
    assert_eq!(culprits, ["--listener", "--green"]);
}

#[test]
fn the_region_comes_from_the_arn_when_none_is_configured() {
    let regions = vec![("--listener", "eu-west-1".to_string())];
    assert_eq!(
        pick_region(None, &regions).unwrap().as_deref(),
        Some("eu-west-1")
    );
    assert_eq!(pick_region(None, &[]).unwrap(), None);
    let c = configured("eu-west-1", "AWS_REGION");
    assert_eq!(
        pick_region(Some(&c), &regions).unwrap().as_deref(),
        Some("eu-west-1")
    );
    assert_eq!(
        pick_region(Some(&c), &[]).unwrap().as_deref(),
        Some("eu-west-1")
    );
}

#[test]
fn a_configured_region_that_differs_from_the_arns_is_refused_naming_both() {
    let regions = vec![("--listener", "eu-west-1".to_string())];
    let c = configured("us-east-1", "AWS_REGION");
    let errors = pick_region(Some(&c), &regions).unwrap_err();
    assert_eq!(errors.len(), 1);
    let e = errors[0].to_string();
    assert!(e.starts_with("--listener: its ARN is in eu-west-1"), "{e}");
    assert!(
        e.contains("us-east-1 (from AWS_REGION)") && e.contains("--region eu-west-1"),
        "{e}"
    );
}

#[test]
fn arns_of_two_regions_are_refused_naming_both_flags() {
    let cli = Cli::try_parse_from([
        "alb-rollout",
        "canary",
        "--listener",
        L,
        "--blue",
        "b",
        "--green",
        G_US,
        "--steps",
        "100",
    ])
    .unwrap();
    let regions = check_arns(&arn_flags(&cli.command)).unwrap();
    let errors = pick_region(None, &regions).unwrap_err();
    let e = errors[0].to_string();
    assert!(
        e.starts_with("--green: its ARN is in us-east-1 but --listener's is in eu-west-1"),
        "{e}"
    );
}
