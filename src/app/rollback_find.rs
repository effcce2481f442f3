//! Which record `rollback` acts on, from whatever the recovery step knows.
//! A run records itself where it works: a canary on the listener (or the
//! rule) it shifts, a rolling run on its target group. A step that names
//! the listener of a rolling run's group, or a canary's green or blue
//! group, would otherwise find nothing there and say "nothing to roll
//! back" while the run's record sits one hop away. So when the named
//! place holds no record, `locate` looks where one can be reached from it
//! (a listener's rules and the groups its routes forward to; a rule's
//! listener and the groups it forwards to; a group's
//! listeners and rules that forward to it, or whose record names it) and
//! acts on the one record it finds, or refuses naming each one's flags.
//! The places one hop away are read together, 20 ARNs a DescribeTags.

use crate::alb::port::tags_all;
use crate::alb::state_tags::{self, RunRecord};
use crate::alb::{group_record, LoadBalancerPort, RouteAction, RouteRef};
use crate::cli::RollbackArgs;
use std::collections::BTreeMap;

/// Where a record lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Route(RouteRef),
    Group(String),
}

impl Place {
    pub fn owner(&self) -> &str {
        match self {
            Place::Route(r) => r.owner_arn(),
            Place::Group(g) => g,
        }
    }

    /// The flags that name this place to `rollback`.
    pub fn flags(&self) -> String {
        match self {
            Place::Route(RouteRef::ListenerDefault { listener_arn }) => {
                format!("--listener {listener_arn}")
            }
            Place::Route(RouteRef::Rule {
                listener_arn,
                rule_arn,
            }) => format!("--listener {listener_arn} --rule {rule_arn}"),
            Place::Group(g) => format!("--target-group {g}"),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Place::Route(RouteRef::ListenerDefault { listener_arn }) => {
                format!("listener {listener_arn}")
            }
            Place::Route(RouteRef::Rule { rule_arn, .. }) => format!("rule {rule_arn}"),
            Place::Group(g) => format!("target group {g}"),
        }
    }

    /// The run id of the record of this place's kind in `tags`; a damaged
    /// record still counts (its run key is there), so it is never skipped.
    pub fn run_of(&self, tags: &BTreeMap<String, String>) -> Option<String> {
        let damaged = || {
            tags.get(state_tags::RUN)
                .map(|_| "(damaged record)".to_string())
        };
        match self {
            Place::Route(_) => match state_tags::decode(tags) {
                Ok(r) => r.map(|r| r.run_id),
                Err(_) => damaged(),
            },
            Place::Group(_) => match group_record::decode(tags) {
                Ok(r) => r.map(|r| r.run_id),
                Err(_) => damaged(),
            },
        }
    }
}

/// A record found, with the tags it was read from.
#[derive(Debug, Clone)]
pub struct Found {
    pub place: Place,
    pub run_id: String,
    pub tags: BTreeMap<String, String>,
}

/// Pick among the records reachable from `named` (which holds none): one
/// is acted on, several are refused with each one's flags.
pub fn choose(named: &str, mut found: Vec<Found>) -> Result<Option<Found>, String> {
    found.dedup_by(|a, b| a.place == b.place);
    if found.len() <= 1 {
        return Ok(found.pop());
    }
    let each: Vec<String> = found
        .iter()
        .map(|f| {
            format!(
                "run {} is recorded on {}: pass {}",
                f.run_id,
                f.place.describe(),
                f.place.flags()
            )
        })
        .collect();
    Err(format!(
        "no run is recorded on {named} itself, but {} runs are reachable from it; roll back each by its own flags: {}",
        found.len(),
        each.join("; ")
    ))
}

/// The place the flags name.
pub fn named(a: &RollbackArgs, group_arn: Option<&str>) -> Option<Place> {
    if let Some(g) = group_arn {
        return Some(Place::Group(g.to_string()));
    }
    let l = a.listener.as_deref()?;
    Some(Place::Route(RouteRef::new(l, a.rule.as_deref())))
}

/// Read `place`'s tags; a record there is `Some`.
async fn at(lb: &dyn LoadBalancerPort, place: Place) -> Result<Option<Found>, String> {
    let tags = lb.tags(place.owner()).await.map_err(|e| e.to_string())?;
    Ok(place.run_of(&tags).map(|run_id| Found {
        place,
        run_id,
        tags,
    }))
}

/// The records at `places`, their tags read 20 ARNs a DescribeTags (a
/// listener's rules and groups, all at once).
async fn at_all(lb: &dyn LoadBalancerPort, places: Vec<Place>) -> Result<Vec<Found>, String> {
    let arns: Vec<String> = places.iter().map(|p| p.owner().to_string()).collect();
    let tags = tags_all(lb, &arns).await.map_err(|e| e.to_string())?;
    Ok((places.into_iter())
        .filter_map(|place| {
            let tags = tags.get(place.owner()).cloned().unwrap_or_default();
            let run_id = place.run_of(&tags)?;
            Some(Found {
                place,
                run_id,
                tags,
            })
        })
        .collect())
}

/// The record at the named place, or the one reachable from it. For a
/// group, `load_balancers` are those it is attached to.
pub async fn locate(
    lb: &dyn LoadBalancerPort,
    place: &Place,
    load_balancers: &[String],
) -> Result<Option<Found>, String> {
    if let Some(f) = at(lb, place.clone()).await? {
        return Ok(Some(f));
    }
    let found = match place {
        Place::Group(g) => routes_of_group(lb, g, load_balancers).await?,
        _ => at_all(lb, reachable(lb, place).await?).await?,
    };
    choose(&place.describe(), found)
}

/// A route's record concerns group `g` when the route forwards to it now
/// or the record names it (green, or in the original forward).
fn concerns(r: &RunRecord, forwards: &[String], g: &str) -> bool {
    forwards.iter().any(|f| f == g)
        || r.green_arn == g
        || r.original.groups.iter().any(|w| w.target_group_arn == g)
}

fn forwards_to(action: &RouteAction) -> Vec<String> {
    action.as_forward().map_or(vec![], |f| {
        f.groups
            .iter()
            .map(|g| g.target_group_arn.clone())
            .collect()
    })
}

/// The places one hop from a route where a record may be: a listener's
/// rules, and the groups its routes forward to; a rule's listener default
/// action, and the groups the rule forwards to.
async fn reachable(lb: &dyn LoadBalancerPort, place: &Place) -> Result<Vec<Place>, String> {
    let err = |e: crate::alb::AlbError| e.to_string();
    match place {
        Place::Route(RouteRef::ListenerDefault { listener_arn }) => {
            let mut out = vec![];
            let mut groups = vec![];
            for r in lb.rules(listener_arn).await.map_err(err)? {
                groups.extend(forwards_to(&r.action));
                if !r.is_default {
                    out.push(Place::Route(RouteRef::new(listener_arn, Some(&r.arn))));
                }
            }
            groups.sort();
            groups.dedup();
            out.extend(groups.into_iter().map(Place::Group));
            Ok(out)
        }
        Place::Route(r) => {
            // A rule's listener too: the run may be on its default action.
            let mut out = vec![Place::Route(RouteRef::new(r.listener_arn(), None))];
            let action = lb.read_route(r).await.map_err(err)?;
            out.extend(forwards_to(&action).into_iter().map(Place::Group));
            Ok(out)
        }
        Place::Group(_) => Ok(vec![]),
    }
}

/// Route records that concern `group`: on each listener of each load
/// balancer it is attached to, the default action and every rule.
async fn routes_of_group(
    lb: &dyn LoadBalancerPort,
    group: &str,
    load_balancers: &[String],
) -> Result<Vec<Found>, String> {
    let err = |e: crate::alb::AlbError| e.to_string();
    let (mut places, mut forwards) = (vec![], BTreeMap::new());
    for lb_arn in load_balancers {
        for l in lb.listeners_of(lb_arn).await.map_err(err)? {
            for r in lb.rules(&l).await.map_err(err)? {
                let rule = (!r.is_default).then_some(r.arn.as_str());
                let place = Place::Route(RouteRef::new(&l, rule));
                forwards.insert(place.owner().to_string(), forwards_to(&r.action));
                places.push(place);
            }
        }
    }
    let found = at_all(lb, places).await?;
    Ok((found.into_iter())
        .filter(|f| {
            let fwd = forwards.get(f.place.owner()).map_or(&[][..], Vec::as_slice);
            !matches!(state_tags::decode(&f.tags), Ok(Some(rec)) if !concerns(&rec, fwd, group))
        })
        .collect())
}

#[cfg(test)]
#[path = "rollback_find_tests.rs"]
mod tests;
