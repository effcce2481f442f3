//! Gathering one analysis sample: green's target health, green's and blue's
//! traffic, the optional probe and Prometheus query, all concurrently. Only
//! reads; a provider failure is kept in the sample for the judge to weigh,
//! and CloudWatch's lag becomes "waiting", never "no data".

use super::judge::Sample;
use crate::alb::{HealthCounts, LoadBalancerPort};
use crate::provider::{
    Arrival, MetricTarget, Probe, ScalarSource, TrafficQuery, TrafficSource, TrafficStats,
};
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Clone)]
pub struct Sources {
    pub lb: Arc<dyn LoadBalancerPort>,
    pub traffic: Option<Arc<dyn TrafficSource>>,
    pub probe: Option<Arc<dyn Probe>>,
    pub prometheus: Option<Arc<dyn ScalarSource>>,
    /// How many of the newest ingested CloudWatch minutes one judgement
    /// sums (`--metric-period` in minutes).
    pub judge_minutes: u32,
}

#[derive(Debug, Clone)]
pub struct Subjects {
    pub green_arn: String,
    pub green: MetricTarget,
    /// `None`: one group judged alone (`rolling`).
    pub blue: Option<MetricTarget>,
}

/// Which traffic a judgement reads: CloudWatch minutes that began at or
/// after `since` (the step's shift) and are newer than `after` (the minute
/// the previous judgement of this step read).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub since: SystemTime,
    pub after: Option<i64>,
}

pub async fn collect(src: &Sources, subj: &Subjects, w: Window) -> Sample {
    let health = async {
        src.lb
            .target_health(&subj.green_arn)
            .await
            .map(|h| HealthCounts::of(&h))
            .map_err(|e| e.to_string())
    };
    // Green and blue in one request, so both are measured over the same window.
    let traffic = async {
        match &src.traffic {
            Some(t) => {
                let q = TrafficQuery {
                    since: w.since,
                    minutes: src.judge_minutes,
                    after: w.after,
                };
                let groups: Vec<MetricTarget> = std::iter::once(subj.green.clone())
                    .chain(subj.blue.clone())
                    .collect();
                Some(t.traffic(&groups, q).await)
            }
            None => None,
        }
    };
    let probe = async {
        match &src.probe {
            Some(p) => Some(p.probe().await),
            None => None,
        }
    };
    let prometheus = async {
        match &src.prometheus {
            Some(p) => Some(p.value().await.map_err(|e| e.to_string())),
            None => None,
        }
    };
    let (h, t, p, q) = tokio::join!(health, traffic, probe, prometheus);
    let single = subj.blue.is_none();
    let mut sample = Sample {
        green_health: Some(h),
        single,
        probe: p,
        prometheus: q,
        ..Sample::default()
    };
    match t {
        None => {}
        Some(Err(e)) => {
            sample.green = Some(Err(e.to_string()));
            sample.blue = (!single).then(|| Err(e.to_string()));
        }
        Some(Ok(Arrival::Waiting { lag_seconds })) => {
            sample.metrics_waiting = Some(Arrival::waiting_text(lag_seconds));
        }
        Some(Ok(Arrival::Arrived(a))) => {
            let pick = |i: usize| Ok(a.stats.get(i).copied().filter(has_datapoint));
            sample.green = Some(pick(0));
            sample.blue = (!single).then(|| pick(1));
            sample.judged_minute = Some(a.newest);
        }
    }
    sample
}

/// Zero requests in ingested minutes is a real zero, kept as "no requests"
/// for the judge's message.
fn has_datapoint(s: &TrafficStats) -> bool {
    s.requests > 0.0
}
