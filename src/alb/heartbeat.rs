//! A live run's heartbeat tag: how `rollback` (and `status`) tell a run
//! that is still going from one that died without cleaning up. Written by
//! every run, route or group, next to its record.

use std::collections::BTreeMap;

pub(crate) const BEAT: &str = "alb-rollout:beat";

/// A live run's heartbeat, `alb-rollout:beat` = `AT EVERY`: when it last
/// showed it was alive (unix seconds) and how often it promised to (its
/// analysis interval). Kept apart from `RunRecord`, which must read back
/// unchanged while the beat moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub at: u64,
    pub every: u64,
}

impl Heartbeat {
    /// Missing this many beats in a row means the run is gone.
    pub const MISSED: u64 = 2;

    pub fn tag(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(BEAT.to_string(), format!("{} {}", self.at, self.every))])
    }

    /// The run's heartbeat, if it recorded one (older versions did not).
    pub fn read(tags: &BTreeMap<String, String>) -> Option<Heartbeat> {
        let (at, every) = tags.get(BEAT)?.split_once(' ')?;
        Some(Heartbeat {
            at: at.parse().ok()?,
            every: every.parse().ok()?,
        })
    }

    /// Seconds since the last beat, at unix time `now` (0 if in the future:
    /// clocks of two machines differ).
    pub fn age(&self, now: u64) -> u64 {
        now.saturating_sub(self.at)
    }

    /// No beat for more than `MISSED` intervals: the run is gone.
    pub fn stale(&self, now: u64) -> bool {
        self.age(now) > Self::MISSED * self.every.max(1)
    }
}
