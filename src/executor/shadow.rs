//! The replay-and-judge action (`Action::Shadow`): read the access logs
//! that cover the window, pick blue's requests on the route, send them to
//! green through the run's rule at `--rate` until they run out or
//! `--duration` ends, and judge the answers. A wait like a bake: every
//! read, send and pause is abandoned on a cancel, and nothing here changes
//! the load balancer. The verdict is a check: a failure reverts the run.

use super::Executor;
use crate::analysis::NoDataPolicy;
use crate::engine::{Reason, ShadowSpec};
use crate::report::Progress;
use crate::shadow::judge::{judge, Outcome, Verdict};
use crate::shadow::report::ShadowReport;
use crate::shadow::select::{Replay, Selection};
use crate::shadow::{prepare, ShadowPorts};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// How long a created rule takes to reach the load balancer's nodes
/// (ELBv2 answers before they apply it): requests sent sooner could still
/// reach blue and make green look like blue.
pub const RULE_PROPAGATION: Duration = Duration::from_secs(5);

fn selection(s: &ShadowSpec, until: SystemTime) -> Selection {
    Selection {
        elb: s.elb.clone(),
        port: s.port,
        blue: s.blue.clone(),
        priority: s.priority,
        since: until.checked_sub(s.since).unwrap_or(SystemTime::UNIX_EPOCH),
        until,
        methods: s.methods.clone(),
        sample_bp: s.sample_bp,
    }
}

impl Executor<'_> {
    pub(super) async fn shadow(&mut self, s: &ShadowSpec) -> Result<(), Reason> {
        let Some(ports) = self.src.shadow.clone() else {
            return Err(Reason::Error(
                "shadow: no log source was set up for the run".into(),
            ));
        };
        let until = SystemTime::now();
        let sel = selection(s, until);
        let read = self
            .unless_cancelled(ports.logs.read(sel.since, until))
            .await?
            .map_err(|e| {
                Reason::Error(format!("shadow: the access logs could not be read: {e}"))
            })?;
        let prepared = prepare(&read.lines, &sel, s.replay_auth);
        self.out.progress(Progress::Shadow(format!(
            "shadow: {} requests of blue to replay from {} log objects ({} lines); waiting {}s for the rule to propagate",
            prepared.replays.len(),
            read.objects,
            prepared.lines,
            RULE_PROPAGATION.as_secs()
        )));
        if !prepared.replays.is_empty() {
            self.wait(RULE_PROPAGATION, "waiting for the shadow rule to propagate")
                .await?;
        }
        let outcomes = self.replay_all(&ports, &prepared.replays, s).await?;
        let not_sent = (prepared.replays.len() - outcomes.len()) as u64;
        let j = judge(&outcomes, s.bounds);
        let report = ShadowReport::new(read.objects, &prepared, not_sent, j.clone());
        for line in report.lines() {
            self.out.progress(Progress::Shadow(line));
        }
        self.report.shadow = Some(report);
        let reason = j.reason.unwrap_or_default();
        match (j.verdict, s.on_no_data) {
            (Verdict::Pass, _) => Ok(()),
            (Verdict::NoData, NoDataPolicy::Pass) => {
                self.warn(format!("shadow: {reason}; passed (--on-no-data pass)"));
                Ok(())
            }
            (Verdict::NoData, _) => Err(Reason::CheckFailed(format!(
                "shadow: {reason}; failed (--on-no-data {}): widen --since, check --access-logs, or pass --on-no-data pass",
                match s.on_no_data {
                    NoDataPolicy::Pause => "pause",
                    _ => "fail",
                }
            ))),
            (Verdict::Fail, _) => Err(Reason::CheckFailed(reason)),
        }
    }

    /// Send each request at its slot of `--rate`, until they run out or
    /// `--duration` ends; a cancel stops at once.
    async fn replay_all(
        &mut self,
        ports: &ShadowPorts,
        replays: &[Replay],
        s: &ShadowSpec,
    ) -> Result<Vec<Outcome>, Reason> {
        let start = Instant::now();
        let end = start + s.duration;
        let gap = Duration::from_secs_f64(1000.0 / s.rate_milli.max(1) as f64);
        let header = (s.header.as_str(), s.value.as_str());
        let mut out = Vec::with_capacity(replays.len());
        for (i, r) in replays.iter().enumerate() {
            let slot = start + gap.mul_f64(i as f64);
            if slot >= end {
                break;
            }
            self.unless_cancelled(tokio::time::sleep_until(slot))
                .await?;
            let sent = self
                .unless_cancelled(ports.replayer.send(r, header))
                .await?;
            out.push(Outcome {
                path: r.path.clone(),
                blue_status: r.blue_status,
                blue_seconds: r.blue_seconds,
                green: sent.map_err(|e| crate::redact::text(&e)),
                timed: i > 0,
            });
        }
        Ok(out)
    }
}
