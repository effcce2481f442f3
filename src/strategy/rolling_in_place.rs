//! `rolling --in-place`: the same targets taken out of their group a batch
//! at a time, given the new version by `--deploy`, and put back. Pure:
//! which targets (`--targets`, or every target of the group), the batches
//! (cut as the record names them: `alb::in_place_record::cut`), the
//! capacity floor each batch must keep, and the actions.
//!
//! Per batch: the batch is recorded on the group, deregistered and
//! awaited drained, its deploy marked started and run, its targets
//! registered again (the group's own entries: same port, same zone) and
//! awaited healthy, then one interval of analysis. The revert is the
//! engine's convergence to the record's goal (every original target
//! registered; with `--undo`, the started batches undone newest first).

use crate::alb::in_place_record;
use crate::alb::{HealthState, Target, TargetHealth};
use crate::engine::{Action, BakeSpec, DeploySpec, Group, Role};
use crate::plan::Tenths;
use crate::strategy::drain_blue::BatchSize;
use serde::Serialize;
use std::time::Duration;

pub struct InPlaceInput<'a> {
    pub group: &'a str,
    /// DescribeTargetHealth of the group at preflight.
    pub live: &'a [TargetHealth],
    /// `--targets`; empty: every target of the group.
    pub targets: &'a [Target],
    pub batch: BatchSize,
    /// `--max-unavailable`; 0: only "one healthy target outside the batch".
    pub max_unavailable: usize,
    pub check: Duration,
    pub deploy: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InPlacePlan {
    pub group: String,
    /// The group's targets before the run (what the record keeps).
    pub original: Vec<Target>,
    pub batches: Vec<Vec<Target>>,
    pub per: usize,
    /// The fewest healthy targets the group keeps while a batch is out.
    pub floor: usize,
    #[serde(rename = "check_seconds", with = "crate::plan::seconds")]
    pub check: Duration,
    pub deploy: String,
}

fn same(a: &Target, b: &Target) -> bool {
    a.id == b.id && (a.port.is_none() || b.port.is_none() || a.port == b.port)
}

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

/// `--targets` resolved to the group's own entries (with port and zone),
/// or every target the group has; each one the group lacks named.
fn resolve(input: &InPlaceInput, errors: &mut Vec<String>) -> Vec<Target> {
    let live = present(input.live);
    if input.targets.is_empty() {
        return live.iter().map(|h| h.target.clone()).collect();
    }
    let mut out = vec![];
    for t in input.targets {
        match live.iter().find(|h| same(t, &h.target)) {
            Some(h) if !out.contains(&h.target) => out.push(h.target.clone()),
            Some(_) => {}
            None => errors.push(format!(
                "--targets {t} is not registered in {}: an in-place run deploys to targets the group has (see `aws elbv2 describe-target-health`)",
                input.group
            )),
        }
    }
    out
}

/// The plan, or every reason it cannot be made.
pub fn plan(input: &InPlaceInput) -> Result<InPlacePlan, Vec<String>> {
    let mut errors = vec![];
    let targets = resolve(input, &mut errors);
    let live = present(input.live);
    if live.is_empty() {
        errors.push(format!(
            "{} has no targets: an in-place run deploys to the targets a group has",
            input.group
        ));
    }
    if input.deploy.trim().is_empty() {
        errors.push("--deploy is empty: give the command that installs the new version".into());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let per = input.batch.per_batch(targets.len());
    let batches = in_place_record::cut(&targets, per);
    let healthy: Vec<&Target> = (live.iter())
        .filter(|h| h.state == HealthState::Healthy)
        .map(|h| &h.target)
        .collect();
    let floor = match input.max_unavailable {
        0 => 1,
        m => healthy.len().saturating_sub(m).max(1),
    };
    for (i, b) in batches.iter().enumerate() {
        if let Some(e) = fits(input, &healthy, b, i, floor) {
            errors.push(e);
        }
    }
    match errors.is_empty() {
        true => Ok(InPlacePlan {
            group: input.group.to_string(),
            original: live.iter().map(|h| h.target.clone()).collect(),
            per: batches.first().map_or(per, Vec::len),
            batches,
            floor,
            check: input.check,
            deploy: input.deploy.to_string(),
        }),
        false => Err(errors),
    }
}

/// Why batch `i` cannot leave the group: it would take the group below
/// its floor (counted from the targets healthy at preflight).
fn fits(
    input: &InPlaceInput,
    healthy: &[&Target],
    batch: &[Target],
    i: usize,
    floor: usize,
) -> Option<String> {
    let outside = healthy.iter().filter(|t| !batch.contains(t)).count();
    let unavailable = input.max_unavailable;
    if unavailable > 0 && batch.len() > unavailable {
        return Some(format!(
            "--batch takes {} targets out at once, more than --max-unavailable {unavailable}: give --batch {unavailable} or less, or raise --max-unavailable",
            batch.len()
        ));
    }
    (outside < floor).then(|| {
        format!(
            "batch {} of {} ({}) would leave {} with {outside} healthy targets while it is out, under its floor of {floor} (at least one healthy target outside the batch): give a smaller --batch",
            i + 1,
            input.group,
            crate::alb::list_targets(batch),
            input.group
        )
    })
}

impl InPlacePlan {
    /// The run's actions: the record, each batch, the end of the record.
    pub fn actions(&self) -> Vec<Action> {
        let group = Group {
            arn: self.group.clone(),
            role: Role::Green,
        };
        let of = self.batches.len();
        let mut out = vec![Action::Record];
        for (index, b) in self.batches.iter().enumerate() {
            let targets = b.clone();
            out.push(Action::StartBatch {
                index,
                of,
                targets: targets.clone(),
            });
            out.push(Action::Deregister {
                group: group.clone(),
                targets: targets.clone(),
            });
            out.push(Action::AwaitDrained {
                group: group.clone(),
                targets: targets.clone(),
            });
            out.push(Action::Deploy(DeploySpec {
                index,
                of,
                targets: targets.clone(),
                command: self.deploy.clone(),
            }));
            out.push(Action::Register {
                group: group.clone(),
                targets: targets.clone(),
            });
            out.push(Action::AwaitHealthy {
                group: group.clone(),
                targets,
            });
            out.push(Action::Bake(BakeSpec {
                step: index,
                percent: share(index + 1, of),
                duration: self.check,
            }));
        }
        out.push(Action::Unrecord);
        out
    }
}

fn share(done: usize, total: usize) -> Tenths {
    let tenths = (done * 1000).checked_div(total).unwrap_or(1000);
    Tenths(u16::try_from(tenths.min(1000)).unwrap_or(1000))
}

#[cfg(test)]
#[path = "rolling_in_place_tests.rs"]
mod tests;
