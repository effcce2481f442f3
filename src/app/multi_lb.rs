//! A multi-route `canary` or `blue-green` whose routes are on several load
//! balancers: the other routes and the other `--green`s read (read-only
//! calls), each load balancer paired with its blue and green
//! (`preflight_lbs`), each route checked against its own load balancer's
//! pair (`preflight_routes`), and the plan spread over them through each
//! route's group map (`strategy::multi_route::spread_over`). Refused input
//! exits 2 before any mutating call. On one load balancer this is
//! `multi_route::others` unchanged.

use super::canary::Checked;
use crate::alb::{Forward, RouteRef};
use crate::analysis::collect::LbMetrics;
use crate::engine::Plan;
use crate::preflight::InputError;
use crate::preflight_lbs::{self as lbs, First, GreenLive, LbGroups};
use crate::preflight_routes::{check, OtherLive};
use crate::provider::MetricTarget;
use crate::strategy::multi_route::{spread_over, GroupMap, OtherLb};

/// The run's other routes, each with its groups, and the other load
/// balancers' pairs.
#[derive(Default)]
pub(super) struct Spread {
    pub others: Vec<(RouteRef, Forward)>,
    maps: Vec<GroupMap>,
    lbs: Vec<OtherLb>,
    pub pairs: Vec<LbGroups>,
}

impl Spread {
    pub fn spread(&self, plan: Plan) -> Plan {
        spread_over(plan, &self.others, &self.maps, &self.lbs)
    }

    /// Each other load balancer's green and blue, for CloudWatch.
    pub fn metrics(&self) -> Vec<LbMetrics> {
        (self.pairs.iter())
            .map(|p| LbMetrics {
                green_arn: p.green.arn.clone(),
                green: MetricTarget::from_arns(&p.green.arn, &p.lb_arn),
                blue: MetricTarget::from_arns(&p.blue, &p.lb_arn),
            })
            .collect()
    }
}

/// The other routes, read live and checked, each against its own load
/// balancer's blue and green.
pub(super) async fn others(
    c: &Checked,
    rest: &[RouteRef],
    greens: &[String],
    force: bool,
) -> Result<Spread, Vec<InputError>> {
    let v = &c.validated;
    let first_lb = v.load_balancer_arn.as_str();
    let other_lbs = lbs::other_lbs(rest, first_lb);
    if other_lbs.is_empty() && greens.len() <= 1 {
        let others = super::multi_route::others(c, rest, force).await?;
        return Ok(Spread {
            others,
            ..Spread::default()
        });
    }
    refuse_flags(c)?;
    let mut live = vec![];
    for route in rest {
        live.push(super::multi_route::read(c.lb.as_ref(), route).await);
    }
    let mut given = vec![];
    for g in greens.iter().skip(1) {
        let group = c.lb.target_group(g).await;
        given.push(GreenLive {
            given: g.clone(),
            group,
        });
    }
    let first = First {
        lb: first_lb,
        blue: &v.blue.arn,
        green: &v.green.arn,
    };
    let pairs = lbs::pair(&first, &other_lbs, &given, &live)?;
    per_route(c, &live, pairs, force)
}

/// Each route checked against its load balancer's pair, with its map.
fn per_route(
    c: &Checked,
    live: &[OtherLive],
    pairs: Vec<LbGroups>,
    force: bool,
) -> Result<Spread, Vec<InputError>> {
    let v = &c.validated;
    let first_lb = v.load_balancer_arn.as_str();
    let mut out = Spread::default();
    let mut errors = vec![];
    for (i, o) in live.iter().enumerate() {
        let lb = lbs::lb_of(&o.route, first_lb);
        let pair = pairs.iter().position(|p| p.lb_arn == lb);
        let (blue, green, map) = match pair.map(|j| &pairs[j]) {
            Some(p) => (
                p.blue.as_str(),
                p.green.arn.as_str(),
                GroupMap::of((&v.blue.arn, &p.blue), (&v.green.arn, &p.green.arn)),
            ),
            None => (
                v.blue.arn.as_str(),
                v.green.arn.as_str(),
                GroupMap::default(),
            ),
        };
        match check(blue, green, std::slice::from_ref(o), force) {
            Ok(mut ok) => out.others.extend(ok.pop()),
            Err(e) => errors.extend(e),
        }
        out.maps.push(map);
        // Green is attached on the first route of its load balancer.
        if let Some(j) = pair.filter(|&j| !out.lbs.iter().any(|l| l.green == pairs[j].green.arn)) {
            let p = &pairs[j];
            let routed = (o.action.as_ref().ok())
                .and_then(|a| a.as_forward())
                .is_some_and(|f| f.weight_of(&p.green.arn).is_some());
            out.lbs.push(OtherLb {
                route: i,
                blue: p.blue.clone(),
                green: p.green.arn.clone(),
                attach: !routed && !p.green.load_balancer_arns.contains(&p.lb_arn),
            });
        }
    }
    out.pairs = pairs;
    match errors.is_empty() {
        true => Ok(out),
        false => Err(errors),
    }
}

/// The flags that act on one green or one blue: with a green and a blue
/// per load balancer they would touch only the first pair, so they are
/// refused rather than half-applied.
fn refuse_flags(c: &Checked) -> Result<(), Vec<InputError>> {
    let p = &c.parsed;
    let mut errors = vec![];
    if !p.register.is_empty() {
        errors.push(InputError::new("--register", "is not supported when the routes are on several load balancers: each has its own green; register the new targets in every green before the run"));
    }
    if p.drain.is_some() {
        errors.push(InputError::new("--deregister-blue", "is not supported when the routes are on several load balancers: each has its own blue; deregister each blue's targets after the run"));
    }
    match errors.is_empty() {
        true => Ok(()),
        false => Err(errors),
    }
}
