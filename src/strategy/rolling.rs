//! `rolling`: replace targets inside one target group, in rounds, with no
//! second environment. Pure: checking `--add`/`--remove` against the
//! group's live targets, cutting them into rounds that keep capacity and
//! the group's size within bounds, and the actions of each round.
//!
//! A round takes up to `batch` old targets out and puts up to `batch` new
//! ones in. Capacity (healthy targets) may drop at most `--max-unavailable`
//! below what the group had: the old targets a round may take out before
//! its new ones are healthy are at most that many, the rest leave only
//! after. ELBv2 counts a draining target as registered, so a round that
//! needs room below the group limit (1,000) waits for its early leavers to
//! drain before it registers. Each round ends with one interval of
//! analysis. The revert is the engine's: the rounds undone newest first,
//! each re-registering its old targets (healthy before the next step) and
//! deregistering its new ones, so the same two bounds hold on the way back.

use crate::alb::{HealthState, Target, TargetHealth};
use crate::engine::{Action, BakeSpec, Group, Role};
use crate::plan::Tenths;
use crate::strategy::drain_blue::BatchSize;
use serde::Serialize;
use std::time::Duration;

/// ELBv2's limit of targets per target group (instance and IP types).
pub const MAX_TARGETS_PER_GROUP: usize = 1000;

/// What the planner needs, read and parsed before it runs.
pub struct RollingInput<'a> {
    pub group: &'a str,
    /// DescribeTargetHealth of the group at preflight.
    pub live: &'a [TargetHealth],
    pub add: &'a [Target],
    pub remove: &'a [Target],
    pub batch: BatchSize,
    pub max_unavailable: usize,
    /// The analysis after each round.
    pub check: Duration,
    /// Targets the group may hold (ELBv2: 1,000 per group, and 1,000 per
    /// load balancer across its groups), and why, for the message.
    pub limit: usize,
    pub limit_why: &'a str,
}

/// Why the limit is what it is when only the group's own limit applies.
pub const GROUP_LIMIT_WHY: &str = "ELBv2's limit per target group";

/// One round: `early` leave before `add` is registered, `late` after it
/// is healthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Round {
    pub early: Vec<Target>,
    pub add: Vec<Target>,
    pub late: Vec<Target>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollingPlan {
    pub group: String,
    /// The group's targets before the run, exactly as read: what the
    /// record keeps and `rollback --target-group` restores.
    pub original: Vec<Target>,
    pub rounds: Vec<Round>,
    /// Targets per round.
    pub per: usize,
    /// The fewest healthy targets the run allows (the executor refuses a
    /// deregistration that would go below it).
    pub floor: usize,
    /// The most targets the group holds at any point of the plan.
    pub peak: usize,
    #[serde(rename = "check_seconds", with = "crate::plan::seconds")]
    pub check: Duration,
}

fn same(a: &Target, b: &Target) -> bool {
    a.id == b.id && (a.port.is_none() || b.port.is_none() || a.port == b.port)
}

fn listed(ts: &[&Target]) -> String {
    let words: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
    words.join(", ")
}

/// Targets that count as in the group: all but those already leaving.
fn present(live: &[TargetHealth]) -> Vec<&TargetHealth> {
    live.iter()
        .filter(|h| {
            !matches!(
                h.state,
                HealthState::Draining | HealthState::UnhealthyDraining
            )
        })
        .collect()
}

/// Every problem with `--add`/`--remove` against the group, each naming
/// its targets; `remove` resolved to the group's own entries (with ports).
pub fn check_targets(input: &RollingInput) -> Result<Vec<Target>, Vec<String>> {
    let live = present(input.live);
    let mut errors = Vec::new();
    let missing: Vec<&Target> = (input.remove.iter())
        .filter(|t| !live.iter().any(|h| same(t, &h.target)))
        .collect();
    if !missing.is_empty() {
        errors.push(format!(
            "--remove {} {} not registered in {}: give targets the group has (see `aws elbv2 describe-target-health`)",
            listed(&missing),
            if missing.len() == 1 { "is" } else { "are" },
            input.group
        ));
    }
    let already: Vec<&Target> = (input.add.iter())
        .filter(|t| live.iter().any(|h| same(t, &h.target)))
        .collect();
    if !already.is_empty() {
        errors.push(format!(
            "--add {} already in {}: a rolling run adds new targets only",
            listed(&already),
            input.group
        ));
    }
    let both: Vec<&Target> = (input.add.iter())
        .filter(|t| input.remove.iter().any(|r| same(t, r)))
        .collect();
    if !both.is_empty() {
        errors.push(format!(
            "{} given to both --add and --remove",
            listed(&both)
        ));
    }
    let resolved: Vec<Target> = (input.remove.iter())
        .filter_map(|t| live.iter().find(|h| same(t, &h.target)))
        .map(|h| h.target.clone())
        .collect();
    if input.add.is_empty() && input.remove.is_empty() {
        errors.push("nothing to do: give --add, --remove or both".into());
    } else if input.add.is_empty() && resolved.len() >= live.len() && !live.is_empty() {
        errors.push(format!(
            "--remove takes every target out of {} and --add puts none in: the group would serve nothing",
            input.group
        ));
    }
    match errors.is_empty() {
        true => Ok(resolved),
        false => Err(errors),
    }
}

/// The plan, or every reason it cannot be made.
pub fn plan(input: &RollingInput) -> Result<RollingPlan, Vec<String>> {
    let remove = check_targets(input)?;
    let live = present(input.live);
    let n = live.len();
    let healthy = live
        .iter()
        .filter(|h| h.state == HealthState::Healthy)
        .count();
    let per = input.batch.per_batch(input.add.len().max(remove.len()));
    let rounds = cut(input.add, &remove, per, input.max_unavailable);
    let peak = peak(n, &rounds);
    if peak > input.limit {
        return Err(vec![format!(
            "{} would hold {peak} targets at once (it has {n}, a round registers {per} before old ones drain), over {} targets ({}): raise --max-unavailable to {} or more, so each round's old targets leave first",
            input.group,
            input.limit,
            input.limit_why,
            (peak - input.limit).min(per).max(1) + input.max_unavailable
        )]);
    }
    let final_n = n + input.add.len() - remove.len();
    let floor = healthy
        .min(final_n)
        .saturating_sub(input.max_unavailable)
        .max(1);
    Ok(RollingPlan {
        group: input.group.to_string(),
        // Targets already draining were leaving before the run: not the
        // group's to restore.
        original: live.iter().map(|h| h.target.clone()).collect(),
        rounds,
        per,
        floor,
        peak,
        check: input.check,
    })
}

/// `add` and `remove` in rounds of `per`; of each round's old targets,
/// `unavailable` may leave before its new ones are in.
fn cut(add: &[Target], remove: &[Target], per: usize, unavailable: usize) -> Vec<Round> {
    let count = add.len().max(remove.len()).div_ceil(per);
    (0..count)
        .map(|i| {
            let part = |ts: &[Target]| -> Vec<Target> {
                ts.iter().skip(i * per).take(per).cloned().collect()
            };
            let (add, old) = (part(add), part(remove));
            // Without new targets in the round, the old ones can only leave
            // "late": there is nothing to wait for.
            let early = match add.is_empty() {
                true => 0,
                false => unavailable.min(old.len()),
            };
            Round {
                early: old[..early].to_vec(),
                add,
                late: old[early..].to_vec(),
            }
        })
        .collect()
}

/// The most targets registered at once: early leavers have drained before
/// a round registers, late ones are still there when it does.
fn peak(n: usize, rounds: &[Round]) -> usize {
    let (mut now, mut most) = (n, n);
    for r in rounds {
        now = now - r.early.len() + r.add.len();
        most = most.max(now);
        now -= r.late.len();
    }
    most
}

impl RollingPlan {
    /// The run's actions: the record, the rounds, the end of the record.
    pub fn actions(&self) -> Vec<Action> {
        let group = Group {
            arn: self.group.clone(),
            role: Role::Green,
        };
        let total: usize = (self.rounds.iter())
            .map(|r| r.add.len().max(r.early.len() + r.late.len()))
            .sum();
        let mut done = 0;
        let mut out = vec![Action::Record];
        for (i, r) in self.rounds.iter().enumerate() {
            out.extend(leave(&group, &r.early));
            if !r.add.is_empty() {
                out.push(Action::Register {
                    group: group.clone(),
                    targets: r.add.clone(),
                });
                out.push(Action::AwaitHealthy {
                    group: group.clone(),
                    targets: r.add.clone(),
                });
            }
            out.extend(leave(&group, &r.late));
            done += r.add.len().max(r.early.len() + r.late.len());
            out.push(Action::Bake(BakeSpec {
                step: i,
                percent: share(done, total),
                duration: self.check,
            }));
        }
        out.push(Action::Unrecord);
        out
    }
}

fn leave(group: &Group, targets: &[Target]) -> Vec<Action> {
    if targets.is_empty() {
        return vec![];
    }
    vec![
        Action::Deregister {
            group: group.clone(),
            targets: targets.to_vec(),
        },
        Action::AwaitDrained {
            group: group.clone(),
            targets: targets.to_vec(),
        },
    ]
}

/// How far the run is after a round, as a share of the targets it changes.
fn share(done: usize, total: usize) -> Tenths {
    let tenths = (done * 1000).checked_div(total).unwrap_or(1000);
    Tenths(u16::try_from(tenths.min(1000)).unwrap_or(1000))
}

#[cfg(test)]
#[path = "rolling_tests.rs"]
mod tests;
