//! The A/B report's CloudWatch read: per target group the requests, target
//! 5xx with the 502s of unreachable targets, and TargetResponseTime p50/p99 over a run's whole window, and the
//! load balancer's newest ingested minute in it (so the caller knows
//! whether the window's last minute has arrived yet, or which minutes the
//! numbers cover).
//!
//! Counts are per-minute sums (Period 60) added up; percentiles cannot be
//! added, so they are asked for with one Period spanning the window: a
//! multiple of 60 (what CloudWatch accepts) chosen so the window falls in
//! one bucket whether the service starts buckets at StartTime (AWS) or at
//! multiples of the Period. Only complete minutes exist (`window`).

use super::cloudwatch::{sdk_error_message, BUCKET_SECONDS};
use super::{MetricTarget, ProviderError};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use std::time::SystemTime;

const NAMESPACE: &str = "AWS/ApplicationELB";
const MAX_PAGES: usize = 20;
/// Per target: (id prefix, metric, statistic, whole-window period?).
const SERIES: [(&str, &str, &str, bool); 5] = [
    ("requests", "RequestCount", "Sum", false),
    ("errors", "HTTPCode_Target_5XX_Count", "Sum", false),
    ("unreachable", "TargetConnectionErrorCount", "Sum", false),
    ("pfifty", "TargetResponseTime", "p50", true),
    ("pninetynine", "TargetResponseTime", "p99", true),
];
const ID_LB: &str = "lbrequests";

/// Whole minutes `[from, to)`, Unix seconds: every minute the run touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

/// The minutes that hold `start..end`.
pub fn window(start: SystemTime, end: SystemTime) -> Window {
    let (s, e) = (super::cloudwatch::unix(start), super::cloudwatch::unix(end));
    let from = s.div_euclid(BUCKET_SECONDS) * BUCKET_SECONDS;
    let to = (e.div_euclid(BUCKET_SECONDS) + 1) * BUCKET_SECONDS;
    Window { from, to }
}

/// One target group's totals over the window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    pub requests: f64,
    /// Target 5xx plus the 502s ALB answered when it could not connect to
    /// a target (`TargetConnectionErrorCount`).
    pub errors_5xx: f64,
    /// Seconds; absent without a response, or when the answer split the
    /// window into several buckets.
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer {
    pub totals: Vec<Totals>,
    /// Start of the load balancer's newest ingested minute in the window.
    pub newest: Option<i64>,
}

impl Answer {
    /// Whether the window's last minute has been ingested.
    pub fn complete(&self, w: Window) -> bool {
        self.newest.is_some_and(|n| n >= w.to - BUCKET_SECONDS)
    }
}

/// A Period (multiple of 60) that puts `w` in one bucket both when buckets
/// start at `w.from` and when they start at multiples of the Period.
pub fn whole_period(w: Window) -> i64 {
    let span = (w.to - w.from).max(BUCKET_SECONDS);
    // A boundary falls inside the window less often the longer the Period,
    // so a few steps find one; the bound keeps a pathological case cheap
    // (its percentiles then come back split, and are reported unknown).
    (0..10_000)
        .map(|k| span + k * BUCKET_SECONDS)
        .find(|&p| w.from.div_euclid(p) == (w.to - 1).div_euclid(p))
        .unwrap_or(span)
}

pub fn queries(targets: &[MetricTarget], w: Window) -> Vec<MetricDataQuery> {
    let whole = whole_period(w);
    let mut out = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let dims = [
            dim("TargetGroup", &t.target_group),
            dim("LoadBalancer", &t.load_balancer),
        ];
        for (id, metric, stat, spans) in SERIES {
            let period = if spans { whole } else { BUCKET_SECONDS };
            out.push(query(format!("{id}_{i}"), metric, stat, period, &dims));
        }
    }
    if let Some(t) = targets.first() {
        let dims = [dim("LoadBalancer", &t.load_balancer)];
        out.push(query(
            ID_LB.into(),
            "RequestCount",
            "Sum",
            BUCKET_SECONDS,
            &dims,
        ));
    }
    out
}

fn query(id: String, metric: &str, stat: &str, period: i64, dims: &[Dimension]) -> MetricDataQuery {
    let m = Metric::builder()
        .namespace(NAMESPACE)
        .metric_name(metric)
        .set_dimensions(Some(dims.to_vec()))
        .build();
    let s = MetricStat::builder()
        .metric(m)
        .period(i32::try_from(period).unwrap_or(i32::MAX))
        .stat(stat)
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(s)
        .return_data(true)
        .build()
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// Fold one result (id, timestamps, values) into the answer. Pure.
pub fn absorb(a: &mut Answer, id: &str, stamps: &[i64], values: &[f64]) {
    if id == ID_LB {
        a.newest = stamps.iter().copied().max().max(a.newest);
        return;
    }
    let Some((kind, i)) = id
        .rsplit_once('_')
        .and_then(|(k, i)| Some((k, i.parse::<usize>().ok()?)))
    else {
        return;
    };
    let Some(t) = a.totals.get_mut(i) else { return };
    let finite = values.iter().copied().filter(|v| v.is_finite());
    match kind {
        "requests" => t.requests += finite.sum::<f64>(),
        // A 502 ALB answered because the variant's target could not be
        // reached is a failed request of that variant, as users saw it.
        "errors" | "unreachable" => t.errors_5xx += finite.sum::<f64>(),
        "pfifty" | "pninetynine" => {
            let one: Vec<f64> = finite.collect();
            let v = (one.len() == 1).then(|| one[0]);
            if kind == "pfifty" {
                t.p50 = v
            } else {
                t.p99 = v
            }
        }
        _ => {}
    }
}

/// One read of the window (paginated).
pub async fn fetch(
    client: &aws_sdk_cloudwatch::Client,
    endpoint: &crate::aws_env::Endpoint,
    targets: &[MetricTarget],
    w: Window,
) -> Result<Answer, ProviderError> {
    let err = |m: String| ProviderError {
        transient: false,
        provider: "cloudwatch",
        message: format!("GetMetricData for the A/B report: {m}"),
    };
    let qs = queries(targets, w);
    let mut a = Answer {
        totals: vec![Totals::default(); targets.len()],
        newest: None,
    };
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let out = client
            .get_metric_data()
            .set_metric_data_queries(Some(qs.clone()))
            .start_time(DateTime::from_secs(w.from))
            .end_time(DateTime::from_secs(w.to))
            .scan_by(ScanBy::TimestampDescending)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| err(sdk_error_message(&e, endpoint)))?;
        for r in out.metric_data_results() {
            let stamps: Vec<i64> = r.timestamps().iter().map(DateTime::secs).collect();
            absorb(&mut a, r.id().unwrap_or(""), &stamps, r.values());
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(a),
        }
    }
    Err(err(format!("gave up after {MAX_PAGES} pages")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn the_window_holds_every_minute_the_run_touched() {
        assert_eq!(window(at(125), at(130)), Window { from: 120, to: 180 });
        assert_eq!(window(at(120), at(240)), Window { from: 120, to: 300 });
    }

    #[test]
    fn one_bucket_spans_the_window_either_way() {
        for (from, to) in [
            (120, 180),
            (60, 300),
            (3540, 3660),
            (1_700_000_040, 1_700_000_400),
        ] {
            let w = Window { from, to };
            let p = whole_period(w);
            assert_eq!(p % 60, 0);
            assert!(p >= to - from, "{w:?}: {p}");
            assert_eq!(from / p, (to - 1) / p, "{w:?}: {p}");
        }
    }

    #[test]
    fn answers_add_minutes_and_keep_one_bucket_percentiles() {
        let mut a = Answer {
            totals: vec![Totals::default(); 2],
            newest: None,
        };
        absorb(&mut a, "requests_0", &[120, 180], &[10.0, 5.0]);
        absorb(&mut a, "errors_0", &[180], &[2.0]);
        absorb(&mut a, "pfifty_0", &[120], &[0.02]);
        absorb(&mut a, "pninetynine_1", &[0, 60], &[0.1, 0.2]);
        absorb(&mut a, ID_LB, &[120, 180], &[20.0, 9.0]);
        assert_eq!(
            a.totals[0],
            Totals {
                requests: 15.0,
                errors_5xx: 2.0,
                p50: Some(0.02),
                p99: None
            }
        );
        assert_eq!(a.totals[1].p99, None, "two buckets: no single percentile");
        assert!(a.complete(Window { from: 120, to: 240 }));
        assert!(!a.complete(Window { from: 120, to: 300 }));
    }

    #[test]
    fn a_variants_unreachable_target_502s_count_as_its_errors() {
        let mut a = Answer {
            totals: vec![Totals::default(); 1],
            newest: None,
        };
        absorb(&mut a, "requests_0", &[120], &[30.0]);
        absorb(&mut a, "errors_0", &[120], &[1.0]);
        absorb(&mut a, "unreachable_0", &[120], &[10.0]);
        assert_eq!(a.totals[0].errors_5xx, 11.0);
    }
}
