//! `alb-rollout canary`: parse, validate against live state, plan, then
//! either print the plan (`--dry-run`) or execute it. Inside GitHub Actions
//! the progress is also grouped and summarised (`report::github`), and the
//! run is kept within its credentials' lifetime (`expiry`).
//!
//! `preflight` and `start` (dry run or execution of any `Planned`) are
//! shared with `blue_green`, which differs only in its flags and planner.

use super::runner::{credentials_fit, drive, run_config, sources, watch, Timing};
use super::{dry_run, full_deploy, invalid, live};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::{LoadBalancerPort, Target};
use crate::analysis::collect::Subjects;
use crate::cli::{CanaryArgs, Output};
use crate::engine::Plan;
use crate::plan::{parse_duration, parse_steps, Step};
use crate::preflight::{self, InputError, Request, Validated};
use crate::provider::MetricTarget;
use crate::settings::{self, Analysis};
use crate::strategy::canary::{plan, CanaryInput, CanaryPlan};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Input that needs no AWS call to check.
pub(super) struct Parsed {
    pub steps: Vec<Step>,
    pub register: Vec<Target>,
    pub analysis: Analysis,
    pub stickiness: Option<Duration>,
    pub health_timeout: Duration,
    pub revert_timeout: Duration,
    /// `--deregister-blue` and `--settle` (`full_deploy`).
    pub drain: Option<full_deploy::DrainFlags>,
    pub drain_timeout: Duration,
    /// `--settle`, for the drain and for the revert.
    pub settle: Duration,
    /// `--preview-header` and `--preview`.
    pub preview: Option<super::preview::PreviewFlags>,
    /// `--shadow-first` and the Shadow flags.
    pub shadow: Option<super::shadow_first::ShadowFirst>,
}

/// A strategy's plan: the canary-shaped one the dry run describes (steps,
/// promoted route), and the actions the executor runs.
pub(super) struct Planned {
    pub canary: CanaryPlan,
    pub actions: Plan,
    /// Each other load balancer's green and blue (routes on several).
    pub other_lbs: Vec<crate::analysis::collect::LbMetrics>,
    /// `--shadow-first`: the access logs and the replay.
    pub shadow: Option<crate::shadow::ShadowPorts>,
}

/// The `--register` targets that parse; `parse` reports the others.
pub(super) fn register_targets(register: &[String]) -> Vec<Target> {
    crate::target_arg::parse_all("--register", register, &mut Vec::new())
}

fn parse(a: &CanaryArgs) -> Result<Parsed, Vec<InputError>> {
    let mut errors = Vec::new();
    let steps = parse_steps(&a.steps)
        .map_err(|e| errors.extend(e.iter().map(|m| InputError::for_flag("--steps", m))))
        .ok();
    let analysis = settings::from_flags_and_file(a.run.config.as_deref(), &a.analysis, &mut errors);
    let mut dur = |flag: &str, v: &str| {
        parse_duration(flag, v)
            .map_err(|e| errors.push(InputError::for_flag(flag, &e)))
            .ok()
    };
    let stickiness = a.stickiness.as_deref().map(|s| dur("--stickiness", s));
    let health_timeout = dur("--health-timeout", &a.run.health_timeout);
    let revert_timeout = dur("--revert-timeout", &a.run.revert_timeout);
    if let Some(Some(s)) = stickiness {
        if !(1..=604_800).contains(&s.as_secs()) {
            errors.push(InputError::new(
                "--stickiness",
                "must be between 1s and 7 days (ELBv2's limits)",
            ));
        }
    }
    let register = crate::target_arg::parse_all("--register", &a.register, &mut errors);
    let preview = super::preview::parse(&a.run, &mut errors);
    let shadow = super::shadow_first::parse(a, &mut errors);
    let preview = super::shadow_first::preview_flags(preview, shadow.as_ref());
    let drain = full_deploy::parse(&a.drain)
        .map_err(|e| errors.extend(e))
        .ok();
    let timeouts = (health_timeout, revert_timeout);
    match (steps, analysis, timeouts, drain) {
        (
            Some(steps),
            Some(analysis),
            (Some(health_timeout), Some(revert_timeout)),
            Some(drain),
        ) if errors.is_empty() => Ok(Parsed {
            steps,
            register,
            analysis,
            stickiness: stickiness.flatten(),
            health_timeout,
            revert_timeout,
            drain: drain.flags,
            drain_timeout: drain.timeout,
            settle: drain.settle,
            preview,
            shadow,
        }),
        _ => Err(errors),
    }
}

/// What the shared flags add to a route strategy's plan, read live:
/// blue's batches (`--deregister-blue`) and the preview rule
/// (`--preview-header`).
pub(super) struct Extras {
    pub drain: Option<crate::strategy::drain_blue::BlueDrain>,
    pub preview: Option<crate::strategy::canary::Preview>,
}

pub(super) async fn extras(c: &Checked) -> Result<Extras, InputError> {
    let (lb, v, p) = (c.lb.as_ref(), &c.validated, &c.parsed);
    let interval = p.analysis.interval;
    let drain = full_deploy::plan(lb, v, &p.register, p.drain, interval).await?;
    let replayed = p.shadow.is_some();
    let preview = super::preview::plan(lb, v, p.preview.as_ref(), &p.analysis, replayed).await?;
    Ok(Extras { drain, preview })
}

/// What preflight hands a strategy: the port, the parsed flags, the live
/// state they were validated against, the credentials' expiry if known.
pub(super) struct Checked {
    pub lb: Arc<dyn LoadBalancerPort>,
    pub parsed: Parsed,
    pub validated: Validated,
    pub sdk_expiry: Option<SystemTime>,
}

/// The preflight every strategy shares: the flags (parsed by the caller),
/// the AWS environment, the live state; every problem at once, or exit 2
/// before any mutating call.
pub(super) async fn preflight(
    config: &aws_config::SdkConfig,
    req: &Request<'_>,
    parsed: Result<Parsed, Vec<InputError>>,
    output: Output,
) -> Result<Checked, i32> {
    let (env_errors, sdk_expiry) = crate::aws_env::check_with_expiry(config).await;
    if !env_errors.is_empty() {
        let mut all = parsed.err().unwrap_or_default();
        all.extend(env_errors);
        return Err(invalid(&all, output));
    }
    // The preview rule copies the route's login, OIDC secret included.
    let secret = crate::settings::oidc_client_secret();
    let lb: Arc<dyn LoadBalancerPort> =
        Arc::new(AwsLoadBalancer::new(config).with_oidc_client_secret(secret));
    let state = live::read(lb.as_ref(), req).await;
    match (parsed, preflight::validate(req, &state)) {
        (Ok(parsed), Ok(validated)) => Ok(Checked {
            lb,
            parsed,
            validated,
            sdk_expiry,
        }),
        (p, v) => {
            let mut all = p.err().unwrap_or_default();
            all.extend(v.err().unwrap_or_default());
            Err(invalid(&all, output))
        }
    }
}

pub async fn run(config: &aws_config::SdkConfig, a: &CanaryArgs, output: Output) -> i32 {
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
    let checked = match preflight(config, &req, parse(a), output).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let others = match super::multi_lb::others(&checked, &routes[1..], &a.green, a.run.force).await
    {
        Ok(o) => o,
        Err(e) => return invalid(&e, output),
    };
    let mut extras = match extras(&checked).await {
        Ok(x) => x,
        Err(e) => return invalid(&[e], output),
    };
    let shadow = match (&checked.parsed.shadow, extras.preview.as_mut()) {
        (Some(sf), Some(preview)) => {
            match super::shadow_first::attach(config, &checked, preview, sf).await {
                Ok(ports) => Some(ports),
                Err(e) => return invalid(&e, output),
            }
        }
        _ => None,
    };
    let (v, p) = (&checked.validated, &checked.parsed);
    let plan = plan(&CanaryInput {
        original: &v.original,
        blue: &v.blue.arn,
        green: &v.green.arn,
        steps: &p.steps,
        default_bake: p.analysis.interval,
        stickiness: p.stickiness,
        final_route: a.run.final_route,
    })
    .with_abort(a.abort)
    .with_drain(extras.drain)
    .with_preview(extras.preview)
    .with_attach(v.green_in_use());
    let actions = others.spread(plan.actions(&p.register));
    let planned = Planned {
        canary: plan,
        actions,
        other_lbs: others.metrics(),
        shadow,
    };
    start(config, checked, planned, a.run.dry_run, output).await
}

/// Print the plan (`--dry-run`), or check the credentials last long
/// enough and run it.
pub(super) async fn start(
    config: &aws_config::SdkConfig,
    c: Checked,
    planned: Planned,
    dry: bool,
    output: Output,
) -> i32 {
    let mut planned = planned;
    let preview = (c.parsed.preview.as_ref()).and_then(|f| match &f.header {
        crate::strategy::rules::Match::Header { name, value } => Some(format!("{name}={value}")),
        _ => None,
    });
    planned.actions = crate::strategy::hooks::place(
        planned.actions,
        &c.parsed.analysis.hooks,
        preview.as_deref(),
    );
    let timing = Timing {
        analysis: &c.parsed.analysis,
        health_timeout: c.parsed.health_timeout,
        revert_timeout: c.parsed.revert_timeout,
    };
    // A dry run refuses a plan that outlives the session, as the run would.
    let expiry = match credentials_fit(c.sdk_expiry, &planned.actions, timing) {
        Ok(e) => e,
        Err(e) => return invalid(&[e], output),
    };
    if dry {
        let code = dry_run::print(
            &c.validated,
            &planned.canary,
            &planned.actions,
            &c.parsed.analysis,
            output,
        );
        crate::report::github::result_only("dry-run", None);
        return code;
    }
    execute(config, c.lb, c.validated, planned, c.parsed, output, expiry).await
}

async fn execute(
    config: &aws_config::SdkConfig,
    lb: Arc<dyn LoadBalancerPort>,
    v: Validated,
    planned: Planned,
    p: Parsed,
    output: Output,
    expiry: Option<SystemTime>,
) -> i32 {
    let mut src = match sources(config, lb, &p.analysis) {
        Ok(s) => s,
        Err(e) => return invalid(&e, output),
    };
    src.commands.lb_dns = v.lb_dns.clone();
    src.shadow = planned.shadow.clone();
    if let Some(f) = &p.preview {
        src.probe = match super::preview::probe(&p.analysis, f) {
            Ok(probe) => probe,
            Err(e) => return invalid(&[e], output),
        };
    }
    let timing = Timing {
        analysis: &p.analysis,
        health_timeout: p.health_timeout,
        revert_timeout: p.revert_timeout,
    };
    let subjects = Subjects {
        green_arn: v.green.arn.clone(),
        green: MetricTarget::from_arns(&v.green.arn, &v.load_balancer_arn),
        blue: Some(MetricTarget::from_arns(&v.blue.arn, &v.load_balancer_arn)),
        other_lbs: planned.other_lbs.clone(),
    };
    let scope = crate::executor::Scope::Route(v.route.clone());
    let mut cfg = run_config(scope, timing, p.drain_timeout, subjects);
    cfg.settle = p.settle;
    if let Some(sf) = &p.shadow {
        // A generated shadow header carries the run's ID.
        cfg.run_id = sf.run_id.clone();
    }
    let (cancel, guard) = watch(config, expiry, p.revert_timeout);
    drive(cfg, planned.actions, src, cancel, guard, output).await
}
