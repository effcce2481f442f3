//! `--listener` and `--rule` given more than once (`canary`, `blue-green`):
//! the routes a run moves as one, pure. Each `--rule` belongs to the
//! listener its ARN names (`listener-rule/app/NAME/LB/LISTENER/RULE` is on
//! `listener/app/NAME/LB/LISTENER`), which must be one of the `--listener`
//! values; a `--listener` none of the rules is on moves its default action.
//! The first route is the run's own (its record holds the run's step);
//! the rest are its other routes.

use crate::alb::RouteRef;
use crate::preflight::InputError;

/// The listener a rule ARN is on, from the ARN alone.
pub fn listener_of_rule(rule_arn: &str) -> Option<String> {
    let (head, path) = rule_arn.split_once(":listener-rule/")?;
    let (listener_path, rule_id) = path.rsplit_once('/')?;
    (!rule_id.is_empty() && listener_path.matches('/').count() == 3)
        .then(|| format!("{head}:listener/{listener_path}"))
}

/// The run's routes, first route first; every problem at once.
pub fn routes(listeners: &[String], rules: &[String]) -> Result<Vec<RouteRef>, Vec<InputError>> {
    let mut errors = vec![];
    let mut out: Vec<RouteRef> = vec![];
    let mut with_rules: Vec<String> = vec![];
    for rule in rules {
        let on = match listener_of_rule(rule) {
            Some(l) => l,
            // A single `--rule` beside a single `--listener` is the
            // one-route form: the listener is the one given.
            None if rules.len() == 1 && listeners.len() == 1 => listeners[0].clone(),
            None => {
                errors.push(InputError::new(
                    "--rule",
                    format!("{rule} is not a rule ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/NAME/LB/LISTENER/RULE): with several routes each --rule must name its listener"),
                ));
                continue;
            }
        };
        if !listeners.contains(&on) {
            errors.push(InputError::new(
                "--rule",
                format!("{rule} is on listener {on}, which no --listener names: give --listener {on} too"),
            ));
            continue;
        }
        with_rules.push(on.clone());
        push_once(&mut out, RouteRef::new(&on, Some(rule)), &mut errors);
    }
    for l in listeners.iter().filter(|l| !with_rules.contains(l)) {
        push_once(&mut out, RouteRef::new(l, None), &mut errors);
    }
    // The first --listener's route comes first: it is the run's own.
    if let Some(first) = listeners.first() {
        if let Some(i) = out.iter().position(|r| r.listener_arn() == first) {
            let r = out.remove(i);
            out.insert(0, r);
        }
    }
    match errors.is_empty() {
        true => Ok(out),
        false => Err(errors),
    }
}

fn push_once(out: &mut Vec<RouteRef>, r: RouteRef, errors: &mut Vec<InputError>) {
    match out.contains(&r) {
        true => errors.push(InputError::new(
            r.owner_arn(),
            "is given twice: name each route once",
        )),
        false => out.push(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L1: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/demo/abc/l1";
    const L2: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/demo/abc/l2";
    const R1: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/demo/abc/l1/r1";

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_rule_belongs_to_the_listener_its_arn_names() {
        assert_eq!(listener_of_rule(R1).as_deref(), Some(L1));
        assert_eq!(listener_of_rule("rule-1"), None);
        let r = routes(&s(&[L1, L2]), &s(&[R1])).unwrap();
        assert_eq!(
            r,
            vec![RouteRef::new(L1, Some(R1)), RouteRef::new(L2, None)]
        );
    }

    #[test]
    fn one_listener_and_one_rule_stay_the_one_route_form() {
        let r = routes(&s(&[L1]), &s(&["my-rule"])).unwrap();
        assert_eq!(r, vec![RouteRef::new(L1, Some("my-rule"))]);
        assert_eq!(
            routes(&s(&[L1]), &[]).unwrap(),
            vec![RouteRef::new(L1, None)]
        );
    }

    #[test]
    fn a_rule_on_a_listener_not_given_is_refused_naming_it() {
        let e = routes(&s(&[L2]), &s(&[R1])).unwrap_err();
        assert_eq!(e[0].culprit, "--rule");
        assert!(e[0].message.contains(L1), "{}", e[0].message);
        let twice = routes(&s(&[L1, L1]), &[]).unwrap_err();
        assert_eq!(twice[0].culprit, L1);
    }
}
