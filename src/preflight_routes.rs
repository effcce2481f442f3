//! Preflight of a multi-route run's other routes (pure): each must forward
//! to the same blue as the first route, and nothing else, and carry no
//! other run's record (`--force` skips only that check). Every problem at
//! once, each naming its route: exit 2, nothing changed.

use crate::alb::state_tags::RunRecord;
use crate::alb::{AlbError, Forward, RouteAction, RouteRef};
use crate::preflight::InputError;

/// What was read of one other route.
pub struct OtherLive {
    pub route: RouteRef,
    pub action: Result<RouteAction, AlbError>,
    pub record: Result<Option<RunRecord>, String>,
}

/// The other routes with their originals, or why the run is refused.
pub fn check(
    blue: &str,
    green: &str,
    others: &[OtherLive],
    force: bool,
) -> Result<Vec<(RouteRef, Forward)>, Vec<InputError>> {
    let mut errors = vec![];
    let mut out = vec![];
    for o in others {
        let who = o.route.owner_arn().to_string();
        let f = match &o.action {
            Ok(RouteAction::Forward(f)) => f,
            Ok(RouteAction::Other { action_type }) => {
                errors.push(InputError::new(who, format!("the {} is a {action_type} action, not a forward to blue {blue}: every route of the run must forward to the same blue", o.route)));
                continue;
            }
            Err(e) => {
                errors.push(InputError::new(
                    who,
                    format!(
                        "the {} could not be read ({e}); check the ARN and the region",
                        o.route
                    ),
                ));
                continue;
            }
        };
        let serving: Vec<&str> = (f.groups.iter())
            .filter(|g| g.weight > 0)
            .map(|g| g.target_group_arn.as_str())
            .collect();
        if serving != [blue] || f.weight_of(green).is_some() {
            errors.push(InputError::new(who, format!("the {} forwards to {}, not to blue {blue} alone: every route of the run must forward to the same blue (leave this route out, or deploy it on its own)", o.route, crate::preflight::describe_groups(f))));
            continue;
        }
        match &o.record {
            Ok(Some(r)) if !force => errors.push(InputError::new(who, format!("run {} ({}) is recorded on the {}; wait for it, or if it crashed run `{}` (--force skips only this check)", r.run_id, r.strategy, o.route, rollback_command(&o.route)))),
            Err(e) if !force => errors.push(InputError::new(who, format!("carries a damaged alb-rollout run record ({e}); inspect its tags, or pass --force"))),
            _ => out.push((o.route.clone(), f.clone())),
        }
    }
    match errors.is_empty() {
        true => Ok(out),
        false => Err(errors),
    }
}

fn rollback_command(r: &RouteRef) -> String {
    crate::engine::Scope::Route(r.clone()).rollback_command()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(action: RouteAction) -> OtherLive {
        OtherLive {
            route: RouteRef::new("listener/443", None),
            action: Ok(action),
            record: Ok(None),
        }
    }

    #[test]
    fn a_second_route_that_forwards_elsewhere_is_refused_naming_it() {
        let elsewhere = live(RouteAction::Forward(Forward::single("tg/other")));
        let e = check("tg/blue", "tg/green", &[elsewhere], false).unwrap_err();
        assert_eq!(e[0].culprit, "listener/443");
        assert!(e[0].message.contains("tg/blue"), "{}", e[0].message);
        let split = live(RouteAction::Forward(Forward::weighted(&[
            ("tg/blue", 90),
            ("tg/green", 10),
        ])));
        assert!(check("tg/blue", "tg/green", &[split], false).is_err());
        let redirect = live(RouteAction::Other {
            action_type: "redirect".into(),
        });
        assert!(check("tg/blue", "tg/green", &[redirect], false).is_err());
    }

    #[test]
    fn a_second_route_on_the_same_blue_is_taken_with_its_original() {
        let sticky = Forward::weighted(&[("tg/blue", 1), ("tg/old", 0)]);
        let ok = check(
            "tg/blue",
            "tg/green",
            &[live(RouteAction::Forward(sticky.clone()))],
            false,
        );
        assert_eq!(ok.unwrap()[0].1, sticky);
    }
}
