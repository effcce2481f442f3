//! Preflight of a multi-route run whose routes are on several load
//! balancers (pure). A target group serves one load balancer, so each
//! load balancer has its own blue (what its routes forward to) and its own
//! green (`--green` given once per load balancer, in the order the routes'
//! load balancers first appear, the first route's first). Every problem at
//! once, each naming the flag or route at fault: exit 2, nothing changed.

use crate::alb::{AlbError, RouteAction, RouteRef, TargetGroup};
use crate::preflight::InputError;
use crate::preflight_routes::OtherLive;

/// The load balancer a listener ARN is on, from the ARN alone
/// (`listener/app/NAME/ID/LISTENER` is on `loadbalancer/app/NAME/ID`).
pub fn lb_of_listener(listener_arn: &str) -> Option<String> {
    let (head, path) = listener_arn.split_once(":listener/")?;
    let (lb_path, listener_id) = path.rsplit_once('/')?;
    (!listener_id.is_empty() && lb_path.matches('/').count() == 2)
        .then(|| format!("{head}:loadbalancer/{lb_path}"))
}

/// The load balancer of a route's owner ARN (a listener's or a rule's).
pub fn lb_of_owner(owner_arn: &str) -> Option<String> {
    let listener = crate::route_args::listener_of_rule(owner_arn);
    lb_of_listener(listener.as_deref().unwrap_or(owner_arn))
}

/// The load balancer of a route; a listener ARN that names none (a bare
/// name in the one-route form) is on the first route's.
pub fn lb_of(route: &RouteRef, first_lb: &str) -> String {
    lb_of_listener(route.listener_arn()).unwrap_or_else(|| first_lb.to_string())
}

/// The other load balancers (not the first route's), in the order the
/// routes first name them.
pub fn other_lbs(others: &[RouteRef], first_lb: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for r in others {
        let lb = lb_of(r, first_lb);
        if lb != first_lb && !out.contains(&lb) {
            out.push(lb);
        }
    }
    out
}

/// One other load balancer's groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbGroups {
    pub lb_arn: String,
    pub blue: String,
    pub green: TargetGroup,
}

/// A `--green` after the first, as given and as read.
pub struct GreenLive {
    pub given: String,
    pub group: Result<TargetGroup, AlbError>,
}

/// What the first route's preflight settled: its load balancer and groups.
pub struct First<'a> {
    pub lb: &'a str,
    pub blue: &'a str,
    pub green: &'a str,
}

/// Each other load balancer paired with its blue (what its first route
/// forwards to) and its green (`greens[j]` for `lbs[j]`).
pub fn pair(
    first: &First,
    lbs: &[String],
    greens: &[GreenLive],
    others: &[OtherLive],
) -> Result<Vec<LbGroups>, Vec<InputError>> {
    if greens.len() != lbs.len() {
        return Err(vec![count_error(first.lb, lbs, greens.len() + 1)]);
    }
    let blues: Vec<String> = (lbs.iter())
        .map(|lb| blue_of(lb, first.lb, others))
        .collect();
    let mut errors = vec![];
    let mut out = vec![];
    for (j, (lb, g)) in lbs.iter().zip(greens).enumerate() {
        let culprit = format!("--green {}", g.given);
        let green = match &g.group {
            Ok(t) => t,
            Err(e) => {
                errors.push(InputError::new(
                    culprit,
                    format!("could not be read ({e}); check the name or ARN and the region"),
                ));
                continue;
            }
        };
        let mut bad = |m: String| errors.push(InputError::new(culprit.clone(), m));
        if let Some(other) = green.load_balancer_arns.iter().find(|a| *a != lb) {
            bad(format!("is attached to load balancer {other}, but it is given as the green of {lb}: a target group serves one load balancer; give one --green per load balancer, in the order the routes' load balancers first appear"));
        }
        let is_blue = std::iter::once(first.blue).chain(blues.iter().map(String::as_str));
        if is_blue.into_iter().any(|b| b == green.arn) {
            bad("is also a blue of the run (a group a route forwards to now); give each load balancer a green of its own".into());
        }
        let earlier = greens[..j].iter().filter_map(|g| g.group.as_ref().ok());
        if green.arn == first.green || earlier.into_iter().any(|e| e.arn == green.arn) {
            bad("is given for two load balancers: a target group serves one load balancer".into());
        }
        out.push(LbGroups {
            lb_arn: lb.clone(),
            blue: blues[j].clone(),
            green: green.clone(),
        });
    }
    match errors.is_empty() {
        true => Ok(out),
        false => Err(errors),
    }
}

fn count_error(first_lb: &str, lbs: &[String], given: usize) -> InputError {
    let all: Vec<&str> = std::iter::once(first_lb)
        .chain(lbs.iter().map(String::as_str))
        .collect();
    let order = all.join(", then ");
    let msg = match given {
        1 => format!("one green for {} load balancers: a target group belongs to one load balancer, so each needs its own green. Give one --green per load balancer, in this order: {order}", all.len()),
        n if all.len() == 1 => format!("{n} given, but every route is on load balancer {order}: give one --green (one per load balancer)"),
        n => format!("{n} given, but the routes are on {} load balancers: give one --green per load balancer, in this order: {order}", all.len()),
    };
    InputError::new("--green", msg)
}

/// A load balancer's blue: what its first route forwards to (its one
/// serving group); `check` names a route that forwards elsewhere.
fn blue_of(lb: &str, first_lb: &str, others: &[OtherLive]) -> String {
    let first = others.iter().find(|o| lb_of(&o.route, first_lb) == lb);
    let serving = first.and_then(|o| match &o.action {
        Ok(RouteAction::Forward(f)) => {
            (f.groups.iter().find(|g| g.weight > 0)).map(|g| g.target_group_arn.clone())
        }
        _ => None,
    });
    serving.unwrap_or_else(|| format!("the group {lb}'s first route forwards to"))
}

#[cfg(test)]
#[path = "preflight_lbs_tests.rs"]
mod tests;
