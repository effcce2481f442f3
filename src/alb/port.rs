//! The `LoadBalancerPort` trait every strategy drives, and its error type.
//!
//! Reads never change anything; each write has a matching read so callers can
//! verify it. Implementations: `aws::AwsLoadBalancer` and `fake::FakeLoadBalancer`.

use super::model::*;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlbErrorKind {
    /// The named resource does not exist (or the ARN is malformed).
    NotFound,
    /// The API refused the request as invalid (weights, limits, priorities).
    Invalid,
    /// Credentials are missing or the caller lacks a permission.
    AccessDenied,
    /// Throttling or a 5xx that outlived the SDK's own retries.
    Transient,
    /// Anything else: network failure, unexpected response.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbError {
    pub kind: AlbErrorKind,
    /// The ELBv2 operation that failed, e.g. `ModifyListener`.
    pub operation: String,
    /// The ARN or name the operation was about, when there is one.
    pub resource: Option<String>,
    pub message: String,
}

impl AlbError {
    pub fn new(kind: AlbErrorKind, operation: &str, resource: Option<&str>, message: &str) -> Self {
        AlbError {
            kind,
            operation: operation.to_string(),
            resource: resource.map(str::to_string),
            message: message.to_string(),
        }
    }

    pub fn not_found(operation: &str, resource: &str, message: &str) -> Self {
        Self::new(AlbErrorKind::NotFound, operation, Some(resource), message)
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, AlbErrorKind::Transient | AlbErrorKind::Other)
    }
}

impl fmt::Display for AlbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.operation)?;
        if let Some(r) = &self.resource {
            write!(f, " for {r}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for AlbError {}

pub type AlbResult<T> = Result<T, AlbError>;

/// A rule to create: at `priority`, when all `conditions` match, the
/// leading actions of `carry_from` (the route it splits: its login steps,
/// copied from the live route, and for a rule its transforms) and then
/// `forward`.
#[derive(Debug, Clone, Copy)]
pub struct NewRule<'a> {
    pub listener_arn: &'a str,
    pub priority: u32,
    pub conditions: &'a [Condition],
    pub carry_from: Option<&'a RouteRef>,
    pub forward: &'a Forward,
}

/// What the tool needs from an Application Load Balancer.
#[async_trait]
pub trait LoadBalancerPort: Send + Sync {
    async fn listener(&self, listener_arn: &str) -> AlbResult<Listener>;
    async fn load_balancer(&self, load_balancer_arn: &str) -> AlbResult<LoadBalancer>;
    /// `DescribeLoadBalancerAttributes`: key to value (`access_logs.s3.*`
    /// says where `shadow` reads the logs). A load balancer without any
    /// reads as empty (the fake's default).
    async fn load_balancer_attributes(
        &self,
        _load_balancer_arn: &str,
    ) -> AlbResult<BTreeMap<String, String>> {
        Ok(BTreeMap::new())
    }
    /// All rules of a listener, the default one included, in priority order.
    async fn rules(&self, listener_arn: &str) -> AlbResult<Vec<Rule>>;
    /// Target groups by ARN or by name. A reference that matches nothing is
    /// an error of kind `NotFound` naming that reference.
    async fn target_group(&self, arn_or_name: &str) -> AlbResult<TargetGroup>;

    /// The ARNs of the target groups a load balancer forwards to, for
    /// limits that count across them (1,000 targets per load balancer).
    async fn target_groups_of(&self, load_balancer_arn: &str) -> AlbResult<Vec<String>>;

    /// The ARNs of a load balancer's listeners (for `rollback`, to find the
    /// route that forwards to a target group).
    async fn listeners_of(&self, load_balancer_arn: &str) -> AlbResult<Vec<String>>;

    /// The action a route has right now.
    async fn read_route(&self, route: &RouteRef) -> AlbResult<RouteAction>;
    /// Replace the route's forward action with `forward`, written in its
    /// shape; authenticate steps before it keep their `Order` and config, and
    /// nothing else on the listener or rule changes. Refused (kind `Invalid`)
    /// when the route no longer ends in a forward.
    async fn write_forward(&self, route: &RouteRef, forward: &Forward) -> AlbResult<()>;

    /// Create `rule`, tagged with `tags`. Returns the rule ARN.
    async fn create_rule(
        &self,
        rule: &NewRule<'_>,
        tags: &BTreeMap<String, String>,
    ) -> AlbResult<String>;
    async fn delete_rule(&self, rule_arn: &str) -> AlbResult<()>;

    async fn register_targets(&self, target_group_arn: &str, targets: &[Target]) -> AlbResult<()>;
    async fn deregister_targets(&self, target_group_arn: &str, targets: &[Target])
        -> AlbResult<()>;
    async fn target_health(&self, target_group_arn: &str) -> AlbResult<Vec<TargetHealth>>;

    async fn tags(&self, arn: &str) -> AlbResult<BTreeMap<String, String>>;
    /// The tags of each of `arns` (at most [`TAGS_PER_CALL`]) in one
    /// DescribeTags, by ARN (an ARN without tags maps to none); for more,
    /// [`tags_all`].
    async fn tags_batch(
        &self,
        arns: &[String],
    ) -> AlbResult<BTreeMap<String, BTreeMap<String, String>>>;
    async fn add_tags(&self, arn: &str, tags: &BTreeMap<String, String>) -> AlbResult<()>;
    async fn remove_tags(&self, arn: &str, keys: &[String]) -> AlbResult<()>;
}

/// How many ARNs one DescribeTags takes ("You can specify up to 20
/// resources in a single call", ELBv2 API reference).
pub const TAGS_PER_CALL: usize = 20;

/// The tags of each of `arns`, read [`TAGS_PER_CALL`] ARNs a DescribeTags.
pub async fn tags_all(
    lb: &dyn LoadBalancerPort,
    arns: &[String],
) -> AlbResult<BTreeMap<String, BTreeMap<String, String>>> {
    let mut out = BTreeMap::new();
    for chunk in arns.chunks(TAGS_PER_CALL) {
        out.extend(lb.tags_batch(chunk).await?);
    }
    Ok(out)
}
