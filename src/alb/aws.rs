//! The AWS SDK adapter for the load-balancer port. It translates and calls;
//! it never decides. A forward write reads the route's live action list and
//! replaces only the forward in it (see `route_sdk::splice_forward`). Retries for throttling and 5xx live in the SDK's retry
//! policy (configured in `aws_env`), so one port call is one logical request.

pub use super::error_codes::kind_for_code;
use super::model::*;
use super::port::{AlbError, AlbErrorKind, AlbResult, LoadBalancerPort, NewRule};
use super::translate::*;
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_elasticloadbalancingv2::types::Action;
use aws_sdk_elasticloadbalancingv2::Client;
use std::collections::BTreeMap;

#[path = "aws_carry.rs"]
mod carry;
#[path = "aws_tags.rs"]
mod tags;

pub struct AwsLoadBalancer {
    client: Client,
    /// Named when the endpoint cannot be reached.
    endpoint: crate::aws_env::Endpoint,
    /// The OIDC client secret a created rule's `authenticate-oidc` copy
    /// needs (ELBv2 never returns it); never formatted, never logged.
    oidc_client_secret: Option<String>,
}

impl AwsLoadBalancer {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        AwsLoadBalancer {
            client: Client::new(config),
            endpoint: crate::aws_env::Endpoint::of(
                config,
                "elasticloadbalancing",
                "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
            ),
            oidc_client_secret: None,
        }
    }

    /// The adapter that copies an OIDC login into the rules it creates.
    pub fn with_oidc_client_secret(mut self, secret: Option<String>) -> Self {
        self.oidc_client_secret = secret;
        self
    }

    /// The route's action list exactly as ELBv2 returns it.
    async fn live_actions(&self, route: &RouteRef) -> AlbResult<Vec<Action>> {
        match route {
            RouteRef::ListenerDefault { listener_arn } => {
                let op = "DescribeListeners";
                let out = self
                    .client
                    .describe_listeners()
                    .listener_arns(listener_arn)
                    .send()
                    .await
                    .map_err(|e| self.fail(op, Some(listener_arn), e))?;
                out.listeners()
                    .first()
                    .map(|l| l.default_actions().to_vec())
                    .ok_or_else(|| AlbError::not_found(op, listener_arn, "no such listener"))
            }
            RouteRef::Rule { rule_arn, .. } => {
                Ok(self.live_rule(rule_arn).await?.actions().to_vec())
            }
        }
    }
}

impl AwsLoadBalancer {
    /// `map_err` with this client's endpoint.
    fn fail<E, R>(&self, op: &str, resource: Option<&str>, err: SdkError<E, R>) -> AlbError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        map_err(&self.endpoint, op, resource, err)
    }
}

fn map_err<E, R>(
    endpoint: &crate::aws_env::Endpoint,
    op: &str,
    resource: Option<&str>,
    err: SdkError<E, R>,
) -> AlbError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (kind, message) = match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code();
            let msg = e.message().unwrap_or("no message");
            (
                kind_for_code(code),
                format!("{} ({msg})", code.unwrap_or("error")),
            )
        }
        SdkError::TimeoutError(_) => (
            AlbErrorKind::Transient,
            format!("the request to {endpoint} timed out"),
        ),
        SdkError::DispatchFailure(_) => (
            AlbErrorKind::Other,
            format!(
                "could not reach the ELBv2 endpoint {endpoint}: {}",
                crate::errors::chain(&err)
            ),
        ),
        other => (AlbErrorKind::Other, crate::errors::chain(other)),
    };
    AlbError::new(kind, op, resource, &message)
}

fn rule_order(r: &Rule) -> (bool, u64) {
    (r.is_default, r.priority.parse().unwrap_or(u64::MAX))
}

#[async_trait]
impl LoadBalancerPort for AwsLoadBalancer {
    async fn listener(&self, listener_arn: &str) -> AlbResult<Listener> {
        let op = "DescribeListeners";
        let out = self
            .client
            .describe_listeners()
            .listener_arns(listener_arn)
            .send()
            .await
            .map_err(|e| self.fail(op, Some(listener_arn), e))?;
        out.listeners()
            .first()
            .map(listener_from_sdk)
            .ok_or_else(|| AlbError::not_found(op, listener_arn, "no such listener"))
    }

    async fn load_balancer(&self, arn: &str) -> AlbResult<LoadBalancer> {
        let op = "DescribeLoadBalancers";
        let out = self
            .client
            .describe_load_balancers()
            .load_balancer_arns(arn)
            .send()
            .await
            .map_err(|e| self.fail(op, Some(arn), e))?;
        let lb = out
            .load_balancers()
            .first()
            .ok_or_else(|| AlbError::not_found(op, arn, "no such load balancer"))?;
        Ok(LoadBalancer {
            arn: lb.load_balancer_arn().unwrap_or(arn).to_string(),
            name: lb.load_balancer_name().unwrap_or_default().to_string(),
            vpc_id: lb.vpc_id().map(str::to_string),
            lb_type: lb.r#type().map(|t| t.as_str().to_string()),
            dns_name: lb.dns_name().map(str::to_string),
        })
    }

    async fn load_balancer_attributes(
        &self,
        arn: &str,
    ) -> AlbResult<std::collections::BTreeMap<String, String>> {
        let op = "DescribeLoadBalancerAttributes";
        let out = self
            .client
            .describe_load_balancer_attributes()
            .load_balancer_arn(arn)
            .send()
            .await
            .map_err(|e| self.fail(op, Some(arn), e))?;
        Ok((out.attributes().iter())
            .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
            .collect())
    }

    async fn rules(&self, listener_arn: &str) -> AlbResult<Vec<Rule>> {
        let op = "DescribeRules";
        let mut rules = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_rules()
                .listener_arn(listener_arn)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| self.fail(op, Some(listener_arn), e))?;
            rules.extend(out.rules().iter().map(rule_from_sdk));
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        rules.sort_by_key(rule_order);
        Ok(rules)
    }

    async fn target_group(&self, arn_or_name: &str) -> AlbResult<TargetGroup> {
        let op = "DescribeTargetGroups";
        let req = self.client.describe_target_groups();
        let req = if arn_or_name.starts_with("arn:") {
            req.target_group_arns(arn_or_name)
        } else {
            req.names(arn_or_name)
        };
        let out = req
            .send()
            .await
            .map_err(|e| self.fail(op, Some(arn_or_name), e))?;
        out.target_groups()
            .first()
            .map(target_group_from_sdk)
            .ok_or_else(|| AlbError::not_found(op, arn_or_name, "no such target group"))
    }

    async fn target_groups_of(&self, lb: &str) -> AlbResult<Vec<String>> {
        let op = "DescribeTargetGroups";
        let mut pages = (self.client.describe_target_groups())
            .load_balancer_arn(lb)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.fail(op, Some(lb), e))?;
            let arns = page
                .target_groups()
                .iter()
                .filter_map(|g| g.target_group_arn());
            out.extend(arns.map(str::to_string));
        }
        Ok(out)
    }

    async fn listeners_of(&self, lb: &str) -> AlbResult<Vec<String>> {
        let op = "DescribeListeners";
        let mut pages = (self.client.describe_listeners())
            .load_balancer_arn(lb)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.fail(op, Some(lb), e))?;
            let arns = page.listeners().iter().filter_map(|l| l.listener_arn());
            out.extend(arns.map(str::to_string));
        }
        Ok(out)
    }

    async fn read_route(&self, route: &RouteRef) -> AlbResult<RouteAction> {
        Ok(route_action_from_sdk(&self.live_actions(route).await?))
    }

    async fn write_forward(&self, route: &RouteRef, forward: &Forward) -> AlbResult<()> {
        // ELBv2 replaces the whole list, so read it first: authenticate steps
        // before the forward go back exactly as they are, with their Order.
        let current = self.live_actions(route).await?;
        let (op, owner) = match route {
            RouteRef::ListenerDefault { listener_arn } => ("ModifyListener", listener_arn),
            RouteRef::Rule { rule_arn, .. } => ("ModifyRule", rule_arn),
        };
        let actions = splice_forward(&current, forward)
            .map_err(|m| AlbError::new(AlbErrorKind::Invalid, op, Some(owner), &m))?;
        // Only the actions are sent: port, protocol, certificates and SSL
        // policy stay as they are when ModifyListener omits them.
        match route {
            RouteRef::ListenerDefault { listener_arn } => self
                .client
                .modify_listener()
                .listener_arn(listener_arn)
                .set_default_actions(Some(actions))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.fail(op, Some(owner), e)),
            RouteRef::Rule { rule_arn, .. } => self
                .client
                .modify_rule()
                .rule_arn(rule_arn)
                .set_actions(Some(actions))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.fail(op, Some(owner), e)),
        }
    }

    async fn create_rule(
        &self,
        rule: &NewRule<'_>,
        tags: &BTreeMap<String, String>,
    ) -> AlbResult<String> {
        let op = "CreateRule";
        let listener_arn = rule.listener_arn;
        // The login steps are copied from the live route the rule splits,
        // never rebuilt: ELBv2 has fields the domain does not model.
        let (actions, transforms) = self.carried(rule.carry_from, rule.forward).await?;
        let out = self
            .client
            .create_rule()
            .listener_arn(listener_arn)
            .priority(rule.priority as i32)
            .set_conditions(Some(rule.conditions.iter().map(condition_to_sdk).collect()))
            .set_actions(Some(actions))
            .set_transforms(transforms)
            .set_tags(Some(tags_to_sdk(tags)))
            .send()
            .await
            .map_err(|e| self.fail(op, Some(listener_arn), e))?;
        out.rules()
            .first()
            .and_then(|r| r.rule_arn())
            .map(str::to_string)
            .ok_or_else(|| {
                AlbError::new(
                    AlbErrorKind::Other,
                    op,
                    Some(listener_arn),
                    "no rule ARN returned",
                )
            })
    }

    async fn delete_rule(&self, rule_arn: &str) -> AlbResult<()> {
        self.client
            .delete_rule()
            .rule_arn(rule_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.fail("DeleteRule", Some(rule_arn), e))
    }

    async fn register_targets(&self, tg: &str, targets: &[Target]) -> AlbResult<()> {
        self.client
            .register_targets()
            .target_group_arn(tg)
            .set_targets(Some(targets.iter().map(target_to_sdk).collect()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.fail("RegisterTargets", Some(tg), e))
    }

    async fn deregister_targets(&self, tg: &str, targets: &[Target]) -> AlbResult<()> {
        self.client
            .deregister_targets()
            .target_group_arn(tg)
            .set_targets(Some(targets.iter().map(target_to_sdk).collect()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.fail("DeregisterTargets", Some(tg), e))
    }

    async fn target_health(&self, tg: &str) -> AlbResult<Vec<TargetHealth>> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(tg)
            .send()
            .await
            .map_err(|e| self.fail("DescribeTargetHealth", Some(tg), e))?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .filter_map(target_health_from_sdk)
            .collect())
    }

    async fn tags(&self, arn: &str) -> AlbResult<BTreeMap<String, String>> {
        self.read_tags(arn).await
    }

    async fn tags_batch(
        &self,
        arns: &[String],
    ) -> AlbResult<BTreeMap<String, BTreeMap<String, String>>> {
        self.read_tags_batch(arns).await
    }

    async fn add_tags(&self, arn: &str, tags: &BTreeMap<String, String>) -> AlbResult<()> {
        self.client
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(tags_to_sdk(tags)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.fail("AddTags", Some(arn), e))
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> AlbResult<()> {
        self.client
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.fail("RemoveTags", Some(arn), e))
    }
}
