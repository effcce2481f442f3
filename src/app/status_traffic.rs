//! The CloudWatch part of `status`: each forwarded group's requests and 5xx
//! in the newest minute CloudWatch has ingested, or that CloudWatch is
//! still behind. Read-only; a missing permission is shown, not fatal.

use super::status::Status;
use crate::provider::cloudwatch::CloudWatchTraffic;
use crate::provider::{Arrival, MetricTarget, TrafficQuery, TrafficSource};
use serde::Serialize;
use std::time::{Duration, SystemTime};

/// How far back `status` looks for the newest ingested minute.
const LOOKBACK: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Serialize, PartialEq)]
pub struct GroupTraffic {
    pub name: String,
    pub requests: f64,
    pub target_5xx: f64,
    /// Requests ALB answered with a 502: the target could not be reached.
    pub connection_errors: f64,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum TrafficStatus {
    /// The newest ingested minute (start, Unix seconds) and its lag.
    Minute {
        minute_start_unix: i64,
        lag_seconds: u64,
        groups: Vec<GroupTraffic>,
    },
    Waiting {
        message: String,
    },
    Unavailable {
        error: String,
    },
}

/// Ask CloudWatch about the groups `status` found.
pub async fn read(config: &aws_config::SdkConfig, s: &Status) -> Option<TrafficStatus> {
    if s.target_groups.is_empty() {
        return None;
    }
    let lb = &s.listener.load_balancer_arn;
    let targets: Vec<MetricTarget> = s
        .target_groups
        .iter()
        .map(|g| MetricTarget::from_arns(&g.arn, lb))
        .collect();
    let query = TrafficQuery {
        since: SystemTime::now() - LOOKBACK,
        minutes: 1,
        after: None,
    };
    let answer = CloudWatchTraffic::new(config)
        .traffic(&targets, query)
        .await;
    Some(summarize(s, answer.map_err(|e| e.to_string())))
}

pub fn summarize(s: &Status, answer: Result<Arrival, String>) -> TrafficStatus {
    match answer {
        Err(error) => TrafficStatus::Unavailable { error },
        Ok(Arrival::Waiting { lag_seconds }) => TrafficStatus::Waiting {
            message: Arrival::waiting_text(lag_seconds),
        },
        Ok(Arrival::Arrived(a)) => TrafficStatus::Minute {
            minute_start_unix: a.newest,
            lag_seconds: a.lag_seconds,
            groups: s
                .target_groups
                .iter()
                .zip(&a.stats)
                .map(|(g, t)| GroupTraffic {
                    name: g.name.clone(),
                    requests: t.requests,
                    target_5xx: t.target_5xx,
                    connection_errors: t.connection_errors,
                })
                .collect(),
        },
    }
}

/// The text lines for `status`.
pub fn lines(t: &TrafficStatus) -> Vec<String> {
    match t {
        TrafficStatus::Unavailable { error } => vec![format!("traffic: unavailable: {error}")],
        TrafficStatus::Waiting { message } => vec![format!("traffic: {message}")],
        TrafficStatus::Minute {
            lag_seconds,
            groups,
            ..
        } => {
            let mut out = vec![format!(
                "traffic in the newest minute CloudWatch has (it ended {lag_seconds} s ago):"
            )];
            out.extend(groups.iter().map(|g| {
                let rate = if g.requests > 0.0 {
                    let unreachable = match g.connection_errors {
                        n if n > 0.0 => {
                            format!(", {:.2}% 502 (target unreachable)", n * 100.0 / g.requests)
                        }
                        _ => String::new(),
                    };
                    format!(
                        "{:.2}% 5xx{unreachable}",
                        g.target_5xx * 100.0 / g.requests + 0.0
                    )
                } else {
                    "no requests".to_string()
                };
                format!("  {:<32} {:>8} requests  {rate}", g.name, g.requests)
            }));
            out
        }
    }
}
