//! CloudWatch ALB metrics provider: target groups' `RequestCount`,
//! `HTTPCode_Target_5XX_Count`, `TargetConnectionErrorCount` (the 502s ALB
//! answers when it cannot reach a chosen target; those requests are in the
//! group's `RequestCount`) and `TargetResponseTime`, fetched for green
//! and blue together with one paginated GetMetricData call of raw
//! `MetricStat` queries, plus the load balancer's own `RequestCount`.
//! Groups on several load balancers (a multi-route run) go in the same
//! call, each with its own `LoadBalancer` dimension, and every load
//! balancer's own `RequestCount` with them (`analysis::sides` sums them).
//!
//! Owns request building (`build_queries`, `query_span`), the SDK call and
//! error wording, and the pure reading of the answer (`arrival`).
//!
//! How real ALB metrics arrive, and why the reading is shaped this way:
//! - they are published in 60-second buckets (standard resolution), so every
//!   query uses `Period` 60 over whole minutes;
//! - a bucket reaches CloudWatch one to three minutes after it ends, and a
//!   partial minute is never visible, so "the last 60 s" is usually empty;
//! - count metrics are not published as zeros: a minute without 5xx has no
//!   `HTTPCode_Target_5XX_Count` datapoint, and a group without requests has
//!   no `RequestCount` datapoint.
//!
//! So a missing datapoint means "zero" only for a minute that is known to be
//! ingested. The load balancer's `RequestCount` (LoadBalancer dimension
//! only) counts every request it received; a minute that has it is in, and
//! a target group without a datapoint in that minute really had none. Minutes
//! without it are "not arrived" and never judged.

use super::cloudwatch_lbs::ingested;
pub use super::cloudwatch_lbs::load_balancers;
pub(crate) use super::cloudwatch_sdk::{sdk_error_message, sdk_error_transient};
use super::{
    Arrival, ArrivedTraffic, MetricTarget, ProviderError, TrafficQuery, TrafficSource, TrafficStats,
};
use async_trait::async_trait;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy, StatusCode,
};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

const PROVIDER: &str = "cloudwatch";
const NAMESPACE: &str = "AWS/ApplicationELB";
/// A runaway NextToken loop (a buggy endpoint echoing its token) must not
/// hang a rollout; a query of a few dozen minutes fits in one page.
const MAX_PAGES: usize = 20;
/// ALB metrics are standard resolution: one datapoint per minute.
pub const BUCKET_SECONDS: i64 = 60;
/// How far back a query looks for the load balancer's newest ingested
/// minute, to tell "lagging" from "no traffic at all".
const LAG_LOOKBACK_SECONDS: i64 = 15 * 60;

/// The raw series this provider asks for: (query id, metric name, statistic).
/// Ids must match `^[a-z][a-zA-Z0-9_]*$` (a CloudWatch rule).
const QUERIES: [(&str, &str, &str); 5] = [
    (ID_REQUESTS, "RequestCount", "Sum"),
    (ID_5XX, "HTTPCode_Target_5XX_Count", "Sum"),
    (ID_CONN, "TargetConnectionErrorCount", "Sum"),
    (ID_RT_AVG, "TargetResponseTime", "Average"),
    (ID_RT_COUNT, "TargetResponseTime", "SampleCount"),
];
const ID_REQUESTS: &str = "requests";
const ID_5XX: &str = "target_5xx";
const ID_CONN: &str = "connection_errors";
const ID_RT_AVG: &str = "response_avg";
const ID_RT_COUNT: &str = "response_count";
/// The load balancer's own RequestCount: the marker of an ingested minute.
const ID_LB: &str = "lbrequests";

/// One series of a GetMetricData answer: parallel timestamps (epoch seconds)
/// and values, in whatever order CloudWatch returned them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
}

/// One target group's series from one `traffic` call, before aggregation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawTraffic {
    pub requests: Series,
    pub target_5xx: Series,
    pub connection_errors: Series,
    pub response_avg: Series,
    pub response_count: Series,
}

impl RawTraffic {
    fn series_mut(&mut self, id: &str) -> Option<&mut Series> {
        match id {
            ID_REQUESTS => Some(&mut self.requests),
            ID_5XX => Some(&mut self.target_5xx),
            ID_CONN => Some(&mut self.connection_errors),
            ID_RT_AVG => Some(&mut self.response_avg),
            ID_RT_COUNT => Some(&mut self.response_count),
            _ => None,
        }
    }
}

/// Everything one `traffic` call fetched: each target's series and the
/// load balancer's own request count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawAnswer {
    pub targets: Vec<RawTraffic>,
    pub load_balancer: Series,
    /// Each further load balancer's own request count (`lbrequests_1`,
    /// ...), when the targets are on several.
    pub other_load_balancers: Vec<Series>,
}

/// Reads ALB traffic of target groups from CloudWatch.
pub struct CloudWatchTraffic {
    client: aws_sdk_cloudwatch::Client,
    /// Named when the endpoint cannot be reached.
    endpoint: crate::aws_env::Endpoint,
    clock: fn() -> SystemTime,
}

/// CloudWatch's endpoint for `config`, for messages.
pub fn endpoint(config: &aws_config::SdkConfig) -> crate::aws_env::Endpoint {
    crate::aws_env::Endpoint::of(config, "monitoring", "AWS_ENDPOINT_URL_CLOUDWATCH")
}

impl CloudWatchTraffic {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        CloudWatchTraffic {
            client: aws_sdk_cloudwatch::Client::new(config),
            endpoint: endpoint(config),
            clock: SystemTime::now,
        }
    }

    async fn fetch(
        &self,
        targets: &[MetricTarget],
        start: i64,
        end: i64,
    ) -> Result<RawAnswer, ProviderError> {
        let queries = build_queries(targets);
        let mut raw = RawAnswer {
            targets: vec![RawTraffic::default(); targets.len()],
            load_balancer: Series::default(),
            other_load_balancers: vec![
                Series::default();
                load_balancers(targets).len().saturating_sub(1)
            ],
        };
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let out = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(DateTime::from_secs(start))
                .end_time(DateTime::from_secs(end))
                .scan_by(ScanBy::TimestampDescending)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| ProviderError {
                    transient: sdk_error_transient(&e),
                    ..error(targets, &sdk_error_message(&e, &self.endpoint))
                })?;
            for result in out.metric_data_results() {
                absorb(&mut raw, result).map_err(|m| error(targets, &m))?;
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(raw),
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
        query: TrafficQuery,
    ) -> Result<Arrival, ProviderError> {
        let now = unix((self.clock)());
        let (start, end) = query_span(unix(query.since), now);
        let raw = self.fetch(targets, start, end).await?;
        Ok(arrival(&raw, &query, now))
    }
}

pub fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `[start, end)` of a query in whole minutes: it ends at the last minute
/// boundary (a partial minute is never published) and starts early enough
/// to see both the step's minutes and the load balancer's newest ingested
/// one.
pub fn query_span(since: i64, now: i64) -> (i64, i64) {
    let end = now.div_euclid(BUCKET_SECONDS) * BUCKET_SECONDS;
    let first = since.div_euclid(BUCKET_SECONDS) * BUCKET_SECONDS;
    let start = first.min(end - LAG_LOOKBACK_SECONDS);
    (start, end)
}

/// The start of the first minute that began at or after `since`.
pub fn first_minute(since: i64) -> i64 {
    -((-since).div_euclid(BUCKET_SECONDS)) * BUCKET_SECONDS
}

/// Read an answer: every ingested minute since the step's shift (`each`),
/// the newest `minutes` of them summed per target (for `status`), or how
/// long CloudWatch is behind. Pure.
pub fn arrival(raw: &RawAnswer, q: &TrafficQuery, now: i64) -> Arrival {
    let ingested = ingested(raw);
    let lag_seconds = ingested
        .keys()
        .next_back()
        .map(|&t| u64::try_from(now - (t + BUCKET_SECONDS)).unwrap_or(0));
    let from = first_minute(unix(q.since));
    let mut minutes: Vec<i64> = ingested
        .keys()
        .copied()
        .filter(|&t| t >= from && t + BUCKET_SECONDS <= now)
        .collect();
    let each = minutes
        .iter()
        .map(|&m| super::Minute {
            start: m,
            stats: raw.targets.iter().map(|r| aggregate(r, &[m])).collect(),
        })
        .collect();
    let keep = usize::try_from(q.minutes.max(1)).unwrap_or(1);
    minutes = minutes.split_off(minutes.len().saturating_sub(keep));
    let newest = match minutes.last() {
        Some(&n) if q.after.is_none_or(|a| n > a) => n,
        _ => return Arrival::Waiting { lag_seconds },
    };
    Arrival::Arrived(ArrivedTraffic {
        each,
        stats: raw.targets.iter().map(|r| aggregate(r, &minutes)).collect(),
        newest,
        minutes: u32::try_from(minutes.len()).unwrap_or(u32::MAX),
        lag_seconds: lag_seconds.unwrap_or(0),
    })
}

/// The four raw `MetricStat` queries for each target group, ids carrying
/// the group's index (`requests_0`, `requests_1`, ...), each with its own
/// load balancer's dimension, then each load balancer's own
/// `RequestCount` (`lbrequests`, then `lbrequests_1`, ... when the groups
/// are on several). One-minute periods: ALB metrics have no finer
/// resolution.
pub fn build_queries(targets: &[MetricTarget]) -> Vec<MetricDataQuery> {
    let mut out: Vec<MetricDataQuery> = targets
        .iter()
        .enumerate()
        .flat_map(|(i, target)| {
            QUERIES.iter().map(move |&(id, metric_name, stat)| {
                let dims = [
                    dimension("TargetGroup", &target.target_group),
                    dimension("LoadBalancer", &target.load_balancer),
                ];
                query(format!("{id}_{i}"), metric_name, stat, &dims)
            })
        })
        .collect();
    for (j, lb) in load_balancers(targets).into_iter().enumerate() {
        let dims = [dimension("LoadBalancer", lb)];
        let id = match j {
            0 => ID_LB.to_string(),
            j => format!("{ID_LB}_{j}"),
        };
        out.push(query(id, "RequestCount", "Sum", &dims));
    }
    out
}

fn query(id: String, metric_name: &str, stat: &str, dims: &[Dimension]) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(NAMESPACE)
        .metric_name(metric_name)
        .set_dimensions(Some(dims.to_vec()))
        .build();
    let metric_stat = MetricStat::builder()
        .metric(metric)
        .period(BUCKET_SECONDS as i32)
        .stat(stat)
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(metric_stat)
        .return_data(true)
        .build()
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// Append one page's result to its series. Pages of the same query carry
/// disjoint timestamps, so appending is enough.
fn absorb(raw: &mut RawAnswer, result: &MetricDataResult) -> Result<(), String> {
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
    let series = if full_id == ID_LB {
        Some(&mut raw.load_balancer)
    } else if id == ID_LB {
        let j = index.and_then(|i| i.checked_sub(1));
        j.and_then(|j| raw.other_load_balancers.get_mut(j))
    } else {
        let target = index.and_then(|i| raw.targets.get_mut(i));
        target.and_then(|r| r.series_mut(id))
    };
    if let Some(series) = series {
        series
            .timestamps
            .extend(result.timestamps().iter().map(DateTime::secs));
        series.values.extend_from_slice(result.values());
    }
    Ok(())
}

/// One target's traffic over the given ingested minutes. A minute without
/// a datapoint counts as zero: the load balancer published it, so the
/// group's silence is real.
pub fn aggregate(raw: &RawTraffic, minutes: &[i64]) -> TrafficStats {
    let sum = |s: &Series| {
        let by = by_timestamp(s);
        minutes.iter().filter_map(|m| by.get(m)).sum::<f64>()
    };
    TrafficStats {
        requests: sum(&raw.requests),
        target_5xx: sum(&raw.target_5xx),
        connection_errors: sum(&raw.connection_errors),
        avg_response_seconds: weighted_average(raw, minutes),
    }
}

/// Per-timestamp totals, dropping non-finite points so they cannot poison
/// a weight.
pub(super) fn by_timestamp(series: &Series) -> BTreeMap<i64, f64> {
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
fn weighted_average(raw: &RawTraffic, minutes: &[i64]) -> Option<f64> {
    let counts = by_timestamp(&raw.response_count);
    let requests = by_timestamp(&raw.requests);
    let (mut total, mut weight) = (0.0, 0.0);
    let points = raw
        .response_avg
        .timestamps
        .iter()
        .zip(&raw.response_avg.values);
    for (ts, &avg) in points.filter(|(ts, _)| minutes.contains(ts)) {
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
    let lb = load_balancers(targets).join(" and ");
    ProviderError {
        transient: false,
        provider: PROVIDER,
        message: format!(
            "GetMetricData (RequestCount, HTTPCode_Target_5XX_Count, \
             TargetConnectionErrorCount, TargetResponseTime) \
             for target group {} on {lb}: {message}",
            groups.join(" and ")
        ),
    }
}

#[cfg(test)]
#[path = "cloudwatch_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "cloudwatch_lbs_tests.rs"]
mod lbs_tests;
