//! The ELBv2 calls of a plan's actions, in order, for `--dry-run`: each
//! action's calls as the executor makes them (drift check, health gate,
//! marks, read-backs), and those of the revert (`calls_revert`). Any
//! strategy that plans in actions gets its dry run from here.

use crate::alb::{arn_resource, Forward, ForwardShape, RouteRef, Target};
use crate::engine::{Action, BakeSpec, Group, Plan, Purpose, RouteWrite, RuleSpec, Scope};
use crate::settings::Analysis;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct PlannedCall {
    /// The ELBv2 operation, or `wait` / `analyse` for a pause.
    pub action: String,
    pub resource: String,
    pub detail: String,
}

pub(super) fn call(action: &str, resource: &str, detail: String) -> PlannedCall {
    PlannedCall {
        action: action.into(),
        resource: resource.into(),
        detail,
    }
}

/// The replay's reads (S3, no ELBv2 call) and its requests to green.
fn shadow_calls(s: &crate::engine::ShadowSpec) -> Vec<PlannedCall> {
    vec![
        call(
            "s3:ListObjectsV2, s3:GetObject",
            "the load balancer's access logs",
            format!(
                "the objects of the last {}s of {}'s logs (one listing per day)",
                s.since.as_secs(),
                s.elb
            ),
        ),
        call(
            "replay",
            arn_resource(&s.blue),
            format!(
                "blue's {} requests on this route, sent to green with header {} at {} per second for up to {}s",
                s.methods.join("/"),
                s.header,
                s.rate_milli as f64 / 1000.0,
                s.duration.as_secs()
            ),
        ),
    ]
}

pub fn forward_text(f: &Forward) -> String {
    if f.shape == ForwardShape::Single && f.groups.len() == 1 {
        return format!("forward to {}", arn_resource(&f.groups[0].target_group_arn));
    }
    let groups: Vec<String> = f
        .groups
        .iter()
        .map(|g| format!("{}={}", arn_resource(&g.target_group_arn), g.weight))
        .collect();
    let sticky = match (f.stickiness.enabled, f.stickiness.duration_seconds) {
        (true, Some(d)) => format!(", stickiness {d}s"),
        (true, None) => ", stickiness on".into(),
        (false, _) => String::new(),
    };
    format!("weighted forward {}{sticky}", groups.join(" "))
}

/// Before the record: which targets each group the plan registers in
/// already has (those are neither registered nor removed again).
fn prepare_calls(plan: &Plan) -> Vec<PlannedCall> {
    let mut groups: Vec<&Group> = plan.registers().into_iter().map(|(g, _)| g).collect();
    groups.dedup();
    groups
        .into_iter()
        .map(|g| {
            call(
                "DescribeTargetHealth",
                &g.arn,
                format!(
                    "which --register targets {} already has: those are kept on revert",
                    g.role
                ),
            )
        })
        .collect()
}

/// The record: the tags (a leftover record is replaced whole), the
/// record, its read-back.
fn record_calls(scope: &Scope) -> Vec<PlannedCall> {
    let owner = scope.owner_arn();
    let what = match scope {
        Scope::Route(_) => "original route",
        Scope::Group(_) => "the group's original targets (coded, alb-rollout:targets*)",
    };
    vec![
        call(
            "DescribeTags",
            owner,
            "a leftover record (--force) is replaced whole".into(),
        ),
        call(
            "AddTags",
            owner,
            format!("record the run: run id, {what}, step, heartbeat (alb-rollout:*), the heartbeat then updated every interval"),
        ),
        call(
            "DescribeTags",
            owner,
            "read the record back after 1s; stop if another run wrote its own".into(),
        ),
    ]
}

/// A multi-route run's record on each other route, after the first's.
fn others_record_calls(plan: &Plan) -> Vec<PlannedCall> {
    let mut out = vec![];
    for (route, _) in plan.others() {
        let owner = route.owner_arn();
        out.push(call(
            "DescribeTags",
            owner,
            "a leftover record (--force) is replaced whole".into(),
        ));
        out.push(call("AddTags", owner, "record the run here too: run id, this route's original, step follows-first-route, alb-rollout:routes naming the first route".into()));
        out.push(call("DescribeTags", owner, "read it back".into()));
    }
    out
}

/// Where a rule that splits another route of the run is recorded: on
/// that route's record (`None`: the first route's).
fn rule_record_owner(plan: &Plan, r: &crate::engine::RuleSpec) -> Option<String> {
    let from = r.carry.from.as_ref()?;
    (plan.others().iter())
        .find(|(route, _)| route == from)
        .map(|(route, _)| route.owner_arn().to_string())
}

/// The calls of a plan, in order.
pub fn calls(scope: &Scope, plan: &Plan, an: &Analysis) -> Vec<PlannedCall> {
    let mut out = match scope {
        Scope::Route(_) => prepare_calls(plan),
        Scope::Group(_) => vec![],
    };
    // `post-revert` hooks belong to the revert's calls (`revert_calls`).
    let forward: Vec<Action> = (plan.actions.iter())
        .filter(|a| !post_revert(a))
        .cloned()
        .collect();
    out.extend(calls_from(scope, plan, &forward, &plan.original, an));
    out
}

/// The calls of `actions`, with the route as it is before them: a
/// deregistration reads the group's health only if the route then sends
/// it traffic.
fn calls_from(
    scope: &Scope,
    plan: &Plan,
    actions: &[Action],
    before: &Forward,
    an: &Analysis,
) -> Vec<PlannedCall> {
    let mut now = before.clone();
    let mut out = Vec::new();
    // The plan itself, not a revert: it ends by marking the run promoted.
    let promotes = actions.iter().any(|a| {
        a.route_write()
            .is_some_and(|w| matches!(w.purpose, Purpose::Promote { .. }))
    });
    let mut prev: Option<&Action> = None;
    for a in actions {
        let mut calls = match a {
            // A hold right after another (blue-green's --keep-blue) is
            // measured from where that one ended, not from the shift.
            Action::Bake(b) => {
                let after_hold = matches!(prev, Some(Action::Bake(_)));
                bake_call(scope, plan, b, an, after_hold)
                    .into_iter()
                    .collect()
            }
            _ => action_calls(scope, plan, a, &now, an),
        };
        let detach = a
            .route_write()
            .is_some_and(|w| w.purpose == Purpose::Detach);
        let last = detach || (*a == Action::Unrecord && !has_detach(actions));
        if last && promotes && drains_blue(plan) {
            let why = "step promoted: blue's last batch is gone; from here `rollback` leaves the route alone";
            calls.insert(0, call("AddTags", scope.owner_arn(), why.into()));
        }
        out.extend(calls);
        prev = Some(a);
        if let Some(w) = a.route_write() {
            now = w.to.clone();
        }
    }
    out
}

use super::calls_hooks::{hook_call, post_revert};
pub use super::calls_revert::{in_place_revert_calls, revert_calls};

fn action_calls(
    scope: &Scope,
    plan: &Plan,
    a: &Action,
    now: &Forward,
    an: &Analysis,
) -> Vec<PlannedCall> {
    let owner = scope.owner_arn();
    let ids = |t: &[Target]| {
        t.iter()
            .map(Target::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match a {
        Action::Record => {
            let mut out = record_calls(scope);
            out.extend(others_record_calls(plan));
            out
        }
        Action::Register { group, targets } => {
            vec![call("RegisterTargets", &group.arn, ids(targets))]
        }
        Action::Deregister { group, targets } => {
            let mut out = Vec::new();
            if let Some(g) = scope.group() {
                let why = format!(
                    "the group must keep {} healthy targets (--max-unavailable) after these leave",
                    g.floor.max(1)
                );
                out.push(call("DescribeTargetHealth", &group.arn, why));
            } else if now.weight_of(&group.arn).unwrap_or(0) > 0 {
                let why = format!(
                    "{} takes traffic: it must keep a healthy target",
                    group.role
                );
                out.push(call("DescribeTargetHealth", &group.arn, why));
            }
            if group.arn == plan.blue && scope.group().is_none() {
                // Only a run's own forward deregistrations (blue's) are
                // recorded; a revert's (green's) are not.
                let why = "alb-rollout:deregistered += these targets, so `rollback` can register them again";
                out.push(call("AddTags", owner, why.into()));
            }
            out.push(call("DeregisterTargets", &group.arn, ids(targets)));
            out
        }
        Action::AwaitHealthy { group, .. } => {
            vec![wait_call(scope, group, "has these targets healthy")]
        }
        Action::AwaitDrained { group, .. } => {
            vec![wait_call(
                scope,
                group,
                "no longer lists these targets (drained)",
            )]
        }
        Action::WriteRoute(w) => match scope.route() {
            Some(route) => write_calls(route, plan, w),
            None => vec![],
        },
        Action::WriteOthers(ws) => ws
            .iter()
            .flat_map(|w| {
                [
                    drift_call(&w.route, "what the run last wrote to it"),
                    write_call(&w.route, &w.to),
                ]
            })
            .collect(),
        Action::CreateRule(r) => vec![
            call(
                "AddTags",
                &rule_record_owner(plan, r).unwrap_or_else(|| owner.to_string()),
                format!(
                    "record priority {} in alb-rollout:rules before creating it",
                    r.priority
                ),
            ),
            call(
                "CreateRule",
                &r.listener_arn,
                format!("{}, tagged with the run", rule_text(r)),
            ),
        ],
        Action::WriteRule(w) => attach::rule_write_calls(w),
        Action::DeleteRule(r) => vec![
            call(
                "DescribeRules",
                &r.listener_arn,
                format!("find {}", rule_text(r)),
            ),
            call(
                "DescribeTags",
                &r.listener_arn,
                "delete it only if this run created it".into(),
            ),
            call("DeleteRule", &r.listener_arn, rule_text(r)),
        ],
        Action::Bake(b) => bake_call(scope, plan, b, an, false).into_iter().collect(),
        Action::Shadow(s) => shadow_calls(s),
        Action::Unrecord => vec![call("RemoveTags", owner, "remove the run record".into())],
        Action::StartBatch { index, of, targets } => vec![call(
            "AddTags",
            owner,
            format!("step: batch {} of {of} ({})", index + 1, ids(targets)),
        )],
        Action::Deploy(d) => vec![
            call(
                "AddTags",
                owner,
                format!(
                    "alb-rollout:in-place: batch {}'s deploy started",
                    d.index + 1
                ),
            ),
            call(
                "sh -c",
                owner,
                format!(
                    "--deploy {:?} with ALB_ROLLOUT_TARGETS={}",
                    d.command,
                    crate::executor::batch_commands::targets_env(&d.targets)
                ),
            ),
        ],
        Action::Hook(h) => vec![hook_call(h)],
    }
}

/// Whether `actions` end the full deploy by taking blue's weight-0 entry out.
fn has_detach(actions: &[Action]) -> bool {
    (actions.iter().filter_map(Action::route_write)).any(|w| w.purpose == Purpose::Detach)
}

/// Whether the plan deregisters blue (`--deregister-blue`).
fn drains_blue(plan: &Plan) -> bool {
    plan.actions
        .iter()
        .any(|a| matches!(a, Action::Deregister { group, .. } if group.arn == plan.blue))
}

pub(super) fn rule_text(r: &RuleSpec) -> String {
    let when = match r.conditions.is_empty() {
        true => String::new(),
        false => format!(
            " when {}",
            crate::strategy::rules_render::match_line(&r.conditions)
        ),
    };
    let login = match r.carry.leading.is_empty() {
        true => String::new(),
        false if crate::alb::needs_client_secret(&r.carry.leading) => format!(
            "{} copied from the route (client secret from {}), then ",
            crate::alb::leading_text(&r.carry.leading),
            crate::settings::OIDC_CLIENT_SECRET_ENV
        ),
        false => format!(
            "{} copied from the route, then ",
            crate::alb::leading_text(&r.carry.leading)
        ),
    };
    format!(
        "the rule at priority {}{when}: {login}{}",
        r.priority,
        forward_text(&r.forward)
    )
}

fn wait_call(scope: &Scope, group: &Group, what: &str) -> PlannedCall {
    let who = match scope {
        Scope::Group(_) => "the group".to_string(),
        Scope::Route(_) => group.role.to_string(),
    };
    call(
        "wait",
        &group.arn,
        format!("DescribeTargetHealth until {who} {what}"),
    )
}

pub(super) fn write_call(route: &RouteRef, f: &Forward) -> PlannedCall {
    let (op, read) = match route {
        RouteRef::ListenerDefault { .. } => ("ModifyListener", "DescribeListeners"),
        RouteRef::Rule { .. } => ("ModifyRule", "DescribeRules"),
    };
    call(
        op,
        route.owner_arn(),
        format!(
            "{} (after a {read} of the live actions, so authenticate steps are kept); then {read} to verify",
            forward_text(f)
        ),
    )
}

/// A route write: the drift check, the health gate for every group whose
/// share rises, the marks around the write, the write with its read-back.
/// A revert's writes are the write alone.
fn write_calls(route: &RouteRef, plan: &Plan, w: &RouteWrite) -> Vec<PlannedCall> {
    let owner = route.owner_arn();
    let mut out = Vec::new();
    let first = w.from == plan.original;
    match &w.purpose {
        Purpose::Attach | Purpose::Detach => return attach::weight_zero_calls(route, w),
        Purpose::Step { .. } | Purpose::Promote { .. } => out.push(drift_call(
            route,
            match first {
                true => "the original read at preflight",
                false => "what the previous step wrote",
            },
        )),
    }
    for g in &w.to.groups {
        let arn = &g.target_group_arn;
        if w.to.percent_of(arn) > w.from.percent_of(arn) {
            let role = plan.role_of(arn);
            let why = format!("{role} must have a healthy target before it gets weight");
            out.push(call("DescribeTargetHealth", arn, why));
        }
    }
    match &w.purpose {
        Purpose::Step { index, of, .. } => {
            out.push(write_call(route, &w.to));
            out.push(call(
                "AddTags",
                owner,
                format!("step {} of {of}", index + 1),
            ));
        }
        _ => {
            out.push(call(
                "AddTags",
                owner,
                "step promoting: if the run dies before the promotion is verified, `rollback` restores the original".into(),
            ));
            out.push(write_call(route, &w.to));
            let after = match drains_blue(plan) {
                true => "step draining-blue: until blue's last batch is gone, `rollback` registers blue's targets again and restores the original",
                false => "step promoted: from here `rollback` leaves the route alone",
            };
            out.push(call("AddTags", owner, after.into()));
        }
    }
    out
}

/// The read that stops a run whose route someone else changed.
pub(super) fn drift_call(route: &RouteRef, what: &str) -> PlannedCall {
    let read = match route {
        RouteRef::ListenerDefault { .. } => "DescribeListeners",
        RouteRef::Rule { .. } => "DescribeRules",
    };
    call(
        read,
        route.owner_arn(),
        format!("the route must still be {what}"),
    )
}

/// The hold with analysis of a step that has one.
fn bake_call(
    scope: &Scope,
    plan: &Plan,
    b: &BakeSpec,
    an: &Analysis,
    after_hold: bool,
) -> Option<PlannedCall> {
    if b.duration.is_zero() {
        return None;
    }
    let since = match (after_hold, scope) {
        (true, _) => "the previous hold",
        (false, Scope::Group(_)) => "the round",
        (false, Scope::Route(_)) => "the shift",
    };
    let every = humantime::format_duration(an.interval);
    let hold = humantime::format_duration(b.duration);
    let how = if an.cloudwatch {
        format!(
            "until CloudWatch minutes covering {hold} after {since} have arrived and passed \
             (ALB metrics lag 1-3 min), checking every {every}"
        )
    } else {
        format!("for {hold}, checking every {every}")
    };
    let what = match scope {
        _ if !b.public_traffic() => format!(
            "preview: green only behind the header rule, analysed for {hold} by the probe (sent with the header) and target health, checking every {every}"
        ),
        Scope::Group(_) => format!(
            "after round {} ({} of the targets replaced), analyse {how}",
            b.step + 1,
            b.percent
        ),
        Scope::Route(_) => format!("hold {} {how}", b.percent),
    };
    Some(call("analyse", &plan.green, what))
}

#[path = "calls_attach.rs"]
mod attach;

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
