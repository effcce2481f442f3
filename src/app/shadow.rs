//! `alb-rollout shadow`: blue's logged requests replayed to green through
//! a temporary dark rule (`dark`'s machinery) whose header only the replay
//! sends, judged against what blue answered. The rule plan and its
//! preflight are `rule_run`'s; here are what a replay adds: where the logs
//! are (`--access-logs`, else the load balancer's `access_logs.s3.*`
//! attributes), where requests go (`--to`, else the load balancer's DNS
//! name and the listener's port), and the replay's spec.

use super::invalid;
use super::rule_run::{self, RuleChecked};
use crate::cli::{Output, RuleArgs};
use crate::cli_shadow::{ShadowCmdArgs, ShadowFlags};
use crate::engine::ShadowSpec;
use crate::preflight::{InputError, Validated};
use crate::settings::Analysis;
use crate::shadow::keys::LogPlace;
use crate::shadow::replay::HttpReplayer;
use crate::shadow::s3::{S3Logs, S3};
use crate::shadow::ShadowPorts;
use crate::strategy::shadow::{plan, HEADER, SHADOW};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How long one replayed request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn rule_args(a: &ShadowCmdArgs, run_id: &str) -> RuleArgs {
    RuleArgs {
        listener: vec![a.listener.clone()],
        rule: vec![],
        green: a.green.clone(),
        matches: vec![format!("header:{HEADER}={run_id}")],
        priority: a.priority,
        keep: false,
        health_timeout: a.health_timeout.clone(),
        revert_timeout: a.revert_timeout.clone(),
        config: a.config.clone(),
        dry_run: a.dry_run,
        force: a.force,
    }
}

pub async fn run(config: &aws_config::SdkConfig, a: &ShadowCmdArgs, output: Output) -> i32 {
    let run_id = super::runner::run_id(SystemTime::now());
    // The replay judges green (no bake reads CloudWatch): the analysis
    // flags give --on-no-data, the heartbeat's --interval and the hooks.
    let analysis = a.analysis.clone();
    let rule = rule_args(a, &run_id);
    let mut errors = vec![];
    let flags = crate::cli_shadow::parse(&a.shadow, &mut errors);
    let parsed = match (rule_run::parse(&rule, &analysis, None), errors.is_empty()) {
        (Ok(p), true) => Ok(p),
        (r, _) => Err(errors
            .into_iter()
            .chain(r.err().unwrap_or_default())
            .collect()),
    };
    let mut c = match rule_run::preflight(config, &rule, None, parsed, output).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(flags) = flags else {
        return invalid(
            &[InputError::new(
                "--listener",
                "the shadow flags did not parse",
            )],
            output,
        );
    };
    let (spec, ports) = match setup(config, &c, &flags, &run_id).await {
        Ok(x) => x,
        Err(e) => return invalid(&e, output),
    };
    let actions = plan(&rule_run::input(&c, SHADOW, false), spec);
    c.run_id = Some(run_id);
    rule_run::start(
        config,
        c,
        actions,
        a.dry_run,
        rule_run::Extra {
            probe: None,
            shadow: Some(ports),
        },
        |_| None,
        output,
    )
    .await
}

/// The replay's spec and ports, from the flags and the live state.
async fn setup(
    config: &aws_config::SdkConfig,
    c: &RuleChecked,
    f: &ShadowFlags,
    run_id: &str,
) -> Result<(ShadowSpec, ShadowPorts), Vec<InputError>> {
    let v = &c.validated;
    let spec = spec(v, f, &c.flags.analysis, run_id, 0)?;
    let ports = ports(config, c.lb.as_ref(), v, f).await?;
    Ok((spec, ports))
}

/// What the replay does, from the flags and the route (`priority` 0 for
/// the listener's default action).
pub(super) fn spec(
    v: &Validated,
    f: &ShadowFlags,
    an: &Analysis,
    value: &str,
    priority: u32,
) -> Result<ShadowSpec, Vec<InputError>> {
    let elb = (v.load_balancer_arn.split_once(":loadbalancer/"))
        .map(|(_, r)| r.to_string())
        .filter(|r| r.starts_with("app/"));
    let port = v.listener.port.and_then(|p| u16::try_from(p).ok());
    let (Some(elb), Some(port)) = (elb, port) else {
        return Err(vec![InputError::new(
            "--listener",
            "shadow replays an Application Load Balancer's HTTP(S) listener: this one has no port or is not on an ALB",
        )]);
    };
    Ok(ShadowSpec {
        header: HEADER.into(),
        value: value.into(),
        elb,
        port,
        blue: v.blue.arn.clone(),
        priority,
        since: f.since,
        methods: f.methods.clone(),
        sample_bp: f.sample_bp,
        rate_milli: f.rate_milli,
        duration: f.duration,
        bounds: f.bounds,
        on_no_data: an.on_no_data,
        replay_auth: f.replay_auth,
    })
}

/// The logs' bucket and prefix: `--access-logs`, or the load balancer's
/// own attributes (which must have access logs on).
async fn logs_location(
    lb: &dyn crate::alb::LoadBalancerPort,
    v: &Validated,
    f: &ShadowFlags,
) -> Result<(String, String), InputError> {
    if let Some(l) = &f.access_logs {
        return Ok(l.clone());
    }
    let attrs = (lb.load_balancer_attributes(&v.load_balancer_arn).await).map_err(|e| {
        InputError::new("--access-logs", format!("not given, and the load balancer's attributes could not be read ({e}): allow elasticloadbalancing:DescribeLoadBalancerAttributes, or give --access-logs s3://BUCKET/PREFIX"))
    })?;
    let get = |k: &str| attrs.get(k).map(String::as_str).unwrap_or_default();
    if get("access_logs.s3.enabled") != "true" || get("access_logs.s3.bucket").is_empty() {
        return Err(InputError::new(
            "--access-logs",
            format!("not given, and load balancer {} has no access logs (access_logs.s3.enabled is not true): turn them on (ModifyLoadBalancerAttributes access_logs.s3.enabled=true with a bucket), or give --access-logs s3://BUCKET/PREFIX", v.load_balancer_arn),
        ));
    }
    Ok((
        get("access_logs.s3.bucket").into(),
        get("access_logs.s3.prefix").into(),
    ))
}

/// Where replayed requests go: `--to`, or the load balancer's DNS name on
/// the listener's port, by the listener's protocol.
pub(super) fn base_url(v: &Validated, f: &ShadowFlags) -> Result<String, InputError> {
    if let Some(to) = &f.to {
        return Ok(to.clone());
    }
    let dns = v.lb_dns.as_deref().ok_or_else(|| {
        InputError::new(
            "--to",
            "not given, and the load balancer has no DNS name to send the replay to: give --to URL",
        )
    })?;
    let scheme = match v.listener.protocol.as_deref() {
        Some("HTTPS") => "https",
        _ => "http",
    };
    Ok(format!(
        "{scheme}://{dns}:{}",
        v.listener.port.unwrap_or(80)
    ))
}

/// The S3 reader and the HTTP replayer of a run.
pub(super) async fn ports(
    config: &aws_config::SdkConfig,
    lb: &dyn crate::alb::LoadBalancerPort,
    v: &Validated,
    f: &ShadowFlags,
) -> Result<ShadowPorts, Vec<InputError>> {
    let (bucket, prefix) = logs_location(lb, v, f).await.map_err(|e| vec![e])?;
    let place = LogPlace::new(&v.load_balancer_arn, &prefix).ok_or_else(|| {
        vec![InputError::new(
            "--listener",
            "its load balancer's ARN does not name an Application Load Balancer",
        )]
    })?;
    let base = base_url(v, f).map_err(|e| vec![e])?;
    // Without --to, through the load balancer's own name (`replay`).
    let via = f.to.is_none().then_some(v.lb_dns.as_deref()).flatten();
    let replayer = HttpReplayer::new(&base, via, REQUEST_TIMEOUT)
        .map_err(|e| vec![InputError::new("--to", e)])?;
    let s3 = S3::new(config, &place.region);
    Ok(ShadowPorts {
        logs: Arc::new(S3Logs { s3, bucket, place }),
        replayer: Arc::new(replayer),
    })
}
