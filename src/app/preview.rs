//! `--preview-header NAME=VALUE` on `canary` and `blue-green`: before any
//! public traffic, green is reachable only through a tagged rule matching
//! that header, for `--preview` (default one interval), judged by the
//! probe sent through the load balancer with the header, and by target
//! health. Then the rule goes and the deploy goes on; a failure during the
//! preview deletes the rule and reverts with no public request ever sent
//! to green. Flags checked here; the planner (`CanaryPlan::with_preview`)
//! places the rule and its hold.

use super::rule_run::probe_headers;
use crate::alb::{Condition, Forward, LeadingAction, LoadBalancerPort, RouteRef, Rule};
use crate::cli::RunArgs;
use crate::engine::{Carry, RuleSpec};
use crate::plan::parse_duration;
use crate::preflight::{InputError, Validated};
use crate::provider::probe::{parse_probe_spec, HttpProbe, DEFAULT_PROBE_TIMEOUT};
use crate::provider::Probe;
use crate::settings::Analysis;
use crate::strategy::canary::Preview;
use crate::strategy::rule_split::merged_conditions;
use crate::strategy::rules::{self, Match};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct PreviewFlags {
    pub header: Match,
    /// `--preview`; one analysis interval when not given.
    pub duration: Option<Duration>,
}

/// The preview flags, or `None` without `--preview-header`; problems go
/// to `errors`, each naming its flag.
pub fn parse(a: &RunArgs, errors: &mut Vec<InputError>) -> Option<PreviewFlags> {
    let duration = a.preview.as_deref().and_then(|d| {
        parse_duration("--preview", d)
            .map_err(|e| errors.push(InputError::for_flag("--preview", &e)))
            .ok()
    });
    let Some(raw) = a.preview_header.as_deref() else {
        if a.preview.is_some() {
            errors.push(InputError::new(
                "--preview",
                "needs --preview-header NAME=VALUE: the header that reaches green",
            ));
        }
        return None;
    };
    match rules::parse_match(&format!("header:{raw}")) {
        Ok(header) => Some(PreviewFlags { header, duration }),
        Err(e) => {
            errors.push(InputError::new(format!("--preview-header {raw}"), e));
            None
        }
    }
}

/// The preview rule next to the listener's rules. On the default action
/// it goes after every rule (the highest free priority), so it only takes
/// requests that would reach the default action; on a `--rule` it carries
/// that rule's conditions and goes just before it. Either way it carries
/// the route's login steps. Needs `--probe`: without it nothing would send
/// the header.
pub async fn plan(
    lb: &dyn LoadBalancerPort,
    v: &Validated,
    flags: Option<&PreviewFlags>,
    an: &Analysis,
    replayed: bool,
) -> Result<Option<Preview>, InputError> {
    let Some(f) = flags else {
        return Ok(None);
    };
    let culprit = format!("--preview-header {}", f.header);
    // `--shadow-first` sends the header itself.
    if an.probe.is_none() && !replayed {
        return Err(InputError::new(
            &culprit,
            "needs --probe URL through the load balancer: the probe sends the header and judges green during the preview",
        ));
    }
    let listener = v.route.listener_arn();
    let existing = lb.rules(listener).await.map_err(|e| {
        InputError::new(
            &culprit,
            format!("the listener's rules could not be read: {e}"),
        )
    })?;
    let own = rules::conditions(std::slice::from_ref(&f.header));
    let (priority, conditions, leading) =
        place(&existing, v, own).map_err(|e| InputError::new(&culprit, e))?;
    let secret = crate::settings::oidc_client_secret().map(|_| "");
    if let Some(e) = super::rule_run::secret_check(&leading, secret, &culprit) {
        return Err(e);
    }
    Ok(Some(Preview {
        rule: RuleSpec {
            listener_arn: listener.to_string(),
            priority,
            conditions,
            forward: Forward::single(&v.green.arn),
            carry: Carry::from(&v.route, &leading),
        },
        duration: f.duration.unwrap_or(an.interval),
        shadow: None,
    }))
}

/// Where the preview rule goes, what it matches and which login it
/// carries, from the listener's rules.
fn place(
    existing: &[Rule],
    v: &Validated,
    own: Vec<Condition>,
) -> Result<(u32, Vec<Condition>, Vec<LeadingAction>), String> {
    let RouteRef::Rule { rule_arn, .. } = &v.route else {
        let p = rules::choose_last(existing, None)?;
        return Ok((p, own, v.listener.leading.clone()));
    };
    let split = existing
        .iter()
        .find(|r| &r.arn == rule_arn)
        .ok_or_else(|| format!("--rule {rule_arn} is not on the listener any more"))?;
    let p = rules::choose_before(existing, rule_arn)?;
    let conditions = merged_conditions(rule_arn, &split.conditions, &own)?;
    Ok((p, conditions, split.leading.clone()))
}

/// The run's probe, sending the preview header on every request: during
/// the preview it reaches green through the rule; afterwards the header
/// matches nothing and the probe sees what the public sees.
pub fn probe(an: &Analysis, f: &PreviewFlags) -> Result<Option<Arc<dyn Probe>>, InputError> {
    let Some(spec) = an.probe.as_deref() else {
        return Ok(None);
    };
    let (url, _) = parse_probe_spec(spec).map_err(|e| InputError::new("--probe", e))?;
    let p = HttpProbe::new(&url, DEFAULT_PROBE_TIMEOUT)
        .map_err(|e| InputError::new("--probe", e.message))?;
    let headers = probe_headers(std::slice::from_ref(&f.header));
    Ok(Some(Arc::new(p.with_headers(headers)) as Arc<dyn Probe>))
}
