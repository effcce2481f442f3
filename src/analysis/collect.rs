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
    let traffic = |t: MetricTarget| {
        let source = src.traffic.clone();
        let window = src.window;
        async move {
            match source {
                Some(s) => Some(s.traffic(&t, window).await.map_err(|e| e.to_string())),
                None => None,
            }
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
    let (h, g, b, p, q) = tokio::join!(
        health,
        traffic(subj.green.clone()),
        traffic(subj.blue.clone()),
        probe,
        prometheus
    );
    Sample {
        green_health: Some(h),
        green: g,
        blue: b,
        probe: p,
        prometheus: q,
    }
}
