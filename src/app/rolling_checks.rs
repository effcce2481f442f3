//! Preflight checks of a rolling run that need the live group: its lock,
//! its type, whether CloudWatch can see it, and whether each new target
//! is of the kind the group takes (ELBv2 would refuse it mid-run).

use super::{locked, Live, Parsed};
use crate::alb::port::AlbResult;
use crate::alb::{HealthState, LoadBalancerPort, Target, TargetGroup};
use crate::cli::RollingArgs;
use crate::preflight::InputError;
use crate::strategy::rolling::{GROUP_LIMIT_WHY, MAX_TARGETS_PER_GROUP};
use std::net::IpAddr;

pub(super) fn group(a: &RollingArgs, p: &Parsed, live: &Live) -> Vec<InputError> {
    let g = &live.group;
    let culprit = format!("--target-group {}", g.arn);
    let mut errors = Vec::new();
    if let Some(why) = locked(&live.tags, &g.arn, a.force) {
        errors.push(InputError::new(&culprit, why));
    }
    if g.target_type == "lambda" {
        errors.push(InputError::new(
            &culprit,
            "is a Lambda group, which holds one function: deploy a new version with `canary` or `blue-green` between two groups",
        ));
    }
    if let Some(why) = unused(g, p.analysis.cloudwatch) {
        errors.push(InputError::new(&culprit, why));
    }
    errors
}

/// AWS fills LoadBalancerArns only while a listener or rule forwards to
/// the group, and health-checks only such groups: every target reads
/// `unused` (Target.NotInUse), so no new target could turn healthy and the
/// first round would wait out --health-timeout before reverting.
fn unused(g: &TargetGroup, cloudwatch: bool) -> Option<String> {
    if !g.load_balancer_arns.is_empty() {
        return None;
    }
    let mut why = String::from(
        "is not used by any listener or rule, so AWS does not health-check its targets (they \
         read unused, Target.NotInUse) and no new target can turn healthy: forward a listener \
         or rule to it first (at weight 0 if it must get no traffic yet)",
    );
    if cloudwatch {
        why.push_str("; CloudWatch has no metrics for it either");
    }
    Some(why)
}

/// ELBv2 allows 1,000 targets per group and 1,000 per load balancer,
/// counted across its groups (a target in two groups counts twice, a
/// draining one until it is gone): the room the group has is the tighter
/// of the two, on every load balancer it is attached to. One
/// DescribeTargetHealth per other group.
pub(super) async fn room(lb: &dyn LoadBalancerPort, g: &TargetGroup) -> AlbResult<(usize, String)> {
    let mut best = (MAX_TARGETS_PER_GROUP, GROUP_LIMIT_WHY.to_string());
    for balancer in &g.load_balancer_arns {
        let mut others = 0;
        for arn in lb.target_groups_of(balancer).await? {
            if arn == g.arn {
                continue;
            }
            let health = lb.target_health(&arn).await?;
            others += health
                .iter()
                .filter(|h| h.state != HealthState::Unused)
                .count();
        }
        let left = MAX_TARGETS_PER_GROUP.saturating_sub(others);
        if left < best.0 {
            best = (
                left,
                format!("ELBv2's 1,000 per load balancer, {others} of them in the other groups of {balancer}"),
            );
        }
    }
    Ok(best)
}

/// A new target must be of the group's type: an instance ID for
/// `instance`, an IP address for `ip`, a load balancer ARN for `alb`; a
/// port, when given, in 1-65535.
pub(super) fn target_kinds(g: &TargetGroup, add: &[Target]) -> Vec<InputError> {
    add.iter()
        .filter_map(|t| {
            let kind_ok = match g.target_type.as_str() {
                "instance" => is_instance_id(&t.id),
                "ip" => t.id.parse::<IpAddr>().is_ok(),
                "alb" => t.id.starts_with("arn:"),
                _ => true,
            };
            let port_ok = t.port.is_none_or(|p| (1..=65535).contains(&p));
            let why = match (kind_ok, port_ok) {
                (true, true) => return None,
                (false, _) => format!(
                    "is not a target of a group of type {} ({})",
                    g.target_type,
                    match g.target_type.as_str() {
                        "instance" => "give an instance ID like i-0123456789abcdef0",
                        "ip" => "give an IP address, optionally with :port",
                        _ => "give a load balancer ARN",
                    }
                ),
                (true, false) => "has a port outside 1-65535".to_string(),
            };
            Some(InputError::new(format!("--add {t}"), why))
        })
        .collect()
}

fn is_instance_id(id: &str) -> bool {
    id.strip_prefix("i-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17) && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::state_tags::parse_target;

    fn group(kind: &str) -> TargetGroup {
        TargetGroup {
            arn: "tg".into(),
            name: "tg".into(),
            protocol: None,
            port: Some(80),
            vpc_id: None,
            target_type: kind.into(),
            load_balancer_arns: vec![],
        }
    }

    #[test]
    fn new_targets_must_be_of_the_groups_kind() {
        let table = [
            ("instance", "i-0123456789abcdef0", true),
            ("instance", "i-01234567", true),
            ("instance", "i-0123", false),
            ("instance", "10.0.0.1", false),
            ("ip", "10.0.0.1:8080", true),
            ("ip", "fd00::1", true),
            ("ip", "i-01234567", false),
            ("ip", "10.0.0.1:0", false),
            ("ip", "10.0.0.1:70000", false),
            (
                "alb",
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/a/1",
                true,
            ),
        ];
        for (kind, t, ok) in table {
            let errors = target_kinds(&group(kind), &[parse_target(t)]);
            assert_eq!(errors.is_empty(), ok, "{kind} {t}: {errors:?}");
            if !ok {
                assert!(errors[0].to_string().contains(t), "{errors:?}");
            }
        }
    }

    #[test]
    fn a_group_nothing_forwards_to_is_refused_because_aws_never_checks_its_targets() {
        let detached = group("ip");
        let why = unused(&detached, false).expect("refused");
        assert!(why.contains("Target.NotInUse"), "{why}");
        assert!(!why.contains("CloudWatch"), "{why}");
        assert!(unused(&detached, true).unwrap().contains("CloudWatch"));
        let used = TargetGroup {
            load_balancer_arns: vec!["lb".into()],
            ..group("ip")
        };
        assert_eq!(unused(&used, true), None);
    }

    #[tokio::test]
    async fn the_room_is_the_tighter_of_the_group_and_load_balancer_limits() {
        use crate::alb::fake::*;
        let fake = FakeLoadBalancer::demo();
        let blue = fake.target_group(DEMO_BLUE).await.unwrap();
        let (n, why) = room(&fake, &blue).await.unwrap();
        assert_eq!((n, why.as_str()), (1000, GROUP_LIMIT_WHY));
        // Green joins the same load balancer with 300 targets (one leaving
        // still counts): blue has room for 700.
        fake.attach(DEMO_GREEN, DEMO_LB);
        fake.clear_targets(DEMO_GREEN);
        for i in 0..300 {
            let state = if i == 0 {
                HealthState::Draining
            } else {
                HealthState::Healthy
            };
            fake.set_health(DEMO_GREEN, &format!("10.1.{}.{}", i / 250, i % 250), state);
        }
        let (n, why) = room(&fake, &blue).await.unwrap();
        assert_eq!(n, 700);
        assert!(why.contains("300 of them in the other groups"), "{why}");
    }
}
