//! `LoadBalancerPort` for the fake: each call logs, lags, maybe faults, then
//! acts on the in-memory state the way ELBv2 would.

use super::*;
use crate::alb::NewRule;

#[async_trait]
impl LoadBalancerPort for FakeLoadBalancer {
    async fn listener(&self, arn: &str) -> AlbResult<Listener> {
        self.enter("DescribeListeners", arn).await?;
        self.with(|s| s.listeners.get(arn).cloned())
            .ok_or_else(|| not_found("DescribeListeners", arn))
    }

    async fn load_balancer(&self, arn: &str) -> AlbResult<LoadBalancer> {
        self.enter("DescribeLoadBalancers", arn).await?;
        self.with(|s| s.lbs.get(arn).cloned())
            .ok_or_else(|| not_found("DescribeLoadBalancers", arn))
    }

    async fn rules(&self, listener_arn: &str) -> AlbResult<Vec<Rule>> {
        self.enter("DescribeRules", listener_arn).await?;
        self.with(|s| {
            let l = s.listeners.get(listener_arn)?;
            let mut rules: Vec<Rule> = s
                .rule_listener
                .iter()
                .filter(|(_, lis)| *lis == listener_arn)
                .filter_map(|(r, _)| s.rules.get(r).cloned())
                .collect();
            rules.sort_by_key(|r| r.priority.parse::<u64>().unwrap_or(u64::MAX));
            rules.push(Rule {
                arn: format!("{listener_arn}/default"),
                priority: "default".into(),
                is_default: true,
                conditions: vec![],
                leading: l.leading.clone(),
                action: l.default_action.clone(),
            });
            Some(rules)
        })
        .ok_or_else(|| not_found("DescribeRules", listener_arn))
    }

    async fn target_group(&self, arn_or_name: &str) -> AlbResult<TargetGroup> {
        self.enter("DescribeTargetGroups", arn_or_name).await?;
        self.with(|s| {
            let g = (s.groups.values()).find(|g| g.arn == arn_or_name || g.name == arn_or_name)?;
            Some(TargetGroup {
                load_balancer_arns: users_of(s, &g.arn),
                ..g.clone()
            })
        })
        .ok_or_else(|| not_found("DescribeTargetGroups", arn_or_name))
    }

    async fn target_groups_of(&self, lb: &str) -> AlbResult<Vec<String>> {
        self.enter("DescribeTargetGroups", lb).await?;
        Ok(self.with(|s| {
            (s.groups.keys())
                .filter(|g| users_of(s, g).iter().any(|a| a == lb))
                .cloned()
                .collect()
        }))
    }

    async fn listeners_of(&self, lb: &str) -> AlbResult<Vec<String>> {
        self.enter("DescribeListeners", lb).await?;
        Ok(self.with(|s| {
            (s.listeners.values())
                .filter(|l| l.load_balancer_arn == lb)
                .map(|l| l.arn.clone())
                .collect()
        }))
    }

    async fn read_route(&self, route: &RouteRef) -> AlbResult<RouteAction> {
        let op = match route {
            RouteRef::ListenerDefault { .. } => "DescribeListeners",
            RouteRef::Rule { .. } => "DescribeRules",
        };
        self.enter(op, route.owner_arn()).await?;
        self.with(|s| {
            if let Some((r, old, left)) = s.stale.as_mut() {
                if r == route && *left > 0 {
                    *left -= 1;
                    return Some(old.clone());
                }
            }
            get_route(s, route)
        })
        .ok_or_else(|| not_found(op, route.owner_arn()))
    }

    async fn write_forward(&self, route: &RouteRef, forward: &Forward) -> AlbResult<()> {
        let op = match route {
            RouteRef::ListenerDefault { .. } => "ModifyListener",
            RouteRef::Rule { .. } => "ModifyRule",
        };
        self.enter(op, route.owner_arn()).await?;
        self.with(|s| {
            let old = get_route(s, route).ok_or_else(|| not_found(op, route.owner_arn()))?;
            // Like the AWS adapter: never overwrite a route that no longer
            // forwards (a redirect put there by someone else).
            if let RouteAction::Other { action_type } = &old {
                let m = format!("the route now has a {action_type} action where a forward was expected; nothing was written");
                return Err(AlbError::new(AlbErrorKind::Invalid, op, Some(route.owner_arn()), &m));
            }
            associate(s, route, forward, op)?;
            // Staleness is armed for the next write only.
            if s.stale_reads > 0 {
                s.stale = Some((route.clone(), old, std::mem::take(&mut s.stale_reads)));
            }
            put_route(s, route, RouteAction::Forward(forward.clone()));
            Ok(())
        })
    }

    async fn create_rule(
        &self,
        rule: &NewRule<'_>,
        tags: &BTreeMap<String, String>,
    ) -> AlbResult<String> {
        let (listener_arn, priority, conditions, forward) = (
            rule.listener_arn,
            rule.priority,
            rule.conditions,
            rule.forward,
        );
        self.enter("CreateRule", listener_arn).await?;
        // The login steps of the route it splits, as the adapter copies them.
        let leading = rule.carry_from.map(|r| self.leading(r)).unwrap_or_default();
        self.with(|s| {
            let clash = s.rule_listener.iter().any(|(r, l)| {
                l == listener_arn
                    && s.rules
                        .get(r)
                        .is_some_and(|r| r.priority == priority.to_string())
            });
            if clash {
                return Err(AlbError::new(
                    AlbErrorKind::Invalid,
                    "CreateRule",
                    Some(listener_arn),
                    "PriorityInUse",
                ));
            }
            s.next_rule += 1;
            let arn = format!("{listener_arn}/rule-{}", s.next_rule);
            s.rules.insert(
                arn.clone(),
                Rule {
                    arn: arn.clone(),
                    priority: priority.to_string(),
                    is_default: false,
                    conditions: conditions.to_vec(),
                    leading: leading.clone(),
                    action: RouteAction::Forward(forward.clone()),
                },
            );
            s.rule_listener.insert(arn.clone(), listener_arn.into());
            s.tags.insert(arn.clone(), tags.clone());
            Ok(arn)
        })
    }

    async fn delete_rule(&self, rule_arn: &str) -> AlbResult<()> {
        self.enter("DeleteRule", rule_arn).await?;
        self.with(|s| {
            s.rule_listener.remove(rule_arn);
            s.tags.remove(rule_arn);
            s.rules.remove(rule_arn).map(|_| ())
        })
        .ok_or_else(|| not_found("DeleteRule", rule_arn))
    }

    async fn register_targets(&self, tg: &str, targets: &[Target]) -> AlbResult<()> {
        self.enter("RegisterTargets", tg).await?;
        self.with(|s| {
            let state = s.register_state.unwrap_or(HealthState::Healthy);
            check_zones(s, tg, targets)?;
            let stuck = s.stuck.clone();
            let list = s
                .health
                .get_mut(tg)
                .ok_or_else(|| not_found("RegisterTargets", tg))?;
            for t in targets {
                list.retain(|h| h.target != *t);
                list.push(TargetHealth {
                    target: t.clone(),
                    state: stuck.get(&t.id).copied().unwrap_or(state),
                    reason: None,
                });
            }
            Ok(())
        })
    }

    async fn deregister_targets(&self, tg: &str, targets: &[Target]) -> AlbResult<()> {
        self.enter("DeregisterTargets", tg).await?;
        self.with(|s| {
            let list = s
                .health
                .get_mut(tg)
                .ok_or_else(|| not_found("DeregisterTargets", tg))?;
            list.retain(|h| !targets.contains(&h.target));
            Ok(())
        })
    }

    async fn target_health(&self, tg: &str) -> AlbResult<Vec<TargetHealth>> {
        self.enter("DescribeTargetHealth", tg).await?;
        self.with(|s| health_of(s, tg))
            .ok_or_else(|| not_found("DescribeTargetHealth", tg))
    }

    async fn tags(&self, arn: &str) -> AlbResult<BTreeMap<String, String>> {
        self.enter("DescribeTags", arn).await?;
        Ok(self.with(|s| s.tags.get(arn).cloned().unwrap_or_default()))
    }

    async fn tags_batch(
        &self,
        arns: &[String],
    ) -> AlbResult<BTreeMap<String, BTreeMap<String, String>>> {
        self.enter("DescribeTags", &arns.join(",")).await?;
        // As ELBv2 refuses it: more than 20 ARNs in one call.
        if arns.len() > crate::alb::port::TAGS_PER_CALL {
            return Err(AlbError::new(
                crate::alb::AlbErrorKind::Invalid,
                "DescribeTags",
                Some(&arns.join(",")),
                "more than 20 resources in one call",
            ));
        }
        Ok(self.with(|s| {
            (arns.iter())
                .map(|a| (a.clone(), s.tags.get(a).cloned().unwrap_or_default()))
                .collect()
        }))
    }

    async fn add_tags(&self, arn: &str, tags: &BTreeMap<String, String>) -> AlbResult<()> {
        self.enter("AddTags", arn).await?;
        self.with(|s| s.tags.entry(arn.into()).or_default().extend(tags.clone()));
        Ok(())
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> AlbResult<()> {
        self.enter("RemoveTags", arn).await?;
        self.with(|s| {
            if let Some(t) = s.tags.get_mut(arn) {
                t.retain(|k, _| !keys.contains(k));
            }
        });
        Ok(())
    }
}

/// ELBv2's zone rules for RegisterTargets (TargetDescription): no zone for
/// instance or alb targets; an IP outside the VPC needs one.
/// As ELBv2: a target group serves one load balancer (its quota "load
/// balancers per target group" is 1), so a forward to a group another
/// load balancer uses is refused (`TargetGroupAssociationLimit`).
fn associate(s: &State, route: &RouteRef, forward: &Forward, op: &str) -> AlbResult<()> {
    let Some(lb) = s
        .listeners
        .get(route.listener_arn())
        .map(|l| &l.load_balancer_arn)
    else {
        return Ok(());
    };
    for g in &forward.groups {
        if let Some(other) = super::users_of(s, &g.target_group_arn)
            .iter()
            .find(|a| *a != lb)
        {
            let m = format!(
                "TargetGroupAssociationLimit: {} is already used by load balancer {other}",
                g.target_group_arn
            );
            return Err(AlbError::new(
                AlbErrorKind::Invalid,
                op,
                Some(route.owner_arn()),
                &m,
            ));
        }
    }
    Ok(())
}

fn check_zones(s: &State, tg: &str, targets: &[Target]) -> AlbResult<()> {
    let kind = s.groups.get(tg).map(|g| g.target_type.as_str());
    for t in targets {
        let bad = match (kind, &t.az) {
            (Some("instance" | "alb"), Some(_)) => Some(format!(
                "an Availability Zone cannot be given for target {t} of type {}",
                kind.unwrap_or_default()
            )),
            (Some("ip"), None) if s.outside_vpc.contains(&t.id) => Some(format!(
                "target {t} is outside the VPC: its Availability Zone must be given"
            )),
            _ => None,
        };
        if let Some(m) = bad {
            return Err(AlbError::new(
                AlbErrorKind::Invalid,
                "RegisterTargets",
                Some(tg),
                &m,
            ));
        }
    }
    Ok(())
}
