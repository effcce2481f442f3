//! The AWS adapter's half of creating a rule: the rule being split read
//! as ELBv2 returns it, and the actions and transforms the new rule copies
//! from it (`rule_sdk` decides how; this only reads and hands over).

use super::AwsLoadBalancer;
use crate::alb::model::*;
use crate::alb::port::{AlbError, AlbErrorKind, AlbResult};
use aws_sdk_elasticloadbalancingv2::types::{Action, Rule as SdkRule, RuleTransform};

impl AwsLoadBalancer {
    /// The rule as ELBv2 returns it, for its actions and transforms.
    pub(super) async fn live_rule(&self, rule_arn: &str) -> AlbResult<SdkRule> {
        let op = "DescribeRules";
        let out = self
            .client
            .describe_rules()
            .rule_arns(rule_arn)
            .send()
            .await
            .map_err(|e| self.fail(op, Some(rule_arn), e))?;
        out.rules()
            .first()
            .cloned()
            .ok_or_else(|| AlbError::not_found(op, rule_arn, "no such rule"))
    }

    /// The actions and transforms of a new rule splitting `from`.
    pub(super) async fn carried(
        &self,
        from: Option<&RouteRef>,
        forward: &Forward,
    ) -> AlbResult<(Vec<Action>, Option<Vec<RuleTransform>>)> {
        let Some(route) = from else {
            return Ok((vec![crate::alb::translate::forward_to_sdk(forward)], None));
        };
        let (actions, transforms) = match route {
            RouteRef::Rule { rule_arn, .. } => {
                let r = self.live_rule(rule_arn).await?;
                (
                    r.actions().to_vec(),
                    crate::alb::rule_sdk::carried_transforms(Some(&r)),
                )
            }
            RouteRef::ListenerDefault { .. } => (self.live_actions(route).await?, None),
        };
        let actions = crate::alb::rule_sdk::carried_actions(
            &actions,
            forward,
            self.oidc_client_secret.as_deref(),
        )
        .map_err(|m| {
            AlbError::new(
                AlbErrorKind::Invalid,
                "CreateRule",
                Some(route.owner_arn()),
                &m,
            )
        })?;
        Ok((actions, transforms))
    }
}
