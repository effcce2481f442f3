//! In-memory metric sources for component tests: the traffic each target
//! group reports can be changed while a run is in progress, and CloudWatch
//! can be made to lag (answer "waiting") for a number of calls.

use super::cloudwatch::{first_minute, unix};
use super::{
    Arrival, ArrivedTraffic, MetricTarget, Minute, ProviderError, TrafficQuery, TrafficSource,
    TrafficStats,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
struct State {
    by_group: HashMap<String, Result<Option<TrafficStats>, ProviderError>>,
    calls: usize,
    /// Calls still to answer "waiting", as a lagging CloudWatch does.
    waiting: usize,
    /// Calls still to fail as a throttled GetMetricData does.
    throttled: usize,
    queries: Vec<TrafficQuery>,
    /// The current query's `since`, and when (on tokio's clock, which tests
    /// pause) it was first asked for: one minute "arrives" per minute after.
    step: Option<(std::time::SystemTime, tokio::time::Instant)>,
    /// Each minute's traffic as first reported, keyed by (since, index):
    /// a minute, once published, does not change.
    published: HashMap<(std::time::SystemTime, i64), Vec<TrafficStats>>,
    /// A group's traffic in minute `k` of every step, over `by_group`.
    scripted: HashMap<(String, i64), TrafficStats>,
}

#[derive(Default)]
pub struct FakeTraffic {
    state: Mutex<State>,
}

impl FakeTraffic {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("lock"))
    }

    /// Report `requests` with `errors` 5xx for the group whose CloudWatch
    /// dimension is `target_group` (`targetgroup/name/id`).
    pub fn set(&self, target_group: &str, requests: f64, errors: f64) {
        let stats = TrafficStats {
            requests,
            target_5xx: errors,
            connection_errors: 0.0,
            avg_response_seconds: Some(0.02),
        };
        self.with(|s| s.by_group.insert(target_group.to_string(), Ok(Some(stats))));
    }

    /// In minute `k` (0: the first whole minute) of each step, the group
    /// whose dimension is `target_group` reports this instead.
    pub fn set_minute(&self, target_group: &str, k: i64, requests: f64, errors: f64) {
        let stats = TrafficStats {
            requests,
            target_5xx: errors,
            connection_errors: 0.0,
            avg_response_seconds: Some(0.02),
        };
        self.with(|s| s.scripted.insert((target_group.to_string(), k), stats));
    }

    /// The group published nothing (a provider answer of "no datapoints").
    pub fn set_no_data(&self, target_group: &str) {
        self.with(|s| s.by_group.insert(target_group.to_string(), Ok(None)));
    }

    /// Answer "waiting for CloudWatch" to the next `calls` calls.
    pub fn lag_for(&self, calls: usize) {
        self.with(|s| s.waiting = calls);
    }

    /// Fail the next `calls` calls with a transient (throttling) error.
    pub fn throttle_next(&self, calls: usize) {
        self.with(|s| s.throttled = calls);
    }

    pub fn calls(&self) -> usize {
        self.with(|s| s.calls)
    }

    /// Every query received, in order.
    pub fn queries(&self) -> Vec<TrafficQuery> {
        self.with(|s| s.queries.clone())
    }
}

#[async_trait]
impl TrafficSource for FakeTraffic {
    /// A minute "arrives" for every whole minute of tokio time since the
    /// step's first query (tests run on paused time, so the wall clock in
    /// `since` is only an identity).
    async fn traffic(
        &self,
        targets: &[MetricTarget],
        query: TrafficQuery,
    ) -> Result<Arrival, ProviderError> {
        self.with(|s| {
            s.calls += 1;
            s.queries.push(query);
            if s.throttled > 0 {
                s.throttled -= 1;
                return Err(ProviderError {
                    provider: "cloudwatch",
                    message: "GetMetricData: Throttling: Rate exceeded".into(),
                    transient: true,
                });
            }
            if s.waiting > 0 {
                s.waiting -= 1;
                return Ok(Arrival::Waiting {
                    lag_seconds: Some(120),
                });
            }
            let mut stats = Vec::new();
            for t in targets {
                match s.by_group.get(&t.target_group).cloned() {
                    Some(Err(e)) => return Err(e),
                    Some(Ok(Some(st))) => stats.push(st),
                    Some(Ok(None)) | None => stats.push(TrafficStats {
                        requests: 0.0,
                        target_5xx: 0.0,
                        connection_errors: 0.0,
                        avg_response_seconds: None,
                    }),
                }
            }
            let now = tokio::time::Instant::now();
            let started = match s.step {
                Some((since, at)) if since == query.since => at,
                _ => {
                    s.step = Some((query.since, now));
                    now
                }
            };
            let whole = i64::try_from(now.duration_since(started).as_secs() / 60).unwrap_or(0);
            let newest = first_minute(unix(query.since)) + (whole - 1) * 60;
            if whole == 0 || query.after.is_some_and(|a| newest <= a) {
                return Ok(Arrival::Waiting {
                    lag_seconds: Some(60),
                });
            }
            let first = first_minute(unix(query.since));
            let mut each = Vec::new();
            for k in 0..whole {
                let mut minute = stats.clone();
                for (i, t) in targets.iter().enumerate() {
                    if let Some(st) = s.scripted.get(&(t.target_group.clone(), k)) {
                        minute[i] = *st;
                    }
                }
                let published = s.published.entry((query.since, k));
                each.push(Minute {
                    start: first + k * 60,
                    stats: published.or_insert(minute).clone(),
                });
            }
            Ok(Arrival::Arrived(ArrivedTraffic {
                each,
                stats,
                newest,
                minutes: 1,
                lag_seconds: 90,
            }))
        })
    }
}
