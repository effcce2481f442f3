//! Gathering one analysis sample: green's target health, green's and blue's
//! traffic, the optional probe and Prometheus query, all concurrently. Only
//! reads; a provider failure is kept in the sample for the judge to weigh.

use super::judge::Sample;
use crate::alb::{HealthCounts, LoadBalancerPort};
use crate::provider::{MetricTarget, Probe, ScalarSource, TrafficSource};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Sources {
    pub lb: Arc<dyn LoadBalancerPort>,
    pub traffic: Option<Arc<dyn TrafficSource>>,
    pub probe: Option<Arc<dyn Probe>>,
    pub prometheus: Option<Arc<dyn ScalarSource>>,
    /// Trailing metric window (`--metric-period`).
    pub window: Duration,
}

#[derive(Debug, Clone)]
pub struct Subjects {
    pub green_arn: String,
    pub green: MetricTarget,
    pub blue: MetricTarget,
}

pub async fn collect(src: &Sources, subj: &Subjects) -> Sample {
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
            Some(t) => Some(
                t.traffic(&[subj.green.clone(), subj.blue.clone()], src.window)
                    .await,
            ),
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
    let (green, blue) = match t {
        None => (None, None),
        Some(Err(e)) => (Some(Err(e.to_string())), Some(Err(e.to_string()))),
        Some(Ok(v)) => (
            Some(Ok(v.first().copied().flatten())),
            Some(Ok(v.get(1).copied().flatten())),
        ),
    };
    Sample {
        green_health: Some(h),
        green,
        blue,
        probe: p,
        prometheus: q,
    }
}
