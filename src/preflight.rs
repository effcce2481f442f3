//! Preflight: every check a strategy needs before its first mutation, run
//! against a read-only snapshot of live state. Pure; collects every problem
//! with the flag or ARN at fault, so bad input costs one run and zero changes.

use crate::alb::state_tags::RunRecord;
use crate::alb::*;
use std::fmt;

/// One problem with the input, naming its culprit (a flag or an ARN).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputError {
    pub culprit: String,
    pub message: String,
}

impl InputError {
    pub fn new(culprit: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            culprit: culprit.into(),
            message: message.into(),
        }
    }
}

impl InputError {
    /// From a parser message that may already start with `FLAG: `.
    pub fn for_flag(flag: &str, message: &str) -> Self {
        let prefix = format!("{flag}: ");
        InputError::new(flag, message.strip_prefix(&prefix).unwrap_or(message))
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.culprit, self.message)
    }
}

/// What preflight reads before deciding. Lookups that failed keep their error.
pub struct LiveState {
    pub listener: Result<Listener, AlbError>,
    pub load_balancer: Option<LoadBalancer>,
    /// The listener's rules, when `--rule` was given.
    pub rules: Option<Result<Vec<Rule>, AlbError>>,
    pub blue: Result<TargetGroup, AlbError>,
    pub green: Result<TargetGroup, AlbError>,
    /// A run recorded on the route's owner (listener or rule), if any.
    pub record: Result<Option<RunRecord>, String>,
}

pub struct Request<'a> {
    pub listener_arn: &'a str,
    pub rule_arn: Option<&'a str>,
    pub blue: &'a str,
    pub green: &'a str,
    pub register: &'a [Target],
    pub force: bool,
}

/// Everything a strategy may rely on once preflight passed.
#[derive(Debug, Clone)]
pub struct Validated {
    pub route: RouteRef,
    pub listener: Listener,
    pub load_balancer_arn: String,
    /// The load balancer's DNS name, for the hooks' `ALB_ROLLOUT_LB_DNS`.
    pub lb_dns: Option<String>,
    pub original: Forward,
    pub blue: TargetGroup,
    pub green: TargetGroup,
}

impl Validated {
    /// Whether a listener's default action or a rule of the run's load
    /// balancer already forwards to green (at any weight): only then does
    /// AWS health-check green's targets; otherwise they read `unused`
    /// (`Target.NotInUse`) and the run attaches green at weight 0 first.
    pub fn green_in_use(&self) -> bool {
        self.original.weight_of(&self.green.arn).is_some()
            || self
                .green
                .load_balancer_arns
                .contains(&self.load_balancer_arn)
    }
}

fn lookup_error(flag: &str, value: &str, e: &AlbError) -> InputError {
    let msg = match e.kind {
        AlbErrorKind::NotFound => {
            format!("no such resource ({e}); check the name or ARN and the region")
        }
        AlbErrorKind::AccessDenied => {
            format!("access denied ({e}); see docs/iam.md for the permissions needed")
        }
        _ => format!("could not be read: {e}"),
    };
    InputError::new(format!("{flag} {value}"), msg)
}

/// The load balancer's type: as DescribeLoadBalancers says, or else as its
/// ARN says (`loadbalancer/app/`, `/net/`, `/gwy/`).
fn lb_type(live: &LiveState, listener: &Listener) -> Option<String> {
    let from_arn = || {
        let arn = &listener.load_balancer_arn;
        [
            ("/app/", "application"),
            ("/net/", "network"),
            ("/gwy/", "gateway"),
        ]
        .into_iter()
        .find(|(part, _)| arn.contains(&format!(":loadbalancer{part}")))
        .map(|(_, t)| t.to_string())
    };
    (live.load_balancer.as_ref())
        .and_then(|lb| lb.lb_type.clone())
        .or_else(from_arn)
}

/// Only an Application Load Balancer has weighted forwards, rules and the
/// metrics alb-rollout judges: an NLB's or GWLB's listener is refused
/// before anything else is said about its route.
fn check_application(
    req: &Request,
    live: &LiveState,
    listener: &Listener,
    errors: &mut Vec<InputError>,
) -> bool {
    let kind = match lb_type(live, listener) {
        Some(t) if t != "application" => t,
        _ => return true,
    };
    let what = match kind.as_str() {
        "network" => "a Network Load Balancer",
        "gateway" => "a Gateway Load Balancer",
        _ => "a load balancer that is not an Application Load Balancer",
    };
    let name = (live.load_balancer.as_ref())
        .map(|lb| format!(" ({})", lb.name))
        .unwrap_or_default();
    errors.push(InputError::new(
        format!("--listener {}", req.listener_arn),
        format!(
            "belongs to {what}{name}, type {kind}; alb-rollout needs a listener of an \
             Application Load Balancer (type application)"
        ),
    ));
    false
}

/// Check the route the run will change: rule membership, forward type, blue.
fn check_route(
    req: &Request,
    live: &LiveState,
    listener: &Listener,
    errors: &mut Vec<InputError>,
) -> Option<(RouteRef, Forward)> {
    let route = RouteRef::new(req.listener_arn, req.rule_arn);
    let action = match (req.rule_arn, &live.rules) {
        (None, _) => listener.default_action.clone(),
        (Some(rule_arn), Some(Ok(rules))) => match rules.iter().find(|r| r.arn == rule_arn) {
            Some(r) if r.is_default => {
                errors.push(InputError::new(
                    format!("--rule {rule_arn}"),
                    "is the listener's default rule; omit --rule to shift the default action",
                ));
                return None;
            }
            Some(r) => r.action.clone(),
            None => {
                errors.push(InputError::new(format!("--rule {rule_arn}"), format!("does not belong to listener {}; list its rules with `alb-rollout status --listener {}`", req.listener_arn, req.listener_arn)));
                return None;
            }
        },
        (Some(rule_arn), Some(Err(e))) => {
            errors.push(lookup_error("--rule", rule_arn, e));
            return None;
        }
        (Some(_), None) => return None,
    };
    match action {
        RouteAction::Forward(f) => Some((route, f)),
        RouteAction::Other { action_type } => {
            errors.push(InputError::new(
                route.owner_arn().to_string(),
                format!("the {route} has a {action_type} action; alb-rollout shifts a forward action only, optionally after authenticate-oidc/authenticate-cognito steps (point --listener/--rule at a route that forwards to a target group)"),
            ));
            None
        }
    }
}

fn check_blue(
    req: &Request,
    route: &RouteRef,
    original: &Forward,
    blue: &TargetGroup,
    errors: &mut Vec<InputError>,
) {
    let culprit = format!("--blue {}", req.blue);
    match original.weight_of(&blue.arn) {
        None => errors.push(InputError::new(culprit, format!("is not in the {route}; it forwards to {}", describe_groups(original)))),
        Some(0) if original.shape == ForwardShape::Weighted => errors.push(InputError::new(culprit, format!("has weight 0 in the {route}: it takes no traffic now, so there is nothing to shift from (it forwards to {}; after a promotion, the group that serves is the next run's --blue)", describe_groups(original)))),
        Some(_) => {}
    }
    for g in &original.groups {
        if g.target_group_arn != blue.arn
            && g.weight > 0
            && original.shape == ForwardShape::Weighted
        {
            errors.push(InputError::new(
                format!("{} (in the {route})", g.target_group_arn),
                format!("already takes traffic (weight {}); alb-rollout shifts from one blue group. If a previous run stopped half-way, run `alb-rollout rollback --listener {}`", g.weight, route.listener_arn()),
            ));
        }
    }
}

fn check_green(
    req: &Request,
    lb_arn: &str,
    original: &Forward,
    blue: &TargetGroup,
    green: &TargetGroup,
    errors: &mut Vec<InputError>,
) {
    let culprit = format!("--green {}", req.green);
    let mut bad = |m: String| errors.push(InputError::new(culprit.clone(), m));
    if green.arn == blue.arn {
        bad("is the same target group as --blue".into());
        return;
    }
    if green.vpc_id != blue.vpc_id {
        bad(format!(
            "is in VPC {} but blue is in VPC {}; both must be in the load balancer's VPC",
            green.vpc_id.as_deref().unwrap_or("none"),
            blue.vpc_id.as_deref().unwrap_or("none")
        ));
    }
    let family = |t: &TargetGroup| match t.target_type.as_str() {
        "lambda" => "lambda",
        _ => "http",
    };
    if family(green) != family(blue) {
        bad(format!(
            "has target type {} but blue has {}; a weighted forward needs compatible target types",
            green.target_type, blue.target_type
        ));
    }
    if let Some(p) = green.protocol.as_deref() {
        if !matches!(p, "HTTP" | "HTTPS") {
            bad(format!("uses protocol {p}; an Application Load Balancer forwards to HTTP or HTTPS target groups"));
        }
    }
    if let Some(other) = green
        .load_balancer_arns
        .iter()
        .find(|a| a.as_str() != lb_arn)
    {
        bad(format!("is attached to another load balancer ({other}); a target group can serve one ALB at a time"));
    }
    let after = original
        .groups
        .iter()
        .filter(|g| g.target_group_arn != green.arn)
        .count()
        + 1;
    if after > MAX_GROUPS_PER_FORWARD {
        bad(format!("would make {after} target groups in one forward action; ELBv2 allows {MAX_GROUPS_PER_FORWARD}. Remove zero-weight groups from the route first"));
    }
    if original.weight_of(&green.arn).is_some_and(|w| w > 0)
        && original.shape == ForwardShape::Weighted
    {
        bad(
            "already takes traffic on this route; finish or roll back the earlier run first".into(),
        );
    }
}

fn check_register(req: &Request, green: &TargetGroup, errors: &mut Vec<InputError>) {
    for t in req.register {
        let ok = match green.target_type.as_str() {
            "instance" => t.id.starts_with("i-"),
            "ip" => t.id.parse::<std::net::IpAddr>().is_ok(),
            "lambda" => false,
            _ => true,
        };
        if !ok {
            errors.push(InputError::new(format!("--register {t}"), format!("does not fit green's target type {} (instance: i-..., ip: an IP address[:port]; lambda targets are registered outside alb-rollout)", green.target_type)));
        }
    }
}

fn check_record(req: &Request, route: &RouteRef, live: &LiveState, errors: &mut Vec<InputError>) {
    match &live.record {
        Ok(Some(r)) if !req.force => errors.push(InputError::new(
            route.owner_arn().to_string(),
            format!("run {} ({}, step {}) is in progress here; wait for it, or if it crashed run `alb-rollout rollback --listener {}{}` (--force skips only this check)", r.run_id, r.strategy, r.step, route.listener_arn(), req.rule_arn.map(|r| format!(" --rule {r}")).unwrap_or_default()),
        )),
        Err(e) if !req.force => errors.push(InputError::new(route.owner_arn().to_string(), format!("carries a damaged alb-rollout run record ({e}); inspect its tags, or pass --force"))),
        _ => {}
    }
}

pub fn validate(req: &Request, live: &LiveState) -> Result<Validated, Vec<InputError>> {
    let mut errors = Vec::new();
    let listener = live
        .listener
        .as_ref()
        .map_err(|e| lookup_error("--listener", req.listener_arn, e));
    let blue = live
        .blue
        .as_ref()
        .map_err(|e| lookup_error("--blue", req.blue, e));
    let green = live
        .green
        .as_ref()
        .map_err(|e| lookup_error("--green", req.green, e));
    for e in [
        &listener.as_ref().err(),
        &blue.as_ref().err(),
        &green.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    {
        errors.push((*e).clone());
    }
    let route = listener
        .as_ref()
        .ok()
        .filter(|l| check_application(req, live, l, &mut errors))
        .and_then(|l| check_route(req, live, l, &mut errors).map(|r| (*l, r)));
    if let (Some((l, (route, original))), Ok(blue), Ok(green)) = (&route, &blue, &green) {
        check_blue(req, route, original, blue, &mut errors);
        check_green(
            req,
            &l.load_balancer_arn,
            original,
            blue,
            green,
            &mut errors,
        );
        check_register(req, green, &mut errors);
        check_record(req, route, live, &mut errors);
        if errors.is_empty() {
            return Ok(Validated {
                route: route.clone(),
                listener: (*l).clone(),
                load_balancer_arn: live
                    .load_balancer
                    .as_ref()
                    .map(|lb| lb.arn.clone())
                    .unwrap_or_else(|| l.load_balancer_arn.clone()),
                lb_dns: live
                    .load_balancer
                    .as_ref()
                    .and_then(|lb| lb.dns_name.clone()),
                original: original.clone(),
                blue: (*blue).clone(),
                green: (*green).clone(),
            });
        }
    }
    Err(errors)
}

pub fn describe_groups(f: &Forward) -> String {
    f.groups
        .iter()
        .map(|g| {
            format!(
                "{} (weight {})",
                arn_resource(&g.target_group_arn),
                g.weight
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "preflight_tests.rs"]
mod tests;
