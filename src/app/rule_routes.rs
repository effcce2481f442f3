//! The routes of `ab` and `dark` (`--listener`/`--rule`, each repeatable):
//! where each route's rule goes (`place`: after every rule of a listener
//! whose default action it splits, just before a `--rule` it splits, with
//! that rule's conditions merged in), and the other routes read (read-only
//! calls) and checked: on the first route's load balancer (a target group
//! belongs to one load balancer), forwarding to the same blue alone
//! (`preflight_routes`), their login copyable. Refused input exits 2
//! before any mutating call, naming the route.

use super::multi_route::{read, rule_of};
use crate::alb::{Condition, LeadingAction, LoadBalancerPort, RouteRef, Rule};
use crate::preflight::{InputError, Validated};
use crate::preflight_routes::check;
use crate::strategy::ab::RouteRule;
use crate::strategy::rule_split::merged_conditions;
use crate::strategy::rules::{choose_before, choose_last, rules_shadowed};
use crate::strategy::rules_render::match_line;

/// Where a route's rule goes, what it matches, which login it carries,
/// and a warning about the rules it is evaluated before.
pub(super) struct Placed {
    pub priority: u32,
    pub conditions: Vec<Condition>,
    pub leading: Vec<LeadingAction>,
    pub warning: Option<String>,
}

/// Place the rule of `route` among its listener's `existing` rules;
/// `default_leading`: the listener default action's login steps.
pub(super) fn place(
    existing: &[Rule],
    route: &RouteRef,
    default_leading: &[LeadingAction],
    own: &[Condition],
    requested: Option<u32>,
) -> Result<Placed, InputError> {
    let Some(rule_arn) = rule_of(route) else {
        let culprit = match requested {
            Some(p) => format!("--priority {p}"),
            None => format!("--listener {}", route.listener_arn()),
        };
        let p = choose_last(existing, requested).map_err(|e| InputError::new(&culprit, e))?;
        return Ok(Placed {
            priority: p,
            conditions: own.to_vec(),
            leading: default_leading.to_vec(),
            warning: shadow_warning(existing, p),
        });
    };
    let culprit = format!("--rule {rule_arn}");
    if let Some(p) = requested {
        let why = format!("--priority {p} cannot place a rule that splits --rule {rule_arn}: it goes just before that rule; leave --priority out");
        return Err(InputError::new("--priority", why));
    }
    let Some(split) = existing.iter().find(|r| r.arn == rule_arn) else {
        let why = format!("is not a rule of listener {}", route.listener_arn());
        return Err(InputError::new(&culprit, why));
    };
    let p = choose_before(existing, rule_arn).map_err(|e| InputError::new(&culprit, e))?;
    let conditions = merged_conditions(rule_arn, &split.conditions, own)
        .map_err(|e| InputError::new(&culprit, e))?;
    Ok(Placed {
        priority: p,
        conditions,
        leading: split.leading.clone(),
        warning: None,
    })
}

/// The rules a rule at `p` is evaluated before, if any, in words.
fn shadow_warning(existing: &[Rule], p: u32) -> Option<String> {
    let shadowed: Vec<String> = rules_shadowed(existing, p)
        .iter()
        .map(|r| format!("priority {} ({})", r.priority, match_line(&r.conditions)))
        .collect();
    (!shadowed.is_empty()).then(|| {
        format!(
            "the new rule takes priority {p}, before these rules: a request it matches goes to green even when one of them matches it too: {}",
            shadowed.join("; ")
        )
    })
}

/// Blue when not given: the group the first route forwards the most to.
/// `None` when the route cannot say (preflight names why).
pub(super) async fn default_blue(lb: &dyn LoadBalancerPort, route: &RouteRef) -> Option<String> {
    let action = lb.read_route(route).await.ok()?;
    let f = action.as_forward()?;
    f.groups
        .iter()
        .max_by_key(|g| g.weight)
        .map(|g| g.target_group_arn.clone())
}

/// The flag that names a route: `--rule` for a rule, else `--listener`.
pub(super) fn first_flag(r: &RouteRef) -> String {
    match rule_of(r) {
        Some(rule) => format!("--rule {rule}"),
        None => "--listener".to_string(),
    }
}

/// What placing the run's rules needs from the flags and the first route.
pub(super) struct Routed<'a> {
    /// Every route, the first one the run's own.
    pub routes: &'a [RouteRef],
    /// The first route's listener default action's login (`None`: the
    /// listener could not be read, which its own check reports).
    pub leading: Option<&'a [LeadingAction]>,
    pub own: &'a [Condition],
    pub priority: Option<u32>,
    pub force: bool,
    pub has_secret: bool,
}

type Errors = Vec<InputError>;

/// The first route's rule placed, and the other routes checked with
/// theirs (`v`: the first route's checks passed).
pub(super) async fn rules(
    lb: &dyn LoadBalancerPort,
    v: Option<&Validated>,
    r: &Routed<'_>,
) -> (Result<Placed, Errors>, Result<Vec<RouteRule>, Errors>) {
    let (Some(first), Some(leading)) = (r.routes.first(), r.leading) else {
        return (Err(vec![]), Err(vec![]));
    };
    let placed = place_first(lb, first, leading, r).await;
    let others = match v {
        Some(v) => others(lb, v, &r.routes[1..], r.own, r.force, r.has_secret).await,
        None => Err(vec![]),
    };
    (placed, others)
}

/// The first route's rule placed, its login copyable.
async fn place_first(
    lb: &dyn LoadBalancerPort,
    first: &RouteRef,
    default_leading: &[LeadingAction],
    r: &Routed<'_>,
) -> Result<Placed, Errors> {
    // The listener's lookup error is reported by the route's checks.
    let existing = lb.rules(first.listener_arn()).await.map_err(|_| vec![])?;
    let p = place(&existing, first, default_leading, r.own, r.priority).map_err(|e| vec![e])?;
    let secret = r.has_secret.then_some("");
    match super::rule_run::secret_check(&p.leading, secret, &first_flag(first)) {
        Some(e) => Err(vec![e]),
        None => Ok(p),
    }
}

/// The other routes, read and checked, each with its rule placed; every
/// problem at once.
async fn others(
    lb: &dyn LoadBalancerPort,
    v: &Validated,
    rest: &[RouteRef],
    own: &[Condition],
    force: bool,
    has_secret: bool,
) -> Result<Vec<RouteRule>, Vec<InputError>> {
    let mut errors = vec![];
    let mut live = vec![];
    for route in rest {
        match same_load_balancer(lb, &v.load_balancer_arn, &v.green.arn, route).await {
            Ok(()) => live.push(read(lb, route).await),
            Err(e) => errors.push(e),
        }
    }
    let checked = check(&v.blue.arn, &v.green.arn, &live, force).unwrap_or_else(|e| {
        errors.extend(e);
        vec![]
    });
    let mut out = vec![];
    for (route, original) in checked {
        match placed(lb, &route, own).await {
            Ok(p) => {
                let secret = has_secret.then_some("");
                let culprit = route.owner_arn().to_string();
                errors.extend(super::rule_run::secret_check(&p.leading, secret, &culprit));
                if let Some(w) = &p.warning {
                    eprintln!("warning: on {}: {w}", route.listener_arn());
                }
                out.push(RouteRule {
                    route,
                    original,
                    priority: p.priority,
                    conditions: p.conditions,
                    leading: p.leading,
                });
            }
            Err(e) => errors.push(e),
        }
    }
    match errors.is_empty() {
        true => Ok(out),
        false => Err(errors),
    }
}

/// A route on another load balancer is refused: the run's rules all
/// forward to green, and a target group belongs to one load balancer.
async fn same_load_balancer(
    lb: &dyn LoadBalancerPort,
    first_lb: &str,
    green: &str,
    route: &RouteRef,
) -> Result<(), InputError> {
    let l = route.listener_arn();
    let culprit = format!("--listener {l}");
    let listener = lb.listener(l).await.map_err(|e| {
        InputError::new(
            &culprit,
            format!("could not be read ({e}); check the ARN and the region"),
        )
    })?;
    if listener.load_balancer_arn == first_lb {
        return Ok(());
    }
    Err(InputError::new(
        culprit,
        format!(
            "is on load balancer {}, not on {} where the first route is: every rule of the run forwards to green {}, and a target group belongs to one load balancer; run ab or dark once per load balancer",
            listener.load_balancer_arn, first_lb, green
        ),
    ))
}

/// Another route's rule placed among its listener's rules.
async fn placed(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    own: &[Condition],
) -> Result<Placed, InputError> {
    let l = route.listener_arn();
    let culprit = route.owner_arn().to_string();
    let unread = |e: crate::alb::AlbError| {
        InputError::new(
            &culprit,
            format!("the rules of listener {l} could not be read: {e}"),
        )
    };
    let existing = lb.rules(l).await.map_err(unread)?;
    let listener = lb.listener(l).await.map_err(unread)?;
    place(&existing, route, &listener.leading, own, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::RouteAction;

    const L: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/demo/abc/l1";
    const R: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/demo/abc/l1/r1";

    fn rule(arn: &str, priority: &str, path: &str) -> Rule {
        Rule {
            arn: arn.into(),
            priority: priority.into(),
            is_default: false,
            conditions: vec![Condition {
                field: "path-pattern".into(),
                values: vec![path.into()],
                ..Default::default()
            }],
            leading: vec![],
            action: RouteAction::Forward(crate::alb::Forward::single("blue")),
        }
    }

    fn header() -> Vec<Condition> {
        vec![Condition {
            field: "http-header".into(),
            key: Some("X-Variant".into()),
            values: vec!["b".into()],
            ..Default::default()
        }]
    }

    #[tokio::test]
    async fn a_route_on_another_load_balancer_is_refused_naming_it() {
        use crate::alb::fake::{FakeLoadBalancer, DEMO_BLUE, DEMO_GREEN, DEMO_LB, DEMO_LISTENER};
        let lb = FakeLoadBalancer::demo();
        let other_lb =
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other/2";
        let other = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/other/2/l9";
        lb.add_load_balancer(other_lb, "vpc-1");
        let fwd = RouteAction::Forward(crate::alb::Forward::single(DEMO_BLUE));
        lb.add_listener(other, other_lb, fwd);
        let same = RouteRef::new(DEMO_LISTENER, None);
        assert!(same_load_balancer(&lb, DEMO_LB, DEMO_GREEN, &same)
            .await
            .is_ok());
        let e = same_load_balancer(&lb, DEMO_LB, DEMO_GREEN, &RouteRef::new(other, None))
            .await
            .unwrap_err();
        assert_eq!(e.culprit, format!("--listener {other}"));
        assert!(
            e.message
                .contains("a target group belongs to one load balancer"),
            "{}",
            e.message
        );
        assert!(lb.mutating_calls().is_empty());
    }

    #[test]
    fn a_default_route_gets_a_rule_after_every_other_one() {
        let existing = [rule(R, "10", "/api/*")];
        let p = place(&existing, &RouteRef::new(L, None), &[], &header(), None).unwrap();
        assert!(p.priority > 10, "{}", p.priority);
        assert_eq!(p.conditions, header());
    }

    #[test]
    fn a_rule_route_gets_a_rule_just_before_it_with_its_conditions() {
        let existing = [rule(R, "10", "/api/*")];
        let p = place(&existing, &RouteRef::new(L, Some(R)), &[], &header(), None).unwrap();
        assert_eq!(p.priority, 9);
        assert_eq!(p.conditions.len(), 2);
        assert_eq!(p.conditions[0].field, "path-pattern");
        let e = place(
            &existing,
            &RouteRef::new(L, Some(R)),
            &[],
            &header(),
            Some(3),
        )
        .err()
        .unwrap();
        assert_eq!(e.culprit, "--priority");
    }
}
