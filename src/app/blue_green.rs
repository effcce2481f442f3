//! `alb-rollout blue-green`: the canary's preflight, dry run and execution
//! (`canary::{preflight, start}`) with the blue-green planner: green
//! healthy, one switch to 100% green, an analysed bake and keep-blue
//! window, a one-write switch-back on failure; with `--deregister-blue`,
//! the full deploy's batches after the keep-blue window (`full_deploy`).

use super::canary::{extras, preflight, register_targets, start, Parsed, Planned};
use super::{full_deploy, invalid};
use crate::cli::{BlueGreenArgs, Output};
use crate::engine::AbortMode;
use crate::plan::{parse_duration, Step, Tenths};
use crate::preflight::{InputError, Request};
use crate::settings;
use crate::strategy::blue_green::{plan, BlueGreenInput};
use std::time::Duration;

/// The flags blue-green adds to the shared ones, parsed.
struct Holds {
    bake: Duration,
    keep_blue: Duration,
}

fn parse(a: &BlueGreenArgs) -> Result<(Parsed, Holds), Vec<InputError>> {
    let mut errors = Vec::new();
    if a.abort != AbortMode::Flip {
        errors.push(InputError::new(
            "--abort",
            "blue-green switches with one write and reverts with one write: only flip is accepted",
        ));
    }
    let analysis = settings::from_flags_and_file(a.run.config.as_deref(), &a.analysis, &mut errors);
    let mut dur = |flag: &str, v: &str| {
        parse_duration(flag, v)
            .map_err(|e| errors.push(InputError::for_flag(flag, &e)))
            .ok()
    };
    let bake = dur("--bake", &a.bake);
    let keep_blue = dur("--keep-blue", &a.keep_blue);
    let health_timeout = dur("--health-timeout", &a.run.health_timeout);
    let revert_timeout = dur("--revert-timeout", &a.run.revert_timeout);
    let drain = full_deploy::parse(&a.drain)
        .map_err(|e| errors.extend(e))
        .ok();
    let preview = super::preview::parse(&a.run, &mut errors);
    let register = crate::target_arg::parse_all("--register", &a.register, &mut errors);
    match (
        analysis,
        bake,
        keep_blue,
        (health_timeout, revert_timeout),
        drain,
    ) {
        (
            Some(analysis),
            Some(bake),
            Some(keep_blue),
            (Some(health_timeout), Some(revert_timeout)),
            Some(drain),
        ) if errors.is_empty() => {
            let parsed = Parsed {
                // The switch, as the one step the report and expiry count.
                steps: vec![Step {
                    percent: Tenths::FULL,
                    pause: Some(bake),
                }],
                register,
                analysis,
                stickiness: None,
                health_timeout,
                revert_timeout,
                drain: drain.flags,
                drain_timeout: drain.timeout,
                settle: drain.settle,
                preview,
                shadow: None,
            };
            Ok((parsed, Holds { bake, keep_blue }))
        }
        _ => Err(errors),
    }
}

pub async fn run(config: &aws_config::SdkConfig, a: &BlueGreenArgs, output: Output) -> i32 {
    // Parsed on its own so preflight checks it even when other flags are bad.
    let register = register_targets(&a.register);
    let routes = match super::multi_route::routes(&a.listener, &a.rule) {
        Ok(r) => r,
        Err(e) => return invalid(&e, output),
    };
    let req = Request {
        listener_arn: routes[0].listener_arn(),
        rule_arn: super::multi_route::rule_of(&routes[0]),
        blue: &a.blue,
        green: a.green.first().map_or("", String::as_str),
        register: &register,
        force: a.run.force,
    };
    let (parsed, holds) = match parse(a) {
        Ok((p, h)) => (Ok(p), Some(h)),
        Err(e) => (Err(e), None),
    };
    let checked = match preflight(config, &req, parsed, output).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let others = match super::multi_lb::others(&checked, &routes[1..], &a.green, a.run.force).await
    {
        Ok(o) => o,
        Err(e) => return invalid(&e, output),
    };
    let Some(holds) = holds else {
        // Preflight fails whenever the flags did, so this is not reached.
        return super::failed("the flags were not parsed", super::EXIT_INVALID, output);
    };
    let extras = match extras(&checked).await {
        Ok(x) => x,
        Err(e) => return invalid(&[e], output),
    };
    let v = &checked.validated;
    let bg = plan(&BlueGreenInput {
        original: &v.original,
        blue: &v.blue.arn,
        green: &v.green.arn,
        bake: holds.bake,
        keep_blue: holds.keep_blue,
        final_route: a.run.final_route,
    })
    .with_drain(extras.drain)
    .with_preview(extras.preview)
    .with_attach(v.green_in_use());
    let planned = Planned {
        shadow: None,
        actions: others.spread(bg.actions(&checked.parsed.register)),
        canary: bg.switch,
        other_lbs: others.metrics(),
    };
    start(config, checked, planned, a.run.dry_run, output).await
}
