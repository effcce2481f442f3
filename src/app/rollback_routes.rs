//! `rollback` of a multi-route run, given any one of its routes: the record
//! there names the others (`alb-rollout:routes`; on another route the
//! first route comes first). Every route's record is read, the goal is the
//! first route's with every other route back to its own original
//! (`Goal::with_others`), the live revert's convergence reaches it, then
//! the records go, the other routes' first.

use super::rollback::converge_lines;
use super::rollback_find::{Found, Place};
use crate::alb::state_tags::{self, RunRecord, FOLLOWS_STEP};
use crate::alb::{LoadBalancerPort, RouteRef};
use crate::engine::goal::Goal;
use crate::executor::apply::{self, ApplyPolicy};
use crate::preflight::InputError;

/// The record to wait on and restore from: on another route of a
/// multi-route run, the first route's (only its heartbeat beats), so a
/// live run is not taken for a dead one; else `found` itself.
pub(super) async fn first_of(lb: &dyn LoadBalancerPort, found: Found) -> Result<Found, InputError> {
    let Place::Route(_) = &found.place else {
        return Ok(found);
    };
    let record = match state_tags::decode(&found.tags) {
        Ok(Some(r)) if r.step == FOLLOWS_STEP => r,
        _ => return Ok(found),
    };
    let Some(first) = record.routes.first() else {
        return Ok(found);
    };
    let tags = lb.tags(first.owner_arn()).await.map_err(|e| {
        InputError::new(
            found.place.flags(),
            format!("could not read the run record on the {first}: {e}"),
        )
    })?;
    let same =
        state_tags::decode(&tags).is_ok_and(|r| r.is_some_and(|r| r.run_id == record.run_id));
    Ok(match same {
        true => Found {
            place: Place::Route(first.clone()),
            run_id: record.run_id,
            tags,
        },
        false => found,
    })
}

/// Restore every route of the run recorded as `record` on `route`.
pub async fn restore_all(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    record: &RunRecord,
) -> Result<Vec<String>, String> {
    let (first, first_record) = match record.step == FOLLOWS_STEP {
        true => {
            let first = record
                .routes
                .first()
                .cloned()
                .ok_or("the record names no first route")?;
            match read(lb, &first, &record.run_id).await? {
                Some(r) => (first, r),
                // The first route's record is gone: this route alone.
                None => (route.clone(), record.clone()),
            }
        }
        false => (route.clone(), record.clone()),
    };
    let mut others = vec![];
    for r in first_record.routes.iter().filter(|r| **r != first) {
        if let Some(rec) = read(lb, r, &record.run_id).await? {
            others.push((r.clone(), rec));
        }
    }
    if first_record.step == FOLLOWS_STEP {
        // Restored alone from its own record: its original, nothing else.
        let mut own = first_record.clone();
        own.step = String::new();
        return finish(lb, &first, &own, &others, vec![]).await;
    }
    let lines = vec![format!(
        "run {} moved {} routes: restoring every one",
        record.run_id,
        others.len() + 1
    )];
    finish(lb, &first, &first_record, &others, lines).await
}

async fn finish(
    lb: &dyn LoadBalancerPort,
    first: &RouteRef,
    rec: &RunRecord,
    others: &[(RouteRef, RunRecord)],
    mut lines: Vec<String>,
) -> Result<Vec<String>, String> {
    let goal = Goal::of_route_record(rec).with_others(rec, others);
    let done = converge_lines(
        lb,
        Some(first),
        first.listener_arn(),
        &rec.run_id,
        goal,
        None,
    )
    .await
    .map_err(|e| format!("{e}; the records are left: run rollback again"))?;
    lines.extend(done);
    let p = ApplyPolicy::default();
    let all = others.iter().map(|(r, _)| r).chain(std::iter::once(first));
    for r in all {
        let tags = lb.tags(r.owner_arn()).await.map_err(|e| e.to_string())?;
        let keys = state_tags::record_keys(&tags);
        apply::retry(p.write_attempts, p.backoff, || {
            lb.remove_tags(r.owner_arn(), &keys)
        })
        .await
        .map_err(|e| format!("the run record tags remain on {}: {e}", r.owner_arn()))?;
        lines.push(format!(
            "removed run record {} from {}",
            rec.run_id,
            r.owner_arn()
        ));
    }
    Ok(lines)
}

/// The record of run `run_id` on `route`, if it carries one.
async fn read(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    run_id: &str,
) -> Result<Option<RunRecord>, String> {
    let tags = lb
        .tags(route.owner_arn())
        .await
        .map_err(|e| format!("could not read the run record on the {route}: {e}"))?;
    let r = state_tags::decode(&tags)
        .map_err(|e| format!("the run record on the {route} is damaged: {e}"))?;
    Ok(r.filter(|r| r.run_id == run_id))
}

#[cfg(test)]
#[path = "rollback_routes_tests.rs"]
mod tests;
