//! `alb-rollout canary`: parse, validate against live state, plan, then
//! either print the plan (`--dry-run`) or execute it. Inside GitHub Actions
//! the progress is also grouped and summarised (`report::github`), and the
//! run is kept within its credentials' lifetime (`expiry`).
//!
//! `preflight` and `start` (dry run or execution of any `Planned`) are
//! shared with `blue_green`, which differs only in its flags and planner.

use super::{dry_run, expiry, full_deploy, invalid, live, print_json};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::state_tags::parse_target;
use crate::alb::{LoadBalancerPort, Target};
use crate::analysis::collect::{Sources, Subjects};
use crate::analysis::BakeTracker;
use crate::cli::{CanaryArgs, Output};
use crate::engine::{Action, Plan};
use crate::executor::{apply::ApplyPolicy, Executor, RunConfig};
use crate::plan::{parse_duration, parse_steps, Step};
use crate::preflight::{self, InputError, Request, Validated};
use crate::provider::cloudwatch::CloudWatchTraffic;
use crate::provider::probe::{parse_probe_spec, HttpProbe, DEFAULT_PROBE_TIMEOUT};
use crate::provider::prometheus::PrometheusQuery;
use crate::provider::{MetricTarget, Probe, ScalarSource, TrafficSource};
use crate::report::github::{GithubEnv, GithubReporter};
use crate::report::summary::Finished;
use crate::report::text::TextReporter;
use crate::settings::{self, Analysis};
use crate::signal::Cancel;
use crate::strategy::canary::{plan, CanaryInput, CanaryPlan};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
}

/// A strategy's plan: the canary-shaped one the executor is configured
/// with, and the actions it runs (`Executor::with_plan`).
pub(super) struct Planned {
    pub canary: CanaryPlan,
    pub actions: Plan,
}

pub(super) fn register_targets(register: &[String]) -> Vec<Target> {
    register
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(parse_target)
        .collect()
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
    let register = register_targets(&a.register);
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
        }),
        _ => Err(errors),
    }
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
    let lb: Arc<dyn LoadBalancerPort> = Arc::new(AwsLoadBalancer::new(config));
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
    let req = Request {
        listener_arn: &a.listener,
        rule_arn: a.rule.as_deref(),
        blue: &a.blue,
        green: &a.green,
        register: &register,
        force: a.run.force,
    };
    let Checked {
        lb,
        parsed,
        validated,
        sdk_expiry,
    } = match preflight(config, &req, parse(a), output).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let interval = parsed.analysis.interval;
    let drain =
        match full_deploy::plan(lb.as_ref(), &validated.blue.arn, parsed.drain, interval).await {
            Ok(d) => d,
            Err(e) => return invalid(&[e], output),
        };
    let plan = plan(&CanaryInput {
        original: &validated.original,
        blue: &validated.blue.arn,
        green: &validated.green.arn,
        steps: &parsed.steps,
        default_bake: parsed.analysis.interval,
        stickiness: parsed.stickiness,
        final_route: a.run.final_route,
    })
    .with_abort(a.abort)
    .with_drain(drain);
    let actions = plan.actions(&parsed.register);
    let planned = Planned {
        canary: plan,
        actions,
    };
    let checked = Checked {
        lb,
        parsed,
        validated,
        sdk_expiry,
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
    let expiry = match credentials_fit(c.sdk_expiry, &planned.actions, &c.parsed) {
        Ok(e) => e,
        Err(e) => return invalid(&[e], output),
    };
    execute(config, c.lb, c.validated, planned, c.parsed, output, expiry).await
}

/// The credentials' expiry, or why the run could outlive them.
fn credentials_fit(
    sdk: Option<SystemTime>,
    plan: &Plan,
    p: &Parsed,
) -> Result<Option<SystemTime>, InputError> {
    let env = std::env::var(expiry::EXPIRY_ENV).ok();
    let Some(at) = expiry::expiry(sdk, env.as_deref())? else {
        return Ok(None);
    };
    let bakes: Vec<Duration> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Bake(b) => Some(b.duration),
            _ => None,
        })
        .collect();
    let planned = expiry::planned(&bakes, p.analysis.cloudwatch, p.health_timeout);
    expiry::at_preflight(
        at,
        SystemTime::now(),
        planned,
        expiry::margin(p.revert_timeout),
    )?;
    Ok(Some(at))
}

/// Re-resolve the credentials for the expiry guard: a provider that
/// refreshes (instance or task role) hands out a later expiry.
fn refresher(
    config: &aws_config::SdkConfig,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<SystemTime>> + Send>>
       + Send
       + 'static {
    let provider = config.credentials_provider();
    move || {
        let p = provider.clone();
        Box::pin(async move {
            use aws_credential_types::provider::ProvideCredentials;
            p?.provide_credentials().await.ok()?.expiry()
        })
    }
}

fn sources(
    config: &aws_config::SdkConfig,
    lb: Arc<dyn LoadBalancerPort>,
    an: &Analysis,
) -> Result<Sources, Vec<InputError>> {
    let mut errors = Vec::new();
    let probe: Option<Arc<dyn Probe>> = match an.probe.as_deref().map(parse_probe_spec) {
        Some(Ok((url, _))) => HttpProbe::new(&url, DEFAULT_PROBE_TIMEOUT)
            .map(|p| Arc::new(p) as Arc<dyn Probe>)
            .map_err(|e| errors.push(InputError::new("--probe", e.message)))
            .ok(),
        _ => None,
    };
    let prometheus: Option<Arc<dyn ScalarSource>> = match &an.prometheus {
        Some((url, q)) => PrometheusQuery::new(url, q)
            .map(|p| Arc::new(p) as Arc<dyn ScalarSource>)
            .map_err(|e| errors.push(InputError::new("--prometheus-url", e.message)))
            .ok(),
        None => None,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Sources {
        lb,
        traffic: an
            .cloudwatch
            .then(|| Arc::new(CloudWatchTraffic::new(config)) as Arc<dyn TrafficSource>),
        probe,
        prometheus,
        judge_minutes: u32::try_from(an.metric_period.as_secs() / 60).unwrap_or(1),
    })
}

fn run_id(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("r-{:x}{:04x}", d.as_secs(), d.subsec_micros() & 0xffff)
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
    let src = match sources(config, lb, &p.analysis) {
        Ok(s) => s,
        Err(e) => return invalid(&e, output),
    };
    let now = SystemTime::now();
    let an = &p.analysis;
    let cfg = RunConfig {
        run_id: run_id(now),
        route: v.route.clone(),
        register: p.register.clone(),
        interval: an.interval,
        health_timeout: p.health_timeout,
        drain_timeout: p.drain_timeout,
        health_poll: Duration::from_secs(2),
        thresholds: an.thresholds.clone(),
        tracker: BakeTracker::new(an.failure_limit, an.on_no_data, an.no_data_timeout),
        revert_timeout: p.revert_timeout,
        subjects: Subjects {
            green_arn: v.green.arn.clone(),
            green: MetricTarget::from_arns(&v.green.arn, &v.load_balancer_arn),
            blue: MetricTarget::from_arns(&v.blue.arn, &v.load_balancer_arn),
        },
        started_unix: now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        apply: ApplyPolicy::default(),
        plan: planned.canary,
    };
    let cancel = Cancel::new();
    cancel.on_signals();
    let guard = expiry.map(|at| {
        let margin = expiry::margin(p.revert_timeout);
        expiry::guard(cancel.clone(), at, margin, refresher(config))
    });
    drive(cfg, planned.actions, src, cancel, guard, output).await
}

/// Run, then report: the result on stdout, and inside GitHub Actions the
/// annotation, outputs and summary.
async fn drive(
    cfg: RunConfig,
    actions: Plan,
    src: Sources,
    cancel: Cancel,
    guard: Option<tokio::task::JoinHandle<()>>,
    output: Output,
) -> i32 {
    let original = cfg.plan.original.weights_text();
    // Progress goes to stdout, or to stderr when stdout is for the JSON.
    let (stream, tty): (fn() -> Box<dyn Write + Send>, bool) = match output {
        Output::Text => (
            || Box::new(std::io::stdout()),
            std::io::stdout().is_terminal(),
        ),
        Output::Json => (|| Box::new(std::io::stderr()), false),
    };
    let text = TextReporter::new(stream(), tty);
    let mut out = GithubReporter::new(text, stream(), GithubEnv::from_env());
    let mut report = Executor::new(cfg, src, cancel, &mut out)
        .with_plan(actions)
        .run()
        .await;
    if let Some(g) = guard {
        g.abort();
    }
    expiry::relabel(&mut report);
    match output {
        Output::Json => print_json(&report),
        Output::Text => super::status::print_outcome(&report),
    }
    let final_weights = match report.result {
        "promoted" => out.promoted_weights().map(str::to_string),
        "revert-incomplete" => None,
        _ => Some(original),
    };
    out.finish(&Finished {
        report: &report,
        final_weights,
    });
    report.exit_code
}
