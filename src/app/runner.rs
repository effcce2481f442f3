//! Running any plan: the metric sources a run's analysis reads, its ID,
//! the credentials' lifetime against the plan, and `drive`, which runs
//! the executor and reports the result (stdout, and inside GitHub Actions
//! the annotation, outputs and summary). Shared by every deploy command.

use super::{expiry, print_json};
use crate::alb::LoadBalancerPort;
use crate::analysis::collect::{Sources, Subjects};
use crate::analysis::BakeTracker;
use crate::cli::Output;
use crate::engine::Scope;
use crate::engine::{Action, Plan};
use crate::executor::{apply::ApplyPolicy, Executor, RunConfig};
use crate::preflight::InputError;
use crate::provider::cloudwatch::CloudWatchTraffic;
use crate::provider::probe::{parse_probe_spec, HttpProbe, DEFAULT_PROBE_TIMEOUT};
use crate::provider::prometheus::PrometheusQuery;
use crate::provider::{Probe, ScalarSource, TrafficSource};
use crate::report::github::{GithubEnv, GithubReporter};
use crate::report::summary::Finished;
use crate::report::text::TextReporter;
use crate::report::RunReport;
use crate::settings::Analysis;
use crate::signal::Cancel;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the credentials must outlast: the plan's holds and waits.
#[derive(Clone, Copy)]
pub(super) struct Timing<'a> {
    pub analysis: &'a Analysis,
    pub health_timeout: Duration,
    pub revert_timeout: Duration,
}

/// The credentials' expiry, or why the run could outlive them.
pub(super) fn credentials_fit(
    sdk: Option<SystemTime>,
    plan: &Plan,
    t: Timing<'_>,
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
            // The replay may last its --duration, like a hold.
            Action::Shadow(s) => Some(s.duration),
            _ => None,
        })
        .collect();
    let planned = expiry::planned(&bakes, t.analysis.cloudwatch, t.health_timeout)
        + expiry::deploys(&plan.actions, t.analysis.hooks.timeout);
    let margin = expiry::margin(t.revert_timeout);
    expiry::at_preflight(at, SystemTime::now(), planned, margin).map_err(|mut e| {
        // Name where the expiry came from: a wrong input is then clear.
        e.message = match sdk {
            Some(_) => format!("{} (expiry from the SDK's credentials provider)", e.message),
            None => format!("{} (expiry from {})", e.message, expiry::EXPIRY_ENV),
        };
        e
    })?;
    Ok(Some(at))
}

/// Re-resolve the credentials for the expiry guard: a provider that
/// refreshes (instance or task role) hands out a later expiry.
pub(super) fn refresher(
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

pub(super) fn sources(
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
        commands: check_commands(an),
        shadow: None,
    })
}

/// The DNS name of a group's load balancer for the commands' variables,
/// read only when there are commands (one more read-only call).
pub(super) async fn lb_dns(
    lb: &dyn LoadBalancerPort,
    arn: Option<&str>,
    an: &Analysis,
) -> Option<String> {
    if an.hooks.is_empty() && an.checks.is_empty() {
        return None;
    }
    lb.load_balancer(arn?).await.ok()?.dns_name
}

/// The `--check` commands: each must end within one interval.
fn check_commands(an: &Analysis) -> crate::command::Commands {
    let checks = (an.checks.iter().enumerate())
        .map(|(i, c)| {
            let label = match an.checks.len() {
                1 => "check".to_string(),
                _ => format!("check {}", i + 1),
            };
            crate::command::CommandSpec::new(&label, c, an.interval)
        })
        .collect();
    crate::command::Commands {
        checks,
        ..Default::default()
    }
}

pub(super) fn run_id(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("r-{:x}{:04x}", d.as_secs(), d.subsec_micros() & 0xffff)
}

/// A run's settings, the same for every command but its scope, what it
/// judges and how long its targets may take to drain.
pub(super) fn run_config(
    scope: Scope,
    t: Timing<'_>,
    drain_timeout: Duration,
    subjects: Subjects,
) -> RunConfig {
    let (now, an) = (SystemTime::now(), t.analysis);
    RunConfig {
        run_id: run_id(now),
        scope,
        interval: an.interval,
        health_timeout: t.health_timeout,
        drain_timeout,
        health_poll: Duration::from_secs(2),
        thresholds: an.thresholds.clone(),
        tracker: BakeTracker::new(an.failure_limit, an.on_no_data, an.no_data_timeout),
        revert_timeout: t.revert_timeout,
        subjects,
        started_unix: now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        apply: ApplyPolicy::default(),
        settle: crate::strategy::drain_blue::default_settle(),
        in_place: None,
    }
}

/// What ends a run from outside: SIGINT, SIGTERM and SIGHUP, and (when the
/// credentials expire) the expiry guard, which cancels early enough to
/// revert.
pub(super) fn watch(
    config: &aws_config::SdkConfig,
    expiry: Option<SystemTime>,
    revert_timeout: Duration,
) -> (Cancel, Option<tokio::task::JoinHandle<()>>) {
    let cancel = Cancel::new();
    cancel.on_signals();
    let guard = expiry.map(|at| {
        let margin = expiry::margin(revert_timeout);
        expiry::guard(cancel.clone(), at, margin, refresher(config))
    });
    (cancel, guard)
}

/// What a command adds to the report once the run is over (the A/B
/// report), before it is printed.
pub(super) type AfterRun = Box<
    dyn FnOnce(RunReport) -> std::pin::Pin<Box<dyn std::future::Future<Output = RunReport> + Send>>
        + Send,
>;

/// Run, then report: the result on stdout, and inside GitHub Actions the
/// annotation, outputs and summary.
pub(super) async fn drive(
    cfg: RunConfig,
    actions: Plan,
    src: Sources,
    cancel: Cancel,
    guard: Option<tokio::task::JoinHandle<()>>,
    output: Output,
) -> i32 {
    drive_then(cfg, actions, src, cancel, guard, output, None).await
}

/// `drive`, with `after` filling in the report before it is printed.
pub(super) async fn drive_then(
    cfg: RunConfig,
    actions: Plan,
    src: Sources,
    cancel: Cancel,
    guard: Option<tokio::task::JoinHandle<()>>,
    output: Output,
    after: Option<AfterRun>,
) -> i32 {
    // A group run has no route: its summary shows no weights.
    let original = cfg.scope.route().map(|_| actions.original.weights_text());
    // Progress goes to stdout, or to stderr when stdout is for the JSON.
    let (stream, tty): (fn() -> Box<dyn Write + Send>, bool) = match output {
        Output::Text => (
            || Box::new(std::io::stdout()),
            std::io::stdout().is_terminal(),
        ),
        Output::Json => (|| Box::new(std::io::stderr()), false),
    };
    let mut src = src;
    if src.commands.runner.is_none() {
        let groups = GithubEnv::from_env().is_some();
        let shell = crate::command::ShellRunner::with_output(stream(), groups);
        src.commands.runner = Some(Arc::new(shell));
    }
    let text = TextReporter::new(stream(), tty);
    let mut out = GithubReporter::new(text, stream(), GithubEnv::from_env());
    let mut report = Executor::new(cfg, actions, src, cancel, &mut out)
        .run()
        .await;
    if let Some(g) = guard {
        g.abort();
    }
    expiry::relabel(&mut report);
    if let Some(after) = after {
        report = after(report).await;
    }
    match output {
        Output::Json => print_json(&report),
        Output::Text => super::status::print_outcome(&report),
    }
    let final_weights = match report.result {
        "promoted" | "promoted-hook-failed" => out.promoted_weights().map(str::to_string),
        "revert-incomplete" => None,
        _ => original,
    };
    out.finish(&Finished {
        report: &report,
        final_weights,
    });
    report.exit_code
}
