//! `--deregister-blue BATCH`, the full deploy (`canary`, and `blue-green`
//! after `--keep-blue`): its flags checked without AWS, then blue's
//! targets read (DescribeTargetHealth) and cut into batches. The planner
//! (`strategy::drain_blue`) decides the rest.

use crate::alb::state_tags::{self, RunRecord};
use crate::alb::{LoadBalancerPort, Target};
use crate::cli::DrainArgs;
use crate::plan::parse_duration;
use crate::preflight::InputError;
use crate::preflight::Validated;
use crate::strategy::drain_blue::{batches, parse_batch, serving, BatchSize, BlueDrain};
use std::collections::BTreeMap;
use std::time::Duration;

/// The full deploy's flags, parsed.
#[derive(Debug, Clone, Copy)]
pub struct DrainFlags {
    pub size: BatchSize,
    pub settle: Duration,
}

/// The parsed drain flags and `--drain-timeout`.
pub struct Drain {
    pub flags: Option<DrainFlags>,
    pub timeout: Duration,
    /// `--settle`: also how long a revert waits after moving traffic
    /// before it removes targets.
    pub settle: Duration,
}

/// `flags` is `None` without `--deregister-blue`; errors name their flag.
pub fn parse(a: &DrainArgs) -> Result<Drain, Vec<InputError>> {
    let mut errors = Vec::new();
    let mut dur = |flag: &str, v: &str| {
        parse_duration(flag, v)
            .map_err(|e| errors.push(InputError::for_flag(flag, &e)))
            .ok()
    };
    let settle = dur("--settle", &a.settle);
    let timeout = dur("--drain-timeout", &a.drain_timeout);
    let size = a.deregister_blue.as_deref().map(|s| {
        parse_batch(s)
            .map_err(|e| errors.push(InputError::new("--deregister-blue", e)))
            .ok()
    });
    match (size, settle, timeout) {
        _ if !errors.is_empty() => Err(errors),
        (size, Some(settle), Some(timeout)) => Ok(Drain {
            flags: size.flatten().map(|size| DrainFlags { size, settle }),
            timeout,
            settle,
        }),
        _ => Err(errors),
    }
}

/// Blue's targets in batches, read live: the targets that serve (or may)
/// now; those already draining are not the run's to put back. A blue
/// without such targets has nothing to drain, which is not an error.
pub async fn plan(
    lb: &dyn LoadBalancerPort,
    v: &Validated,
    register: &[Target],
    flags: Option<DrainFlags>,
    check: Duration,
) -> Result<Option<BlueDrain>, InputError> {
    let Some(f) = flags else {
        return Ok(None);
    };
    let culprit = "--deregister-blue";
    let health = lb
        .target_health(&v.blue.arn)
        .await
        .map_err(|e| InputError::new(culprit, format!("blue's targets could not be read: {e}")))?;
    let leaving = serving(&health);
    let owner = v.route.owner_arn();
    let tags = lb.tags(owner).await.map_err(|e| {
        InputError::new(
            culprit,
            format!("the tags of {owner} could not be read: {e}"),
        )
    })?;
    record_fits(v, register, &leaving, &tags)?;
    Ok(Some(BlueDrain {
        batches: batches(&leaving, f.size),
        settle: f.settle,
        check,
    }))
}

/// The run record at its largest (every blue target listed as
/// deregistered, and the heartbeat) must fit on the route's owner beside
/// the user's tags: ELBv2 allows 50 per resource. Refused before any change.
fn record_fits(
    v: &Validated,
    register: &[Target],
    leaving: &[Target],
    tags: &BTreeMap<String, String>,
) -> Result<(), InputError> {
    let record = RunRecord {
        run_id: "r-0".into(),
        strategy: "canary".into(),
        started: 0,
        generation: 0,
        step: "starting".into(),
        green_arn: v.green.arn.clone(),
        original: v.original.clone(),
        registered: register.to_vec(),
        deregistered: None,
        rules: vec![],
    };
    let own = state_tags::encode(&record).len() + 1 + state_tags::deregistered_tag_count(leaving);
    let users = tags
        .keys()
        .filter(|k| !k.starts_with(state_tags::PREFIX))
        .count();
    if own + users <= crate::alb::target_codec::MAX_TAGS_PER_RESOURCE {
        return Ok(());
    }
    Err(InputError::new(
        "--deregister-blue",
        format!(
            "the run record needs {own} tags on {} to list blue's {} targets, beside its {users} other tags; ELBv2 allows {} per resource: remove some of its tags, or deregister blue in a later run",
            v.route.owner_arn(),
            leaving.len(),
            crate::alb::target_codec::MAX_TAGS_PER_RESOURCE
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::state_tags::parse_target;
    use crate::alb::{Forward, Listener, RouteAction, RouteRef, TargetGroup};

    fn group(name: &str) -> TargetGroup {
        TargetGroup {
            arn: format!("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/{name}/1"),
            name: name.into(),
            protocol: None,
            port: Some(80),
            vpc_id: None,
            target_type: "instance".into(),
            load_balancer_arns: vec![],
        }
    }

    fn validated() -> Validated {
        let blue = group("blue");
        let original = Forward::single(&blue.arn);
        Validated {
            route: RouteRef::new("arn:listener", None),
            lb_dns: None,
            listener: Listener {
                arn: "arn:listener".into(),
                load_balancer_arn: "arn:lb".into(),
                protocol: None,
                port: None,
                leading: vec![],
                default_action: RouteAction::Forward(original.clone()),
            },
            load_balancer_arn: "arn:lb".into(),
            original,
            blue,
            green: group("green"),
        }
    }

    #[test]
    fn a_full_blue_fits_beside_a_few_user_tags_and_is_refused_beside_many() {
        let blue: Vec<Target> = (0..1000u64)
            .map(|i| {
                parse_target(&format!(
                    "i-0{:016x}",
                    i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 4
                ))
            })
            .collect();
        let user = |n: usize| -> BTreeMap<String, String> {
            (0..n).map(|i| (format!("team{i}"), "x".into())).collect()
        };
        let v = validated();
        assert!(record_fits(&v, &[], &blue, &user(2)).is_ok());
        let e = record_fits(&v, &[], &blue, &user(20))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("1000 targets") && e.contains("20 other tags"),
            "{e}"
        );
        // Its own earlier record tags are not the user's.
        let mut own = user(2);
        own.insert("alb-rollout:run".into(), "r-1 canary 1".into());
        assert!(record_fits(&v, &[], &blue, &own).is_ok());
    }
}
