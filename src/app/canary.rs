//! `alb-rollout canary`: parse, validate against live state, plan, then
//! either print the plan (`--dry-run`) or execute it.

use super::{dry_run, invalid, live, print_json};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::state_tags::parse_target;
use crate::alb::{LoadBalancerPort, Target};
use crate::analysis::collect::{Sources, Subjects};
use crate::analysis::BakeTracker;
use crate::cli::{CanaryArgs, Output};
use crate::executor::{apply::ApplyPolicy, Executor, RunConfig};
use crate::plan::{parse_duration, parse_steps, Step};
use crate::preflight::{self, InputError, Request, Validated};
use crate::provider::cloudwatch::CloudWatchTraffic;
use crate::provider::probe::{parse_probe_spec, HttpProbe, DEFAULT_PROBE_TIMEOUT};
use crate::provider::prometheus::PrometheusQuery;
use crate::provider::{MetricTarget, Probe, ScalarSource, TrafficSource};
use crate::report::text::TextReporter;
use crate::settings::{self, Analysis, FileSettings};
use crate::signal::Cancel;
use crate::strategy::canary::{plan, CanaryInput, CanaryPlan};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Input that needs no AWS call to check.
struct Parsed {
    steps: Vec<Step>,
    register: Vec<Target>,
    analysis: Analysis,
    stickiness: Option<Duration>,
    health_timeout: Duration,
    revert_timeout: Duration,
}

fn register_targets(a: &CanaryArgs) -> Vec<Target> {
    a.register
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
    let file = match &a.config {
        Some(p) => settings::read_file(p)
            .map_err(|e| errors.push(e))
            .unwrap_or_default(),
        None => FileSettings::default(),
    };
    let analysis = settings::resolve(&a.analysis, file)
        .map_err(|e| errors.extend(e))
        .ok();
    let mut dur = |flag: &str, v: &str| {
        parse_duration(flag, v)
            .map_err(|e| errors.push(InputError::for_flag(flag, &e)))
            .ok()
    };
    let stickiness = a.stickiness.as_deref().map(|s| dur("--stickiness", s));
    let health_timeout = dur("--health-timeout", &a.health_timeout);
    let revert_timeout = dur("--revert-timeout", &a.revert_timeout);
    if let Some(Some(s)) = stickiness {
        if !(1..=604_800).contains(&s.as_secs()) {
            errors.push(InputError::new(
                "--stickiness",
                "must be between 1s and 7 days (ELBv2's limits)",
            ));
        }
    }
    let register = register_targets(a);
    match (steps, analysis, health_timeout, revert_timeout) {
        (Some(steps), Some(analysis), Some(health_timeout), Some(revert_timeout))
            if errors.is_empty() =>
        {
            Ok(Parsed {
                steps,
                register,
                analysis,
                stickiness: stickiness.flatten(),
                health_timeout,
                revert_timeout,
            })
        }
        _ => Err(errors),
    }
}

pub async fn run(config: &aws_config::SdkConfig, a: &CanaryArgs, output: Output) -> i32 {
    let parsed = parse(a);
    let env_errors = crate::aws_env::check(config).await;
    if !env_errors.is_empty() {
        let mut all = parsed.err().unwrap_or_default();
        all.extend(env_errors);
        return invalid(&all, output);
    }
    let lb: Arc<dyn LoadBalancerPort> = Arc::new(AwsLoadBalancer::new(config));
    // Parsed on its own so preflight checks it even when other flags are bad.
    let register = register_targets(a);
    let req = Request {
        listener_arn: &a.listener,
        rule_arn: a.rule.as_deref(),
        blue: &a.blue,
        green: &a.green,
        register: &register,
        force: a.force,
    };
    let state = live::read(lb.as_ref(), &req).await;
    let validated = preflight::validate(&req, &state);
    let (parsed, validated) = match (parsed, validated) {
        (Ok(p), Ok(v)) => (p, v),
        (p, v) => {
            let mut all = p.err().unwrap_or_default();
            all.extend(v.err().unwrap_or_default());
            return invalid(&all, output);
        }
    };
    let plan = plan(&CanaryInput {
        original: &validated.original,
        blue: &validated.blue.arn,
        green: &validated.green.arn,
        steps: &parsed.steps,
        default_bake: parsed.analysis.interval,
        stickiness: parsed.stickiness,
        final_route: a.final_route,
    })
    .with_abort(a.abort);
    if a.dry_run {
        return dry_run::print(
            &validated,
            &plan,
            &parsed.register,
            &parsed.analysis,
            output,
        );
    }
    execute(config, lb, validated, plan, parsed, output).await
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
    plan: CanaryPlan,
    p: Parsed,
    output: Output,
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
        plan,
    };
    let cancel = Cancel::new();
    cancel.on_signals();
    let report = match output {
        Output::Text => {
            let color = std::io::stdout().is_terminal();
            let mut out = TextReporter::new(std::io::stdout(), color);
            Executor::new(cfg, src, cancel, &mut out).run().await
        }
        Output::Json => {
            let mut out = TextReporter::new(std::io::stderr(), false);
            Executor::new(cfg, src, cancel, &mut out).run().await
        }
    };
    match output {
        Output::Json => print_json(&report),
        Output::Text => super::status::print_outcome(&report),
    }
    report.exit_code
}
