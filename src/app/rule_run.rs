//! What `ab` and `dark` share: their flags parsed, the preflight (the
//! deploys' checks of the first route, blue and green and the record lock,
//! plus the rule: `--match` within ALB's limits and a free priority, and a
//! warning for the rules evaluated before it; the other routes, each with
//! its own rule, in `rule_routes`), the dry run, and the execution of the
//! rule plan (`strategy::ab`) with the first route as the run's scope.
//! Every problem is reported at once, exit 2, before any mutating call.

use super::canary::register_targets;
use super::rule_routes::{self, Placed, Routed};
use super::runner::{self, credentials_fit, drive_then, sources, watch, AfterRun, Timing};
use super::{dry_run, invalid, live};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::{needs_client_secret, LeadingAction, LoadBalancerPort};
use crate::analysis::collect::Subjects;
use crate::cli::{AnalysisArgs, Output, RuleArgs};
use crate::engine::{AbortMode, Plan};
use crate::executor::{RunConfig, Scope};
use crate::plan::parse_duration;
use crate::preflight::{self, InputError, Request, Validated};
use crate::provider::probe::{parse_probe_spec, HttpProbe, DEFAULT_PROBE_TIMEOUT};
use crate::provider::{MetricTarget, Probe};
use crate::settings::{self, Analysis};
use crate::signal::Cancel;
use crate::strategy::ab::{plan, RouteRule, RuleRunInput};
use crate::strategy::canary::CanaryPlan;
use crate::strategy::rules::{conditions, parse_matches, Match};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The flags of a rule run, parsed.
pub(super) struct RuleFlags {
    pub matches: Vec<Match>,
    pub duration: Duration,
    pub analysis: Analysis,
    pub health_timeout: Duration,
    pub revert_timeout: Duration,
}

/// `--match` errors name their value: `--match "x": why`.
fn match_error(m: &str) -> InputError {
    match m.split_once(": ") {
        Some((culprit, why)) if culprit.starts_with("--match") => InputError::new(culprit, why),
        _ => InputError::new("--match", m),
    }
}

/// Parse the shared flags; `duration` defaults to one analysis interval.
pub(super) fn parse(
    a: &RuleArgs,
    an: &AnalysisArgs,
    duration: Option<&str>,
) -> Result<RuleFlags, Vec<InputError>> {
    let mut errors = Vec::new();
    let matches = parse_matches(&a.matches)
        .map_err(|e| errors.extend(e.iter().map(|m| match_error(m))))
        .ok();
    let analysis = settings::from_flags_and_file(a.config.as_deref(), an, &mut errors);
    let mut dur = |flag: &str, v: &str| {
        parse_duration(flag, v)
            .map_err(|e| errors.push(InputError::for_flag(flag, &e)))
            .ok()
    };
    let health_timeout = dur("--health-timeout", &a.health_timeout);
    let revert_timeout = dur("--revert-timeout", &a.revert_timeout);
    let duration = duration.map(|d| dur("--duration", d));
    if duration.flatten().is_some_and(|d| d.is_zero()) {
        errors.push(InputError::new(
            "--duration",
            "must be more than 0s: the rule is judged while it lives",
        ));
    }
    match (matches, analysis, health_timeout, revert_timeout, duration) {
        (Some(matches), Some(analysis), Some(health_timeout), Some(revert_timeout), d)
            if errors.is_empty() =>
        {
            let duration = match d {
                Some(Some(d)) => d,
                _ => analysis.interval,
            };
            Ok(RuleFlags {
                matches,
                duration,
                analysis,
                health_timeout,
                revert_timeout,
            })
        }
        _ => Err(errors),
    }
}

/// What preflight hands the command.
pub(super) struct RuleChecked {
    pub lb: Arc<dyn LoadBalancerPort>,
    pub flags: RuleFlags,
    pub validated: Validated,
    /// The first route's rule: where it goes, what it matches, its login.
    pub first: Placed,
    /// The run's other routes, one rule each.
    pub others: Vec<RouteRule>,
    pub sdk_expiry: Option<SystemTime>,
    /// The run's ID when the plan names it (`shadow`'s header value).
    pub run_id: Option<String>,
}

/// The route's login cannot be copied into a new rule without the OIDC
/// client secret: ELBv2 never returns it and CreateRule requires it.
pub(super) fn secret_check(
    leading: &[LeadingAction],
    secret: Option<&str>,
    culprit: &str,
) -> Option<InputError> {
    if !needs_client_secret(leading) || secret.is_some() {
        return None;
    }
    Some(InputError::new(
        culprit,
        format!(
            "the route logs users in with authenticate-oidc before its forward, and the rule this run creates must log them in too; ELBv2 never returns the OIDC client secret and CreateRule requires it: set {} (the IdP app's client secret; in GitHub Actions, pass it as env from a secret)",
            settings::OIDC_CLIENT_SECRET_ENV
        ),
    ))
}

/// The preflight: every problem at once (exit 2), no mutating call.
pub(super) async fn preflight(
    config: &aws_config::SdkConfig,
    a: &RuleArgs,
    blue: Option<&str>,
    parsed: Result<RuleFlags, Vec<InputError>>,
    output: Output,
) -> Result<RuleChecked, i32> {
    let (env_errors, sdk_expiry) = crate::aws_env::check_with_expiry(config).await;
    let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
    let routes = crate::route_args::routes(&a.listener, &a.rule)
        .map_err(|e| errors.extend(e))
        .unwrap_or_default();
    if routes.len() > 1 && a.priority.is_some() {
        errors.push(InputError::new("--priority", "is for one route only: with several, each rule is placed among its own listener's rules (after every rule, or just before a --rule it splits); leave --priority out"));
    }
    let Some(first) = routes.first().cloned().filter(|_| env_errors.is_empty()) else {
        errors.extend(env_errors);
        return Err(invalid(&errors, output));
    };
    let secret = settings::oidc_client_secret();
    let has_secret = secret.is_some();
    let lb: Arc<dyn LoadBalancerPort> =
        Arc::new(AwsLoadBalancer::new(config).with_oidc_client_secret(secret));
    let resolved = match blue {
        Some(b) => Some(b.to_string()),
        None => rule_routes::default_blue(lb.as_ref(), &first).await,
    };
    let blue_ref = resolved.clone().unwrap_or_default();
    let req = Request {
        listener_arn: first.listener_arn(),
        rule_arn: super::multi_route::rule_of(&first),
        blue: &blue_ref,
        green: &a.green,
        register: &register_targets(&[]),
        force: a.force,
    };
    let state = live::read(lb.as_ref(), &req).await;
    let validated = preflight::validate(&req, &state)
        .map_err(|e| {
            // No --blue and no forward to take it from: the route's own
            // error says why; a lookup of "" would only add noise.
            errors.extend(
                e.into_iter()
                    .filter(|x| resolved.is_some() || !x.culprit.starts_with("--blue")),
            )
        })
        .ok();
    if resolved.is_none() && state.listener.is_ok() {
        errors.push(InputError::new(rule_routes::first_flag(&first), "it does not forward to a target group, so there is no blue to compare with; point it at a route that forwards (or give --blue)"));
    }
    let own = (parsed.as_ref())
        .map(|f| conditions(&f.matches))
        .unwrap_or_default();
    let leading = state.listener.as_ref().ok().map(|l| l.leading.as_slice());
    let routed = Routed {
        routes: &routes,
        leading,
        own: &own,
        priority: a.priority,
        force: a.force,
        has_secret,
    };
    let (placed, others) = rule_routes::rules(lb.as_ref(), validated.as_ref(), &routed).await;
    let placed = placed.map_err(|e| errors.extend(e)).ok();
    let others = others.map_err(|e| errors.extend(e)).ok();
    match (parsed, validated, placed, others) {
        (Ok(flags), Some(validated), Some(first), Some(others)) if errors.is_empty() => {
            if let Some(w) = &first.warning {
                eprintln!("warning: {w}");
            }
            Ok(RuleChecked {
                lb,
                flags,
                validated,
                first,
                others,
                sdk_expiry,
                run_id: None,
            })
        }
        _ => Err(invalid(&errors, output)),
    }
}

/// The run's plan from what preflight checked.
pub(super) fn planned(c: &RuleChecked, strategy: &'static str, keep: bool) -> Plan {
    plan(&input(c, strategy, keep))
}

/// The rule planner's input from what preflight checked.
pub(super) fn input<'a>(
    c: &'a RuleChecked,
    strategy: &'static str,
    keep: bool,
) -> RuleRunInput<'a> {
    let v = &c.validated;
    RuleRunInput {
        strategy,
        route: &v.route,
        others: &c.others,
        original: &v.original,
        blue: &v.blue.arn,
        green: &v.green.arn,
        priority: c.first.priority,
        conditions: c.first.conditions.clone(),
        duration: c.flags.duration,
        keep,
        leading: &c.first.leading,
        green_in_use: v.green_in_use(),
    }
}

/// The headers that make a request match the rule, for a probe sent
/// through the load balancer: a header match's value (a wildcard stands
/// for nothing, `?` for one `x`), a cookie match as a `Cookie` header.
/// Query, path and source-ip matches the probe URL must satisfy itself.
pub fn probe_headers(matches: &[Match]) -> Vec<(String, String)> {
    matches
        .iter()
        .filter_map(|m| match m {
            Match::Header { name, value } => {
                Some((name.clone(), value.replace('*', "").replace('?', "x")))
            }
            Match::Cookie { name, value } => Some(("Cookie".into(), format!("{name}={value}"))),
            _ => None,
        })
        .collect()
}

/// `--probe` with the rule's headers, if given.
pub(super) fn header_probe(f: &RuleFlags) -> Result<Option<HttpProbe>, InputError> {
    let Some(spec) = f.analysis.probe.as_deref() else {
        return Ok(None);
    };
    let (url, _) = parse_probe_spec(spec).map_err(|e| InputError::new("--probe", e))?;
    let p = HttpProbe::new(&url, DEFAULT_PROBE_TIMEOUT)
        .map_err(|e| InputError::new("--probe", e.message))?;
    Ok(Some(p.with_headers(probe_headers(&f.matches))))
}

/// What a rule command adds to the run's sources: a probe that replaces
/// the plain `--probe` (with the rule's headers), `shadow`'s replay.
#[derive(Default)]
pub(super) struct Extra {
    pub probe: Option<Arc<dyn Probe>>,
    pub shadow: Option<crate::shadow::ShadowPorts>,
}

/// A dry run, or the run: `extra` goes into its sources, `after` adds to
/// the report before it is printed.
pub(super) async fn start(
    config: &aws_config::SdkConfig,
    c: RuleChecked,
    actions: Plan,
    dry: bool,
    extra: Extra,
    after: impl FnOnce(Cancel) -> Option<AfterRun>,
    output: Output,
) -> i32 {
    let v = &c.validated;
    let idle = CanaryPlan {
        blue: v.blue.arn.clone(),
        green: v.green.arn.clone(),
        original: v.original.clone(),
        steps: vec![],
        promoted: v.original.clone(),
        abort: AbortMode::Flip,
        drain: None,
        preview: None,
        attach: None,
        detach: None,
    };
    let an = &c.flags.analysis;
    let actions = crate::strategy::hooks::place(actions, &an.hooks, None);
    let timing = Timing {
        analysis: an,
        health_timeout: c.flags.health_timeout,
        revert_timeout: c.flags.revert_timeout,
    };
    // A dry run refuses a plan that outlives the session, as the run would.
    let expiry = match credentials_fit(c.sdk_expiry, &actions, timing) {
        Ok(e) => e,
        Err(e) => return invalid(&[e], output),
    };
    if dry {
        let code = dry_run::print(v, &idle, &actions, an, output);
        crate::report::github::result_only("dry-run", None);
        return code;
    }
    let mut src = match sources(config, c.lb.clone(), an) {
        Ok(s) => s,
        Err(e) => return invalid(&e, output),
    };
    src.probe = extra.probe;
    src.shadow = extra.shadow;
    src.commands.lb_dns = v.lb_dns.clone();
    let cfg = run_config(&c);
    let (cancel, guard) = watch(config, expiry, c.flags.revert_timeout);
    let after = after(cancel.clone());
    drive_then(cfg, actions, src, cancel, guard, output, after).await
}

/// The executor's configuration of a rule run.
fn run_config(c: &RuleChecked) -> RunConfig {
    let timing = Timing {
        analysis: &c.flags.analysis,
        health_timeout: c.flags.health_timeout,
        revert_timeout: c.flags.revert_timeout,
    };
    let scope = Scope::Route(c.validated.route.clone());
    // A rule run deregisters nothing: its drain timeout is never waited on.
    let mut cfg = runner::run_config(
        scope,
        timing,
        Duration::from_secs(600),
        subjects(&c.validated),
    );
    if let Some(id) = &c.run_id {
        cfg.run_id = id.clone();
    }
    cfg
}

/// Green and blue as CloudWatch names them (the A/B report reads both).
pub(super) fn metric_targets(v: &Validated) -> (MetricTarget, MetricTarget) {
    (
        MetricTarget::from_arns(&v.green.arn, &v.load_balancer_arn),
        MetricTarget::from_arns(&v.blue.arn, &v.load_balancer_arn),
    )
}

/// Green and blue as the analysis measures them.
pub(super) fn subjects(v: &Validated) -> Subjects {
    let (green, blue) = metric_targets(v);
    Subjects {
        green_arn: v.green.arn.clone(),
        green,
        blue: Some(blue),
        other_lbs: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_carry_what_the_rule_matches() {
        let m = parse_matches(&[
            "header:X-Variant=b*".to_string(),
            "cookie:variant=b".to_string(),
            "path:/beta/*".to_string(),
        ])
        .unwrap();
        assert_eq!(
            probe_headers(&m),
            vec![
                ("X-Variant".to_string(), "b".to_string()),
                ("Cookie".to_string(), "variant=b".to_string())
            ]
        );
        assert_eq!(match_error("--match \"x\": bad").culprit, "--match \"x\"");
        assert_eq!(match_error("these matches need 6").culprit, "--match");
    }
}
