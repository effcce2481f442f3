use super::*;
use crate::alb::Stickiness;
use crate::alb::Target;
use crate::engine::converge::{differences, Context, Step};
use crate::engine::goal::Goal;
use crate::engine::sim::{record_at, World};
use crate::engine::{AbortMode, BakeSpec, Group, Role};
use crate::plan::Tenths;
use std::time::Duration;

const BLUE: &str = "tg/blue";
const GREEN: &str = "tg/green";

fn second() -> RouteRef {
    RouteRef::new("listener/443", None)
}

fn write(from: &Forward, to: &Forward, purpose: Purpose) -> Action {
    Action::WriteRoute(RouteWrite {
        from: from.clone(),
        to: to.clone(),
        purpose,
    })
}

fn green() -> Group {
    Group {
        arn: GREEN.into(),
        role: Role::Green,
    }
}

fn canary_plan() -> Plan {
    let s1 = Forward::weighted(&[(BLUE, 90), (GREEN, 10)]);
    let done = Forward::weighted(&[(BLUE, 0), (GREEN, 100)]);
    let t = vec![Target::new("10.0.2.1", Some(80))];
    Plan {
        strategy: "canary",
        original: Forward::single(BLUE),
        blue: BLUE.into(),
        green: GREEN.into(),
        abort: AbortMode::Flip,
        actions: vec![
            Action::Record,
            Action::Register {
                group: green(),
                targets: t.clone(),
            },
            Action::AwaitHealthy {
                group: green(),
                targets: t,
            },
            write(
                &Forward::single(BLUE),
                &s1,
                Purpose::Step {
                    index: 0,
                    of: 1,
                    percent: Tenths(100),
                },
            ),
            Action::Bake(BakeSpec {
                step: 0,
                percent: Tenths(100),
                duration: Duration::from_secs(60),
            }),
            write(&s1, &done, Purpose::Promote { after_steps: 1 }),
            Action::Unrecord,
        ],
    }
}

fn sticky_blue() -> Forward {
    Forward {
        stickiness: Stickiness {
            enabled: true,
            duration_seconds: Some(60),
        },
        ..Forward::weighted(&[(BLUE, 1)])
    }
}

#[test]
fn every_other_route_moves_after_each_step_and_before_the_promotion_keeping_its_stickiness() {
    let plan = spread(canary_plan(), &[(second(), sticky_blue())]);
    let others: Vec<(usize, &Vec<OtherWrite>)> = (plan.actions.iter().enumerate())
        .filter_map(|(i, a)| match a {
            Action::WriteOthers(w) => Some((i, w)),
            _ => None,
        })
        .collect();
    assert_eq!(others.len(), 2, "{:?}", plan.actions);
    let after: Vec<bool> = (others.iter())
        .map(|(i, _)| plan.actions[i - 1].route_write().is_some())
        .collect();
    assert_eq!(
        after,
        [true, false],
        "after the step's write, before the promotion's"
    );
    for (i, ws) in &others {
        let near = [i - 1, i + 1].map(|j| plan.actions[j].route_write());
        let first = near
            .into_iter()
            .flatten()
            .next()
            .expect("beside the first route's write");
        assert_eq!(ws[0].to.groups, first.to.groups);
        assert!(ws[0].to.stickiness.enabled);
    }
    assert_eq!(others[0].1[0].from, sticky_blue());
    assert_eq!(others[1].1[0].from, others[0].1[0].to);
}

#[test]
fn a_single_route_plan_is_unchanged() {
    assert_eq!(spread(canary_plan(), &[]), canary_plan());
}

/// A failure at every position (a write refused on the second route
/// included: `WriteOthers` failing before or after its send), then the
/// live revert and `rollback` from both records: both routes end as
/// recorded, and no deregistration comes before both are back.
#[test]
fn a_two_route_canary_converges_both_routes_from_every_position() {
    let plan = spread(canary_plan(), &[(second(), sticky_blue())]);
    let blue = vec![Target::new("10.0.1.1", Some(80))];
    for at in 0..plan.actions.len() {
        for sent in [false, true] {
            let mut w = World::new(
                plan.original.clone(),
                &[(BLUE, blue.clone()), (GREEN, vec![])],
            );
            w.others.insert(second().owner_arn().into(), sticky_blue());
            let upto = at + usize::from(sent);
            plan.actions[..upto].iter().for_each(|a| w.forward(a));
            let first = record_at(&plan.actions, at, &plan.original, GREEN, "canary");
            let mut other = record_at(&plan.actions, at, &sticky_blue(), GREEN, "canary");
            other.step = "starting".into();
            let goal = Goal::of_route_record(&first).with_others(&first, &[(second(), other)]);
            for cancelled in [false, true] {
                let case = format!("failed at {at} ({:?}), sent {sent}", plan.actions[at]);
                let mut live = w.clone();
                let ctx = Context {
                    cancelled,
                    ..Context::default()
                };
                let taken = live.converge(&goal, ctx);
                assert!(
                    differences(&goal, &live.snapshot(&goal)).is_empty(),
                    "{case}: {taken:?}"
                );
                let promoted = first.step == crate::alb::state_tags::PROMOTED_STEP;
                if !promoted {
                    assert_eq!(live.route, plan.original, "{case}");
                    assert_eq!(live.others[second().owner_arn()], sticky_blue(), "{case}");
                }
                let last_write = taken
                    .iter()
                    .rposition(|s| matches!(s, Step::WriteRoute { .. } | Step::WriteOther { .. }));
                let first_dereg = taken
                    .iter()
                    .position(|s| matches!(s, Step::Deregister { .. }));
                if let (Some(wr), Some(d)) = (last_write, first_dereg) {
                    assert!(wr < d, "{case}: {taken:?}");
                }
                assert!(
                    live.converge(&goal, Context::default()).is_empty(),
                    "{case}"
                );
            }
        }
    }
}

#[test]
fn once_any_record_of_the_run_reads_promoted_no_route_is_restored() {
    let plan = canary_plan();
    let mut first = record_at(&plan.actions, 2, &plan.original, GREEN, "canary");
    let mut other = first.clone();
    other.step = crate::alb::state_tags::PROMOTED_STEP.into();
    let goal = Goal::of_route_record(&first).with_others(&first, &[(second(), other.clone())]);
    assert_eq!(goal, Goal::nothing());
    first.step = "starting".into();
    other.step = "starting".into();
    let goal = Goal::of_route_record(&first).with_others(&first, &[(second(), other)]);
    assert_eq!(goal.others.len(), 1);
}
