//! In-memory metric sources for component tests: the traffic each target
//! group reports can be changed while a run is in progress.

use super::{MetricTarget, ProviderError, TrafficSource, TrafficStats};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
pub struct FakeTraffic {
    by_group: Mutex<HashMap<String, Result<Option<TrafficStats>, ProviderError>>>,
    calls: Mutex<usize>,
}

impl FakeTraffic {
    /// Report `requests` with `errors` 5xx for the group whose CloudWatch
    /// dimension is `target_group` (`targetgroup/name/id`).
    pub fn set(&self, target_group: &str, requests: f64, errors: f64) {
        let stats = TrafficStats {
            requests,
            target_5xx: errors,
            avg_response_seconds: Some(0.02),
        };
        self.by_group
            .lock()
            .expect("lock")
            .insert(target_group.to_string(), Ok(Some(stats)));
    }

    pub fn set_no_data(&self, target_group: &str) {
        self.by_group
            .lock()
            .expect("lock")
            .insert(target_group.to_string(), Ok(None));
    }

    pub fn calls(&self) -> usize {
        *self.calls.lock().expect("lock")
    }
}

#[async_trait]
impl TrafficSource for FakeTraffic {
    async fn traffic(
        &self,
        targets: &[MetricTarget],
        _window: Duration,
    ) -> Result<Vec<Option<TrafficStats>>, ProviderError> {
        *self.calls.lock().expect("lock") += 1;
        let by_group = self.by_group.lock().expect("lock");
        targets
            .iter()
            .map(|t| by_group.get(&t.target_group).cloned().unwrap_or(Ok(None)))
            .collect()
    }
}
