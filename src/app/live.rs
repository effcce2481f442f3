//! Reading the live state preflight judges, with read-only calls only.

use crate::alb::state_tags;
use crate::alb::{LoadBalancerPort, RouteRef};
use crate::preflight::{LiveState, Request};

/// Everything preflight needs, read concurrently. Lookups that fail keep
/// their error so preflight can name the culprit.
pub async fn read(lb: &dyn LoadBalancerPort, req: &Request<'_>) -> LiveState {
    let (listener, blue, green) = tokio::join!(
        lb.listener(req.listener_arn),
        lb.target_group(req.blue),
        lb.target_group(req.green)
    );
    let rules = match req.rule_arn {
        Some(_) if listener.is_ok() => Some(lb.rules(req.listener_arn).await),
        _ => None,
    };
    let load_balancer = match &listener {
        Ok(l) => lb.load_balancer(&l.load_balancer_arn).await.ok(),
        Err(_) => None,
    };
    let route = RouteRef::new(req.listener_arn, req.rule_arn);
    let record = match (&listener, &rules) {
        (Ok(_), None) | (Ok(_), Some(Ok(_))) => match lb.tags(route.owner_arn()).await {
            Ok(tags) => state_tags::decode(&tags),
            Err(e) => Err(format!("tags could not be read: {e}")),
        },
        _ => Ok(None),
    };
    LiveState {
        listener,
        load_balancer,
        rules,
        blue,
        green,
        record,
    }
}
