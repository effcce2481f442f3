//! `shadow`: real traffic from the ALB's access logs replayed to green
//! before any user reaches it. `log` parses AWS's line format, `keys` the
//! objects' layout in S3, `s3` reads them (SigV4 over plain HTTPS),
//! `select` picks what blue served on the route and what is sent of it,
//! `replay` sends it, `judge` compares both answers, `report` shows the
//! result. The ports here (`LogSource`, `Replayer`) are what the
//! executor's replay-and-judge action (`executor::shadow`) runs against;
//! tests give it fakes.

pub mod judge;
pub mod keys;
pub mod log;
pub mod replay;
pub mod report;
pub mod s3;
pub mod select;

use select::{Replay, Selection, Skip};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

/// The lines of the log objects that may cover a window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRead {
    pub objects: usize,
    pub lines: Vec<String>,
}

#[async_trait::async_trait]
pub trait LogSource: Send + Sync {
    async fn read(&self, since: SystemTime, until: SystemTime) -> Result<LogRead, String>;
}

#[async_trait::async_trait]
pub trait Replayer: Send + Sync {
    /// Send one request with the run's header: green's status and its
    /// server-side seconds, or why there is no answer.
    async fn send(&self, r: &Replay, header: (&str, &str)) -> Result<(u16, f64), String>;
}

/// What a run's replay reads and sends through.
#[derive(Clone)]
pub struct ShadowPorts {
    pub logs: Arc<dyn LogSource>,
    pub replayer: Arc<dyn Replayer>,
}

/// The requests to replay, in log order, and what was left out and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prepared {
    pub replays: Vec<Replay>,
    pub lines: u64,
    /// Malformed lines by reason (counted, skipped).
    pub malformed: BTreeMap<String, u64>,
    pub not_on_route: u64,
    pub outside_window: u64,
    /// Methods not replayed (`--methods`), by method.
    pub methods_skipped: BTreeMap<String, u64>,
    pub sampled_out: u64,
}

/// Parse and select every line (pure).
pub fn prepare(lines: &[String], s: &Selection, replay_auth: bool) -> Prepared {
    let mut p = Prepared::default();
    let mut picked = vec![];
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        p.lines += 1;
        let e = match log::parse(line) {
            Ok(e) => e,
            Err(m) => {
                *p.malformed.entry(m.to_string()).or_default() += 1;
                continue;
            }
        };
        match select::select(s, &e, line) {
            Ok(()) => match select::replay(&e, replay_auth) {
                Some(r) => picked.push((e.time, r)),
                None => *p.malformed.entry("bad request URL".into()).or_default() += 1,
            },
            Err(Skip::NotBlueOnRoute) => p.not_on_route += 1,
            Err(Skip::OutsideWindow) => p.outside_window += 1,
            Err(Skip::Method) => *p.methods_skipped.entry(e.method.clone()).or_default() += 1,
            Err(Skip::Sampled) => p.sampled_out += 1,
        }
    }
    // Objects come in key order, not time order: replay as users came.
    picked.sort_by_key(|(t, _)| *t);
    p.replays = picked.into_iter().map(|(_, r)| r).collect();
    p
}

#[cfg(test)]
mod tests;
