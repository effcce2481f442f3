//! Metric providers: they measure and return numbers, or "no data"; they
//! never judge. Judging lives in `analysis`.
//!
//! - `cloudwatch`: request count, target 5xx, target connection errors and
//!   response time of a target group from the ALB's CloudWatch metrics,
//!   fetched raw (no metric math).
//!   `cloudwatch_lbs`: the same over groups on several load balancers.
//! - `cloudwatch_report`: the same metrics over a whole A/B run, with p50/p99.
//! - `prometheus`: one instant query, one number.
//! - `probe`: one HTTP GET, its status and latency.

pub mod cloudwatch;
mod cloudwatch_lbs;
pub mod cloudwatch_report;
mod cloudwatch_sdk;
pub mod fake;
pub mod probe;
pub mod prometheus;
#[cfg(test)]
pub(crate) mod test_server;

use async_trait::async_trait;
use serde::Serialize;
use std::time::SystemTime;

/// Traffic of one target group over a window, as the ALB saw it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrafficStats {
    /// `RequestCount`: every request for which ALB chose one of the
    /// group's targets, those it then failed to connect to included.
    pub requests: f64,
    pub target_5xx: f64,
    /// `TargetConnectionErrorCount`: requests ALB answered itself with a
    /// 502 because the chosen target refused or dropped the connection.
    pub connection_errors: f64,
    /// Average TargetResponseTime in seconds, when any request completed.
    pub avg_response_seconds: Option<f64>,
}

impl TrafficStats {
    /// Requests the group failed as clients saw them: its own 5xx and the
    /// 502s ALB answered because a target could not be reached.
    pub fn errors(&self) -> f64 {
        self.target_5xx + self.connection_errors
    }

    /// Fraction of requests that failed (0.0..=1.0). ALB counts connection
    /// errors per connection attempt, so the count is capped at the
    /// requests.
    pub fn error_rate(&self) -> Option<f64> {
        (self.requests > 0.0).then(|| self.errors().min(self.requests) / self.requests)
    }
}

/// Identifies a target group's ALB metrics: the CloudWatch dimensions
/// `TargetGroup` (`targetgroup/name/id`) and `LoadBalancer` (`app/name/id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricTarget {
    pub target_group: String,
    pub load_balancer: String,
}

impl MetricTarget {
    pub fn from_arns(target_group_arn: &str, load_balancer_arn: &str) -> Self {
        MetricTarget {
            target_group: crate::alb::arn_resource(target_group_arn).to_string(),
            load_balancer: crate::alb::arn_resource(load_balancer_arn).to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provider}: {message}")]
pub struct ProviderError {
    pub provider: &'static str,
    pub message: String,
    /// Throttling, a 5xx, a timeout or an unreachable endpoint: the same
    /// read may well succeed a moment later.
    pub transient: bool,
}

/// Which CloudWatch minutes one analysis reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrafficQuery {
    /// Only minutes that began at or after this instant count (the step's
    /// shift): a minute that straddles the shift mixes the old split in.
    pub since: SystemTime,
    /// Judge at most this many of the newest ingested minutes.
    pub minutes: u32,
    /// The newest minute (Unix seconds of its start) the previous judgement
    /// saw, so the same minute is not judged twice.
    pub after: Option<i64>,
}

/// One ingested CloudWatch minute: each target's traffic in it, in the
/// query's target order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Minute {
    /// Unix seconds of the minute's start.
    pub start: i64,
    pub stats: Vec<TrafficStats>,
}

/// Traffic of target groups over complete, ingested CloudWatch minutes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArrivedTraffic {
    /// Every ingested minute since the query's `since`, oldest first,
    /// `after` ignored: the analysis picks those it has not judged yet.
    #[serde(skip)]
    pub each: Vec<Minute>,
    /// One entry per target, in order; a group without a datapoint in an
    /// ingested minute had no requests in it (ALBs publish no zeros).
    pub stats: Vec<TrafficStats>,
    /// Start (Unix seconds) of the newest judged minute.
    pub newest: i64,
    /// How many minutes were summed.
    pub minutes: u32,
    /// How far the end of the newest ingested minute trails now.
    pub lag_seconds: u64,
}

/// What CloudWatch has for a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Arrival {
    Arrived(ArrivedTraffic),
    /// No minute newer than the query's `since`/`after` has been ingested.
    /// `lag_seconds`: how far the newest ingested minute of the load
    /// balancer trails now, when one was found at all.
    Waiting {
        lag_seconds: Option<u64>,
    },
}

impl Arrival {
    /// The words for progress lines and `status`.
    pub fn waiting_text(lag_seconds: Option<u64>) -> String {
        match lag_seconds {
            Some(s) => format!("waiting for CloudWatch (data lags ~{s} s)"),
            None => "waiting for CloudWatch (none of the load balancer's minutes \
                     in the last 15 min has arrived: is it receiving requests?)"
                .to_string(),
        }
    }
}

/// Traffic of target groups measured together (one request) so green and
/// blue see the same minutes. Only complete minutes that CloudWatch has
/// ingested count: a minute is ingested when the load balancer's own
/// `RequestCount` has a datapoint for it.
#[async_trait]
pub trait TrafficSource: Send + Sync {
    async fn traffic(
        &self,
        targets: &[MetricTarget],
        query: TrafficQuery,
    ) -> Result<Arrival, ProviderError>;
}

/// A single number from a query (e.g. Prometheus). `Ok(None)`: no series.
#[async_trait]
pub trait ScalarSource: Send + Sync {
    async fn value(&self) -> Result<Option<f64>, ProviderError>;
    /// What is measured, for messages (e.g. the query).
    fn describe(&self) -> String;
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeOutcome {
    /// HTTP status, or None when the request failed before a response.
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

#[async_trait]
pub trait Probe: Send + Sync {
    async fn probe(&self) -> ProbeOutcome;
    /// The probed URL with its secrets masked (`redact`), for messages.
    fn url(&self) -> &str;
}
