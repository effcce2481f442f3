//! `--listener`/`--rule` given more than once on `canary` and
//! `blue-green`: the routes paired (`route_args`), the other routes read
//! (read-only calls) and checked (`preflight_routes`) after the first
//! route's preflight, and the plan spread over them
//! (`strategy::multi_route`). Refused input exits 2 before any mutating call.

use super::canary::Checked;
use crate::alb::{state_tags, Forward, LoadBalancerPort, RouteRef};
use crate::preflight::InputError;
use crate::preflight_routes::{check, OtherLive};

/// The run's routes from the flags, the first one the run's own.
pub(super) fn routes(
    listeners: &[String],
    rules: &[String],
) -> Result<Vec<RouteRef>, Vec<InputError>> {
    crate::route_args::routes(listeners, rules)
}

/// The first route's `--rule`, for the one-route request preflight reads.
pub(super) fn rule_of(r: &RouteRef) -> Option<&str> {
    match r {
        RouteRef::Rule { rule_arn, .. } => Some(rule_arn),
        RouteRef::ListenerDefault { .. } => None,
    }
}

/// The other routes with their originals, read live and checked.
pub(super) async fn others(
    c: &Checked,
    rest: &[RouteRef],
    force: bool,
) -> Result<Vec<(RouteRef, Forward)>, Vec<InputError>> {
    let mut live = vec![];
    for route in rest {
        live.push(read(c.lb.as_ref(), route).await);
    }
    let v = &c.validated;
    check(&v.blue.arn, &v.green.arn, &live, force)
}

pub(super) async fn read(lb: &dyn LoadBalancerPort, route: &RouteRef) -> OtherLive {
    let action = lb.read_route(route).await;
    let record = match &action {
        Ok(_) => match lb.tags(route.owner_arn()).await {
            Ok(t) => state_tags::decode(&t),
            Err(e) => Err(format!("tags could not be read: {e}")),
        },
        Err(_) => Ok(None),
    };
    OtherLive {
        route: route.clone(),
        action,
        record,
    }
}
