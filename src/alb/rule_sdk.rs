//! Pure translation of what a rule alb-rollout creates carries from the
//! route it splits: the leading actions (`authenticate-oidc`,
//! `authenticate-cognito`, `jwt-validation`) exactly as ELBv2 returned them,
//! in their order and with their `Order` numbers, before the rule's own
//! forward; the OIDC client secret ELBv2 never returns put back; and the
//! split rule's transforms. Without the leading actions, a request matching
//! the new rule would reach green without logging in.
//!
//! Sources: the ELBv2 API reference (`AuthenticateOidcActionConfig`:
//! "ClientSecret ... is required if you are creating a rule", and
//! `UseExistingClientSecret` only applies "when modifying a rule"; `Order`
//! 1..50000 is required on every action of a list with more than one, and
//! the actions are performed from the lowest order up, the terminal one
//! last); botocore's elbv2 model (`JwtValidationActionConfig`,
//! `RuleTransform` on CreateRule).

use super::model::*;
use super::route_sdk::{forward_to_sdk, route_action_from_sdk};
use aws_sdk_elasticloadbalancingv2::types as sdk;

/// The action list of a new rule: the leading actions of `source` (the
/// live list of the route it splits), then `forward`. Each leading action
/// keeps its `Order`, or gets its place in the list when ELBv2 gave none;
/// the forward comes after all of them. An OIDC action gets `secret`, and
/// without one the list is refused: CreateRule cannot reuse a secret.
pub fn carried_actions(
    source: &[sdk::Action],
    forward: &Forward,
    secret: Option<&str>,
) -> Result<Vec<sdk::Action>, String> {
    if let RouteAction::Other { action_type } = route_action_from_sdk(source) {
        return Err(format!(
            "the route to split now has a {action_type} action where a forward was expected; no rule was created"
        ));
    }
    let mut sorted: Vec<&sdk::Action> = source.iter().collect();
    sorted.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    sorted.pop(); // the route's own forward: the rule sends its own
    let mut out = Vec::with_capacity(sorted.len() + 1);
    let mut last = 0;
    for (i, a) in sorted.into_iter().enumerate() {
        let mut a = a.clone();
        let order = a.order.unwrap_or(i as i32 + 1).max(last + 1);
        a.order = Some(order);
        last = order;
        if let Some(oidc) = a.authenticate_oidc_config.as_mut() {
            let Some(s) = secret else {
                return Err(format!(
                    "the route logs users in with authenticate-oidc, and a new rule must carry its client secret, which ELBv2 never returns: set {}",
                    crate::settings::OIDC_CLIENT_SECRET_ENV
                ));
            };
            oidc.client_secret = Some(s.to_string());
            oidc.use_existing_client_secret = None;
        }
        out.push(a);
    }
    let mut f = forward_to_sdk(forward);
    if !out.is_empty() {
        f.order = Some(last + 1);
    }
    out.push(f);
    Ok(out)
}

/// The transforms (host-header and URL rewrites) of the rule being split,
/// so the new rule hands green the request its rule would have handed blue.
pub fn carried_transforms(source: Option<&sdk::Rule>) -> Option<Vec<sdk::RuleTransform>> {
    let t = source?.transforms();
    (!t.is_empty()).then(|| t.to_vec())
}

#[cfg(test)]
#[path = "rule_sdk_tests.rs"]
mod tests;
