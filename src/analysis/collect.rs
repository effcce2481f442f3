//! Gathering one analysis sample: green's target health, green's and blue's
//! traffic, the optional probe and Prometheus query, all concurrently. Only
//! reads; a provider failure is kept in the sample for the judge to weigh,
//! and CloudWatch's lag becomes "waiting", never "no data". Every new
//! CloudWatch minute is judged (`analysis::minutes`), so one interval may
//! give several samples.

use super::judge::{CommandCheck, Sample};
use super::minutes::{next_batches, Judged};
use crate::alb::{HealthCounts, LoadBalancerPort};
use crate::provider::{
    Arrival, MetricTarget, Probe, ScalarSource, TrafficQuery, TrafficSource, TrafficStats,
};
use std::sync::Arc;
use std::time::SystemTime;

/// How long after a transient read failure (throttling, a 5xx) the read is
/// tried once more, inside the same interval (which is at least 1 s): one
/// throttled call must not become "no data", which reverts a good green
/// with the defaults. A second failure is kept for the judge.
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Clone)]
pub struct Sources {
    pub lb: Arc<dyn LoadBalancerPort>,
    pub traffic: Option<Arc<dyn TrafficSource>>,
    pub probe: Option<Arc<dyn Probe>>,
    pub prometheus: Option<Arc<dyn ScalarSource>>,
    /// How many of the newest ingested CloudWatch minutes one judgement
    /// sums (`--metric-period` in minutes).
    pub judge_minutes: u32,
    /// The command runner, the `--check` commands, the hooks' context.
    pub commands: crate::command::Commands,
    /// `shadow`: the access logs and the replay to green.
    pub shadow: Option<crate::shadow::ShadowPorts>,
}

#[derive(Debug, Clone)]
pub struct Subjects {
    pub green_arn: String,
    pub green: MetricTarget,
    /// `None`: one group judged alone (`rolling`).
    pub blue: Option<MetricTarget>,
    /// Each other load balancer's green and blue (routes on several load
    /// balancers): measured in the same call, summed per side (`sides`).
    pub other_lbs: Vec<LbMetrics>,
}

/// One other load balancer's green and blue.
#[derive(Debug, Clone)]
pub struct LbMetrics {
    pub green_arn: String,
    pub green: MetricTarget,
    pub blue: MetricTarget,
}

/// Which traffic a judgement reads: CloudWatch minutes that began at or
/// after `since` (the step's shift) and that `judged` has not judged yet.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    pub since: SystemTime,
    pub judged: &'a Judged,
}

/// One interval's samples: the first carries target health, the probe and
/// Prometheus with the oldest batch of new CloudWatch minutes (or the
/// reason none is judged yet); each further batch is a sample of its own,
/// so every minute is judged once and on its own merits.
pub async fn collect(src: &Sources, subj: &Subjects, w: Window<'_>) -> Vec<Sample> {
    let health = greens_health(src, subj);
    // Green and blue in one request, so both are measured over the same window.
    let traffic = async {
        match &src.traffic {
            Some(t) => {
                let q = TrafficQuery {
                    since: w.since,
                    minutes: src.judge_minutes,
                    after: None,
                };
                let groups: Vec<MetricTarget> = super::sides::targets(subj);
                let got = match t.traffic(&groups, q).await {
                    Err(e) if e.transient => {
                        tokio::time::sleep(RETRY_AFTER).await;
                        t.traffic(&groups, q).await
                    }
                    r => r,
                };
                Some(got.map(|a| super::sides::fold(a, &super::sides::sides(subj))))
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
    let (h, t, p, q, c) = tokio::join!(health, traffic, probe, prometheus, commands(src));
    let single = subj.blue.is_none();
    let first = Sample {
        green_health: Some(h),
        single,
        probe: p,
        prometheus: q,
        commands: c,
        ..Sample::default()
    };
    with_traffic(first, t, w.judged, src.judge_minutes)
}

/// Green's target health; with several load balancers, each green's, the
/// first with no healthy target if any (it fails the check), else all
/// counted together.
async fn greens_health(src: &Sources, subj: &Subjects) -> Result<HealthCounts, String> {
    let arns = std::iter::once(&subj.green_arn).chain(subj.other_lbs.iter().map(|o| &o.green_arn));
    let mut all = vec![];
    for arn in arns {
        let read = || src.lb.target_health(arn);
        let h = match read().await {
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(RETRY_AFTER).await;
                read().await
            }
            r => r,
        }
        .map_err(|e| e.to_string())?;
        if HealthCounts::of(&h).healthy == 0 {
            return Ok(HealthCounts::of(&h));
        }
        all.extend(h);
    }
    Ok(HealthCounts::of(&all))
}

/// Every `--check` command, run at once. Dropping this (a cancel) drops
/// the set, and with it each command's process group.
async fn commands(src: &Sources) -> Vec<CommandCheck> {
    let c = &src.commands;
    let Some(runner) = c.runner.clone() else {
        return vec![];
    };
    let mut set = tokio::task::JoinSet::new();
    for (i, spec) in c.checks.iter().cloned().enumerate() {
        let runner = runner.clone();
        set.spawn(async move {
            let res = runner.run(&spec, &crate::signal::Cancel::new()).await;
            (i, CommandCheck::of(&spec, &res))
        });
    }
    let mut out: Vec<(usize, CommandCheck)> = Vec::with_capacity(c.checks.len());
    while let Some(r) = set.join_next().await {
        if let Ok(done) = r {
            out.push(done);
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, c)| c).collect()
}

fn with_traffic(
    mut first: Sample,
    t: Option<Result<Arrival, crate::provider::ProviderError>>,
    judged: &Judged,
    per: u32,
) -> Vec<Sample> {
    let single = first.single;
    let arrived = match t {
        None => return vec![first],
        Some(Err(e)) => {
            first.green = Some(Err(e.to_string()));
            first.blue = (!single).then(|| Err(e.to_string()));
            return vec![first];
        }
        Some(Ok(Arrival::Waiting { lag_seconds })) => {
            first.metrics_waiting = Some(Arrival::waiting_text(lag_seconds));
            return vec![first];
        }
        Some(Ok(Arrival::Arrived(a))) => a,
    };
    let targets = if single { 1 } else { 2 };
    let batches = next_batches(&arrived.each, judged, per, targets);
    if batches.is_empty() {
        first.metrics_waiting = Some(Arrival::waiting_text(Some(arrived.lag_seconds)));
        return vec![first];
    }
    let mut out = Vec::with_capacity(batches.len());
    for (i, b) in batches.into_iter().enumerate() {
        let mut s = match i {
            0 => first.clone(),
            _ => Sample {
                single,
                ..Sample::default()
            },
        };
        let pick = |i: usize| Ok(b.stats.get(i).copied().filter(has_datapoint));
        s.green = Some(pick(0));
        s.blue = (!single).then(|| pick(1));
        s.judged_minute = b.minutes.last().copied();
        s.judged_minutes = b.minutes;
        out.push(s);
    }
    out
}

/// Zero requests in ingested minutes is a real zero, kept as "no requests"
/// for the judge's message.
fn has_datapoint(s: &TrafficStats) -> bool {
    s.requests > 0.0
}
