//! `rollback --wait D`: a recovery step often starts seconds after its
//! runner was lost, while the dead run's heartbeat is still fresh. Rather
//! than refuse (and restore nothing), it polls the record and heartbeat
//! until the heartbeat is stale, the record is gone (the run finished or
//! reverted itself), or `D` has passed. The decision is pure (`next`); the
//! loop reads the tags through the port and sleeps on tokio's clock, so
//! component tests run it under `tokio::time::pause()`.

use crate::alb::state_tags::Heartbeat;
use crate::alb::LoadBalancerPort;
use std::collections::BTreeMap;
use std::time::Duration;

/// The longest sleep between two reads: a run that finishes its own
/// revert while we wait is noticed within this.
pub const POLL: Duration = Duration::from_secs(5);

/// What the recorded run looks like at one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The run id of the record there now (`None`: no record).
    pub run_id: Option<String>,
    pub beat: Option<Heartbeat>,
}

/// What to do after one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The run is gone (stale heartbeat, or none): restore now.
    Restore,
    /// Alive: read again after this long.
    Sleep(Duration),
    /// The record of the run we waited for is gone: nothing to restore.
    Gone(String),
    /// Still alive and the wait is over: refuse, with why.
    GiveUp(String),
}

/// Decide from one read, at unix time `now`, with `left` of the wait
/// remaining (zero without `--wait`). `run_id` is the run we found first.
pub fn next(run_id: &str, seen: &Seen, now: u64, left: Duration, waited: Duration) -> Next {
    match seen.run_id.as_deref() {
        None => {
            return Next::Gone(format!(
            "run {run_id} removed its own record while rollback waited (it finished or reverted itself); nothing to roll back"
        ))
        }
        Some(other) if other != run_id => {
            return Next::Gone(format!(
            "run {run_id} removed its own record while rollback waited (it finished or reverted itself); run {other} is recorded now and is left alone"
        ))
        }
        Some(_) => {}
    }
    let Some(beat) = seen.beat.filter(|b| !b.stale(now)) else {
        return Next::Restore;
    };
    if left.is_zero() {
        return Next::GiveUp(alive_text(run_id, beat, now, waited));
    }
    let stale_at = beat.at + Heartbeat::MISSED * beat.every.max(1) + 1;
    let until_stale = Duration::from_secs(stale_at.saturating_sub(now).max(1));
    Next::Sleep(until_stale.min(POLL).min(left))
}

/// Why a rollback must not act now: the run still beats, so its next write
/// would race ours.
pub fn alive_text(run_id: &str, beat: Heartbeat, now: u64, waited: Duration) -> String {
    let waited = match waited.as_secs() {
        0 => String::new(),
        s => format!(
            "after waiting {}, ",
            humantime::format_duration(Duration::from_secs(s))
        ),
    };
    format!(
        "{waited}run {run_id} is still alive: its last heartbeat was {}s ago and it beats every {}s, so a rollback now would race its next write. Cancel that run instead (it reverts itself), wait until its heartbeat is over {}s old (--wait {}s), or pass --force if you know it is gone",
        beat.age(now),
        beat.every,
        Heartbeat::MISSED * beat.every,
        (Heartbeat::MISSED * beat.every + 1).saturating_sub(beat.age(now))
    )
}

/// How a wait ended.
#[derive(Debug)]
pub enum Waited {
    /// Restore now, from these tags (read last).
    Free(BTreeMap<String, String>),
    Gone(String),
    GiveUp(String),
    /// A read failed.
    Error(String),
}

/// What is waited for: the run `run_id` recorded on `owner`, whose tags
/// read `first` when it was found; `run_of` reads the run id of the record
/// kind this owner holds.
pub struct Watch<'a> {
    pub owner: &'a str,
    pub run_id: &'a str,
    pub run_of: &'a dyn Fn(&BTreeMap<String, String>) -> Option<String>,
    pub first: BTreeMap<String, String>,
}

/// Judge `first`, then poll the owner's tags until `next` says restore,
/// gone or give up. `start` is the wall clock (unix seconds) when the
/// wait began, advanced by tokio's clock so a paused test ages the
/// heartbeat too.
pub async fn wait(
    lb: &dyn LoadBalancerPort,
    w: Watch<'_>,
    limit: Duration,
    start: u64,
    say: &mut dyn FnMut(String),
) -> Waited {
    let (owner, run_id) = (w.owner, w.run_id);
    let began = tokio::time::Instant::now();
    let mut announced = false;
    let mut tags = w.first;
    loop {
        let waited = began.elapsed();
        let now = start + waited.as_secs();
        let seen = Seen {
            run_id: (w.run_of)(&tags),
            beat: Heartbeat::read(&tags),
        };
        match next(run_id, &seen, now, limit.saturating_sub(waited), waited) {
            Next::Restore => return Waited::Free(tags),
            Next::Gone(m) => return Waited::Gone(m),
            Next::GiveUp(m) => return Waited::GiveUp(m),
            Next::Sleep(d) => {
                if !announced {
                    announced = true;
                    say(waiting_text(run_id, owner, &seen, now, limit));
                }
                tokio::time::sleep(d).await;
                tags = match lb.tags(owner).await {
                    Ok(t) => t,
                    Err(e) => return Waited::Error(e.to_string()),
                };
            }
        }
    }
}

fn waiting_text(run_id: &str, owner: &str, seen: &Seen, now: u64, limit: Duration) -> String {
    let (age, every) = seen.beat.map_or((0, 0), |b| (b.age(now), b.every));
    format!(
        "run {run_id} on {owner} still beats (last heartbeat {age}s ago, every {every}s): waiting up to {} for its heartbeat to be over {}s old, or for the run to remove its record",
        humantime::format_duration(limit),
        Heartbeat::MISSED * every
    )
}

#[cfg(test)]
#[path = "rollback_wait_tests.rs"]
mod tests;
