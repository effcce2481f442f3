//! CloudWatch ALB metrics provider: target groups' `RequestCount`,
//! `HTTPCode_Target_5XX_Count` and `TargetResponseTime` over a trailing
//! window, fetched for all of them (green and blue) with a single paginated
//! GetMetricData call of raw `MetricStat` queries. No metric math: the emulator answers expressions
//! with empty series, and summing raw buckets here is just as exact.
//!
//! Owns request building (`build_queries`, `period_seconds`), the SDK call
//! and error wording, and the pure aggregation (`aggregate`).
//!
//! Resolution: real ALB metrics are published at 60-second resolution, so a
//! window shorter than 60s only makes sense against the emulator or
//! high-resolution metrics; against real AWS it may see no datapoints (no
//! data) or a partial minute. Real CloudWatch also only accepts periods of
//! 1, 5, 10, 30 or a multiple of 60 seconds, so windows should be chosen
//! accordingly; an invalid period comes back as CloudWatch's own error.

use super::{MetricTarget, ProviderError, TrafficSource, TrafficStats};
use crate::errors::chain;
use async_trait::async_trait;
use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy, StatusCode,
};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const PROVIDER: &str = "cloudwatch";
const NAMESPACE: &str = "AWS/ApplicationELB";
/// A runaway NextToken loop (a buggy endpoint echoing its token) must not
/// hang a rollout; a few windows of 1-second buckets fit in far fewer pages.
const MAX_PAGES: usize = 100;

/// The raw series this provider asks for: (query id, metric name, statistic).
/// Ids must match `^[a-z][a-zA-Z0-9_]*$` (a CloudWatch rule).
const QUERIES: [(&str, &str, &str); 4] = [
    (ID_REQUESTS, "RequestCount", "Sum"),
    (ID_5XX, "HTTPCode_Target_5XX_Count", "Sum"),
    (ID_RT_AVG, "TargetResponseTime", "Average"),
    (ID_RT_COUNT, "TargetResponseTime", "SampleCount"),
];
const ID_REQUESTS: &str = "requests";
const ID_5XX: &str = "target_5xx";
const ID_RT_AVG: &str = "response_avg";
const ID_RT_COUNT: &str = "response_count";

/// One series of a GetMetricData answer: parallel timestamps (epoch seconds)
/// and values, in whatever order CloudWatch returned them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
}

/// Everything one `traffic` call fetched, before aggregation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawTraffic {
    pub requests: Series,
    pub target_5xx: Series,
    pub response_avg: Series,
    pub response_count: Series,
}

impl RawTraffic {
    fn series_mut(&mut self, id: &str) -> Option<&mut Series> {
        match id {
            ID_REQUESTS => Some(&mut self.requests),
            ID_5XX => Some(&mut self.target_5xx),
            ID_RT_AVG => Some(&mut self.response_avg),
            ID_RT_COUNT => Some(&mut self.response_count),
            _ => None,
        }
    }
}

/// Reads ALB traffic of target groups from CloudWatch.
pub struct CloudWatchTraffic {
    client: aws_sdk_cloudwatch::Client,
    /// Injectable so callers (and the emulator's time-shifted tests) can pin
    /// "now"; production uses the system clock.
    clock: fn() -> SystemTime,
}

impl CloudWatchTraffic {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self::with_clock(config, SystemTime::now)
    }

    pub fn with_clock(config: &aws_config::SdkConfig, clock: fn() -> SystemTime) -> Self {
        CloudWatchTraffic {
            client: aws_sdk_cloudwatch::Client::new(config),
            clock,
        }
    }

    async fn fetch(
        &self,
        targets: &[MetricTarget],
        window: Duration,
    ) -> Result<Vec<RawTraffic>, ProviderError> {
        // CloudWatch rejects EndTime == StartTime; 1s is its finest period.
        let window = window.max(Duration::from_secs(1));
        let end = (self.clock)();
        let start = end.checked_sub(window).unwrap_or(UNIX_EPOCH);
        let queries = build_queries(targets, period_seconds(window));
        let mut raws = vec![RawTraffic::default(); targets.len()];
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let out = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(DateTime::from(start))
                .end_time(DateTime::from(end))
                .scan_by(ScanBy::TimestampDescending)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| error(targets, &sdk_error_message(&e)))?;
            for result in out.metric_data_results() {
                absorb(&mut raws, result).map_err(|m| error(targets, &m))?;
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(raws),
            }
        }
        Err(error(
            targets,
            &format!("gave up after {MAX_PAGES} pages of NextToken pagination"),
        ))
    }
}

#[async_trait]
impl TrafficSource for CloudWatchTraffic {
    async fn traffic(
        &self,
        targets: &[MetricTarget],
        window: Duration,
    ) -> Result<Vec<Option<TrafficStats>>, ProviderError> {
        let raws = self.fetch(targets, window).await?;
        Ok(raws.iter().map(aggregate).collect())
    }
}

/// The whole window as one period, rounded up to whole seconds (at least 1),
/// so a bucket boundary splits the window at most once.
pub fn period_seconds(window: Duration) -> i32 {
    let secs = window.as_secs() + u64::from(window.subsec_nanos() > 0);
    i32::try_from(secs.max(1)).unwrap_or(i32::MAX)
}

/// The four raw `MetricStat` queries for each target group; ids carry the
/// group's index (`requests_0`, `requests_1`, ...).
pub fn build_queries(targets: &[MetricTarget], period: i32) -> Vec<MetricDataQuery> {
    targets
        .iter()
        .enumerate()
        .flat_map(|(i, target)| {
            QUERIES.iter().map(move |&(id, metric_name, stat)| {
                query(i, id, metric_name, stat, target, period)
            })
        })
        .collect()
}

fn query(
    i: usize,
    id: &str,
    metric_name: &str,
    stat: &str,
    target: &MetricTarget,
    period: i32,
) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(NAMESPACE)
        .metric_name(metric_name)
        .dimensions(dimension("TargetGroup", &target.target_group))
        .dimensions(dimension("LoadBalancer", &target.load_balancer))
        .build();
    let metric_stat = MetricStat::builder()
        .metric(metric)
        .period(period)
        .stat(stat)
        .build();
    MetricDataQuery::builder()
        .id(format!("{id}_{i}"))
        .metric_stat(metric_stat)
        .return_data(true)
        .build()
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// Append one page's result to its series. Pages of the same query carry
/// disjoint timestamps, so appending is enough.
fn absorb(raws: &mut [RawTraffic], result: &MetricDataResult) -> Result<(), String> {
    let full_id = result.id().unwrap_or("");
    let (id, index) = match full_id.rsplit_once('_') {
        Some((base, n)) => (base, n.parse::<usize>().ok()),
        None => (full_id, None),
    };
    let metric = QUERIES.iter().find(|q| q.0 == id).map_or(id, |q| q.1);
    if let Some(code @ (StatusCode::Forbidden | StatusCode::InternalError)) = result.status_code() {
        let details: Vec<&str> = result.messages().iter().filter_map(|m| m.value()).collect();
        let details = details.join("; ");
        return Err(format!(
            "{metric} ({full_id}) returned {}: [{details}]",
            code.as_str()
        ));
    }
    let raw = index.and_then(|i| raws.get_mut(i));
    if let Some(series) = raw.and_then(|r| r.series_mut(id)) {
        series
            .timestamps
            .extend(result.timestamps().iter().map(DateTime::secs));
        series.values.extend_from_slice(result.values());
    }
    Ok(())
}

/// From raw series to traffic stats. `None` when `RequestCount` has no
/// datapoints at all: the ALB published nothing for this window, which is
/// different from "zero requests" (a datapoint of 0).
pub fn aggregate(raw: &RawTraffic) -> Option<TrafficStats> {
    if raw.requests.values.is_empty() {
        return None;
    }
    Some(TrafficStats {
        requests: finite_sum(&raw.requests.values),
        // ALBs publish the 5xx count only for periods that had 5xx responses.
        target_5xx: finite_sum(&raw.target_5xx.values),
        avg_response_seconds: weighted_average(raw),
    })
}

fn finite_sum(values: &[f64]) -> f64 {
    values.iter().filter(|v| v.is_finite()).sum()
}

/// Per-timestamp totals, dropping non-finite points so they cannot poison
/// a weight.
fn by_timestamp(series: &Series) -> BTreeMap<i64, f64> {
    let mut map = BTreeMap::new();
    let points = series.timestamps.iter().zip(&series.values);
    for (&ts, &v) in points.filter(|(_, v)| v.is_finite()) {
        *map.entry(ts).or_insert(0.0) += v;
    }
    map
}

/// Average of per-bucket averages, each weighted by its bucket's number of
/// responses (`SampleCount`, else the bucket's `RequestCount`, else 1) so a
/// quiet bucket does not count as much as a busy one.
fn weighted_average(raw: &RawTraffic) -> Option<f64> {
    let counts = by_timestamp(&raw.response_count);
    let requests = by_timestamp(&raw.requests);
    let (mut total, mut weight) = (0.0, 0.0);
    for (ts, &avg) in raw
        .response_avg
        .timestamps
        .iter()
        .zip(&raw.response_avg.values)
    {
        let w = counts.get(ts).or(requests.get(ts)).copied().unwrap_or(1.0);
        if avg.is_finite() && w.is_finite() && w > 0.0 {
            total += avg * w;
            weight += w;
        }
    }
    (weight > 0.0).then(|| total / weight)
}

fn error(targets: &[MetricTarget], message: &str) -> ProviderError {
    let groups: Vec<&str> = targets.iter().map(|t| t.target_group.as_str()).collect();
    let lb = targets.first().map_or("", |t| t.load_balancer.as_str());
    ProviderError {
        provider: PROVIDER,
        message: format!(
            "GetMetricData (RequestCount, HTTPCode_Target_5XX_Count, TargetResponseTime) \
             for target group {} on {lb}: {message}",
            groups.join(" and ")
        ),
    }
}

/// The SDK's top-level Display is terse ("service error", "dispatch
/// failure"); operators need the code and message, or the cause chain.
fn sdk_error_message<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            format!(
                "{}: {}",
                e.code().unwrap_or("error"),
                e.message().unwrap_or("no message")
            )
        }
        SdkError::TimeoutError(_) => "request timed out".to_string(),
        SdkError::DispatchFailure(_) => {
            format!("could not reach the CloudWatch endpoint: {}", chain(err))
        }
        other => chain(other),
    }
}

#[cfg(test)]
#[path = "cloudwatch_tests.rs"]
mod tests;
