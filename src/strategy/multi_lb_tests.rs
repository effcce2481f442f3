//! `spread_over`: routes on two load balancers, each with its own blue and
//! green, planned and converged back from every failure position.

use super::*;
use crate::alb::Target;
use crate::engine::converge::{differences, Context, Step};
use crate::engine::goal::Goal;
use crate::engine::sim::{record_at, World};
use crate::engine::{AbortMode, BakeSpec};
use crate::plan::Tenths;
use std::time::Duration;

const BLUE: &str = "tg/blue";
const GREEN: &str = "tg/green";
const BLUE2: &str = "tg/blue2";
const GREEN2: &str = "tg/green2";

/// A route on the second load balancer, and one more on the first.
fn internal() -> RouteRef {
    RouteRef::new("listener/app/int/2/l", None)
}

fn public_2() -> RouteRef {
    RouteRef::new("listener/app/pub/1/l2", None)
}

fn write(from: &Forward, to: &Forward, purpose: Purpose) -> Action {
    Action::WriteRoute(RouteWrite {
        from: from.clone(),
        to: to.clone(),
        purpose,
    })
}

/// A canary whose green no listener uses yet: attached at 0 first.
fn canary_plan() -> Plan {
    let attach = Forward::weighted(&[(BLUE, 100), (GREEN, 0)]);
    let s1 = Forward::weighted(&[(BLUE, 90), (GREEN, 10)]);
    let done = Forward::weighted(&[(BLUE, 0), (GREEN, 100)]);
    Plan {
        strategy: "canary",
        original: Forward::single(BLUE),
        blue: BLUE.into(),
        green: GREEN.into(),
        abort: AbortMode::Flip,
        actions: vec![
            Action::Record,
            write(&Forward::single(BLUE), &attach, Purpose::Attach),
            Action::AwaitHealthy {
                group: Group {
                    arn: GREEN.into(),
                    role: Role::Green,
                },
                targets: vec![],
            },
            write(
                &attach,
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

fn others() -> Vec<(RouteRef, Forward)> {
    vec![
        (internal(), Forward::single(BLUE2)),
        (public_2(), Forward::single(BLUE)),
    ]
}

fn two_lbs() -> Plan {
    let maps = [
        GroupMap::of((BLUE, BLUE2), (GREEN, GREEN2)),
        GroupMap::default(),
    ];
    let lbs = [OtherLb {
        route: 0,
        blue: BLUE2.into(),
        green: GREEN2.into(),
        attach: true,
    }];
    spread_over(canary_plan(), &others(), &maps, &lbs)
}

fn describe(a: &Action) -> String {
    let f = |f: &Forward| f.weights_text();
    match a {
        Action::WriteRoute(w) => format!("first {}", f(&w.to)),
        Action::WriteOthers(ws) => {
            let each: Vec<String> = ws
                .iter()
                .map(|w| format!("{} {}", w.route.listener_arn(), f(&w.to)))
                .collect();
            format!("others {}", each.join(" | "))
        }
        Action::AwaitHealthy { group, .. } => format!("healthy {}", group.arn),
        other => format!("{other:?}")
            .split([' ', '(', '{'])
            .next()
            .unwrap_or("")
            .to_string(),
    }
}

#[test]
fn a_route_on_another_load_balancer_follows_on_its_own_groups() {
    let w = RouteWrite {
        from: Forward::single(BLUE),
        to: Forward::weighted(&[(BLUE, 75), (GREEN, 25)]),
        purpose: Purpose::Promote { after_steps: 1 },
    };
    let map = GroupMap::of((BLUE, BLUE2), (GREEN, GREEN2));
    let got = follow(&w, &Forward::single(BLUE2), &map);
    assert_eq!(got, Forward::weighted(&[(BLUE2, 75), (GREEN2, 25)]));
    let same = follow(&w, &Forward::single(BLUE), &GroupMap::default());
    assert_eq!(same.groups, w.to.groups);
    let green_only = RouteWrite {
        to: Forward::single(GREEN),
        ..w
    };
    assert_eq!(
        follow(&green_only, &Forward::single(BLUE2), &map),
        Forward::single(GREEN2)
    );
}

#[test]
fn the_second_green_is_attached_on_its_load_balancer_and_awaited_before_any_weight() {
    let got: Vec<String> = two_lbs().actions.iter().map(describe).collect();
    let w = |s: &[(&str, u16)]| Forward::weighted(s).weights_text();
    let want = vec![
        "Record".to_string(),
        format!("first {}", w(&[(BLUE, 100), (GREEN, 0)])),
        format!(
            "others listener/app/int/2/l {}",
            crate::strategy::canary::attached(&Forward::single(BLUE2), BLUE2, GREEN2)
                .weights_text()
        ),
        format!("healthy {GREEN}"),
        format!("healthy {GREEN2}"),
        format!("first {}", w(&[(BLUE, 90), (GREEN, 10)])),
        format!(
            "others listener/app/int/2/l {} | listener/app/pub/1/l2 {}",
            w(&[(BLUE2, 90), (GREEN2, 10)]),
            w(&[(BLUE, 90), (GREEN, 10)])
        ),
        "Bake".to_string(),
        format!(
            "others listener/app/int/2/l {} | listener/app/pub/1/l2 {}",
            w(&[(BLUE2, 0), (GREEN2, 100)]),
            w(&[(BLUE, 0), (GREEN, 100)])
        ),
        format!("first {}", w(&[(BLUE, 0), (GREEN, 100)])),
        "Unrecord".to_string(),
    ];
    assert_eq!(got, want);
    // Each write of a route starts where its previous one ended.
    let mut now: std::collections::BTreeMap<String, Forward> = others()
        .into_iter()
        .map(|(r, f)| (r.owner_arn().to_string(), f))
        .collect();
    for a in &two_lbs().actions {
        if let Action::WriteOthers(ws) = a {
            for w in ws {
                assert_eq!(now[w.route.owner_arn()], w.from, "{w:?}");
                now.insert(w.route.owner_arn().into(), w.to.clone());
            }
        }
    }
    let json = serde_json::to_value(&two_lbs().actions).expect("the dry run's JSON");
    assert_eq!(json[2]["action"], "write-others");
    assert_eq!(
        json[2]["writes"][0]["route"]["listener_arn"],
        "listener/app/int/2/l"
    );
    assert_eq!(two_lbs().green_of(&internal()), GREEN2);
    assert_eq!(two_lbs().green_of(&public_2()), GREEN);
}

/// A failure at every position, sent or not, cancelled or not: every
/// route (the first, one more on its load balancer, one on the second)
/// ends exactly as its own record has it, nothing deregistered before the
/// last route write, and converging again does nothing.
#[test]
fn a_two_load_balancer_canary_converges_every_route_from_every_position() {
    let plan = two_lbs();
    let t = |ip: &str| vec![Target::new(ip, Some(80))];
    for at in 0..plan.actions.len() {
        for sent in [false, true] {
            let groups = [
                (BLUE, t("10.0.1.1")),
                (GREEN, t("10.0.2.1")),
                (BLUE2, t("10.0.3.1")),
                (GREEN2, t("10.0.4.1")),
            ];
            let mut w = World::new(plan.original.clone(), &groups);
            for (r, f) in others() {
                w.others.insert(r.owner_arn().into(), f);
            }
            let upto = at + usize::from(sent);
            plan.actions[..upto].iter().for_each(|a| w.forward(a));
            let first = record_at(&plan.actions, at, &plan.original, GREEN, "canary");
            let recs: Vec<(RouteRef, crate::alb::state_tags::RunRecord)> = (others().into_iter())
                .map(|(r, f)| {
                    let green = plan.green_of(&r);
                    let mut rec = record_at(&plan.actions, at, &f, &green, "canary");
                    rec.step = "starting".into();
                    (r, rec)
                })
                .collect();
            let goal = Goal::of_route_record(&first).with_others(&first, &recs);
            for cancelled in [false, true] {
                let case = format!(
                    "failed at {at} ({}), sent {sent}",
                    describe(&plan.actions[at])
                );
                let mut live = w.clone();
                let taken = live.converge(
                    &goal,
                    Context {
                        cancelled,
                        ..Context::default()
                    },
                );
                assert!(
                    differences(&goal, &live.snapshot(&goal)).is_empty(),
                    "{case}: {taken:?}"
                );
                if first.step != crate::alb::state_tags::PROMOTED_STEP {
                    assert_eq!(live.route, plan.original, "{case}");
                    for (r, f) in others() {
                        assert_eq!(live.others[r.owner_arn()], f, "{case}");
                    }
                }
                let last_write = (taken.iter())
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
