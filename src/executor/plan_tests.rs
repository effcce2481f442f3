//! Plans other than the canary's on the fake, under paused time: the
//! executor's invariants hold for any plan, the revert undoes actions
//! later strategies use (deregistering blue, creating a rule), and
//! blue-green's two holds are judged one after the other.

use super::tests::{config, rig, route, Rig, GREEN_DIM};
use super::*;
use crate::alb::fake::*;
use crate::alb::{Forward, HealthState, LoadBalancerPort, RouteAction};
use crate::engine::{AbortMode, BakeSpec, Group, Purpose, Role, RouteWrite, RuleSpec};
use crate::plan::Tenths;
use crate::report::Silent;

fn blue() -> Group {
    Group {
        arn: DEMO_BLUE.into(),
        role: Role::Blue,
    }
}

fn blue_target() -> Vec<Target> {
    vec![Target {
        id: "10.0.0.1".into(),
        port: None,
        az: None,
    }]
}

pub(super) fn plan(actions: Vec<Action>) -> Plan {
    Plan {
        strategy: "test",
        original: Forward::single(DEMO_BLUE),
        blue: DEMO_BLUE.into(),
        green: DEMO_GREEN.into(),
        abort: AbortMode::Flip,
        actions,
    }
}

pub(super) fn bake() -> Action {
    Action::Bake(BakeSpec {
        step: 0,
        percent: Tenths(1000),
        duration: Duration::from_secs(120),
    })
}

pub(super) async fn run_plan(r: &Rig, p: Plan) -> RunReport {
    let src = Sources {
        lb: r.lb.clone(),
        traffic: Some(r.traffic.clone()),
        probe: None,
        prometheus: None,
        judge_minutes: 1,
        commands: Default::default(),
        shadow: None,
    };
    let mut out = Silent;
    Executor::new(
        config("100", vec![]).cfg,
        p,
        src,
        r.cancel.clone(),
        &mut out,
    )
    .run()
    .await
}

fn ops(r: &Rig) -> Vec<&'static str> {
    r.lb.mutating_calls().into_iter().map(|c| c.op).collect()
}

#[tokio::test(start_paused = true)]
async fn the_last_healthy_target_of_a_group_with_traffic_is_never_deregistered() {
    let r = rig();
    let p = plan(vec![
        Action::Record,
        Action::Deregister {
            group: blue(),
            targets: blue_target(),
        },
        Action::Unrecord,
    ]);
    let report = run_plan(&r, p).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let why = report.reason.unwrap().message().to_string();
    assert!(
        why.contains("no healthy target while it takes traffic"),
        "{why}"
    );
    assert!(!ops(&r).contains(&"DeregisterTargets"));
    assert_eq!(r.lb.targets_of(DEMO_BLUE).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failure_after_blue_was_deregistered_brings_it_back_before_its_traffic() {
    let r = rig();
    r.traffic.set(GREEN_DIM, 100.0, 30.0);
    let p = plan(vec![
        Action::Record,
        Action::WriteRoute(RouteWrite {
            from: Forward::single(DEMO_BLUE),
            to: Forward::single(DEMO_GREEN),
            purpose: Purpose::Step {
                index: 0,
                of: 1,
                percent: Tenths(1000),
            },
        }),
        // Blue has no weight now: its last target may go.
        Action::Deregister {
            group: blue(),
            targets: blue_target(),
        },
        Action::AwaitDrained {
            group: blue(),
            targets: blue_target(),
        },
        bake(),
        Action::Unrecord,
    ]);
    let report = run_plan(&r, p).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    assert_eq!(r.lb.targets_of(DEMO_BLUE)[0].state, HealthState::Healthy);
    let o = ops(&r);
    let tail: Vec<_> = o.iter().filter(|op| **op != "AddTags").collect();
    assert_eq!(
        tail,
        vec![
            &"ModifyListener",
            &"DeregisterTargets",
            &"RegisterTargets",
            &"ModifyListener",
            &"RemoveTags"
        ],
        "blue is registered again before the route goes back"
    );
}

#[tokio::test(start_paused = true)]
async fn a_rule_the_run_created_is_deleted_by_its_revert() {
    let r = rig();
    r.traffic.set(GREEN_DIM, 100.0, 30.0);
    let spec = RuleSpec {
        listener_arn: DEMO_LISTENER.into(),
        priority: 10,
        conditions: vec![],
        forward: Forward::single(DEMO_GREEN),
        carry: Default::default(),
    };
    let p = plan(vec![
        Action::Record,
        Action::CreateRule(spec),
        bake(),
        Action::Unrecord,
    ]);
    let report = run_plan(&r, p).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let rules = r.lb.rules(DEMO_LISTENER).await.unwrap();
    assert_eq!(rules.len(), 1, "only the default rule is left: {rules:?}");
    assert!(ops(&r).contains(&"DeleteRule"));
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty(), "record removed");
}

#[tokio::test(start_paused = true)]
async fn a_rule_the_run_did_not_create_is_left_alone() {
    let r = rig();
    let spec = RuleSpec {
        listener_arn: DEMO_LISTENER.into(),
        priority: 10,
        conditions: vec![],
        forward: Forward::single(DEMO_BLUE),
        carry: Default::default(),
    };
    let new = crate::alb::NewRule {
        listener_arn: DEMO_LISTENER,
        priority: 10,
        conditions: &[],
        carry_from: None,
        forward: &spec.forward,
    };
    r.lb.create_rule(&new, &Default::default()).await.unwrap();
    let p = plan(vec![
        Action::Record,
        Action::DeleteRule(spec),
        Action::Unrecord,
    ]);
    let report = run_plan(&r, p).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let why = report.reason.unwrap().message().to_string();
    assert!(why.contains("was not created by run"), "{why}");
    assert_eq!(r.lb.rules(DEMO_LISTENER).await.unwrap().len(), 2);
}

fn login() -> Vec<crate::alb::LeadingAction> {
    vec![crate::alb::LeadingAction {
        action_type: "authenticate-oidc".into(),
        order: Some(1),
    }]
}

fn carried_rule(carry: crate::engine::Carry) -> Plan {
    plan(vec![
        Action::Record,
        Action::CreateRule(RuleSpec {
            listener_arn: DEMO_LISTENER.into(),
            priority: 50_000,
            conditions: vec![],
            forward: Forward::single(DEMO_GREEN),
            carry,
        }),
        Action::Unrecord,
    ])
}

#[tokio::test(start_paused = true)]
async fn a_created_rule_carries_the_routes_login_and_is_read_back_with_it() {
    let r = rig();
    let route = crate::alb::RouteRef::new(DEMO_LISTENER, None);
    r.lb.set_leading(&route, login());
    let report = run_plan(
        &r,
        carried_rule(crate::engine::Carry::from(&route, &login())),
    )
    .await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let rules = r.lb.rules(DEMO_LISTENER).await.unwrap();
    let ours = rules.iter().find(|x| x.priority == "50000").unwrap();
    assert_eq!(ours.leading, login());
}

#[tokio::test(start_paused = true)]
async fn a_created_rule_that_reads_back_without_its_login_is_reverted() {
    let r = rig();
    // The login expected, but nothing to copy it from: the rule lands bare.
    let carry = crate::engine::Carry {
        from: None,
        leading: login(),
    };
    let report = run_plan(&r, carried_rule(carry)).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let why = report.reason.unwrap().message().to_string();
    assert!(
        why.contains("leading actions [none]") && why.contains("authenticate-oidc"),
        "{why}"
    );
    assert_eq!(r.lb.rules(DEMO_LISTENER).await.unwrap().len(), 1, "deleted");
}

fn blue_green(bake: u64, keep_blue: u64) -> Plan {
    use crate::strategy::blue_green::{plan, BlueGreenInput};
    plan(&BlueGreenInput {
        original: &Forward::single(DEMO_BLUE),
        blue: DEMO_BLUE,
        green: DEMO_GREEN,
        bake: Duration::from_secs(bake),
        keep_blue: Duration::from_secs(keep_blue),
        final_route: crate::strategy::canary::FinalRoute::KeepBlue,
    })
    .actions(&[])
}

#[tokio::test(start_paused = true)]
async fn blue_green_judges_the_keep_blue_window_after_the_bake() {
    let r = rig();
    let t0 = Instant::now();
    let report = run_plan(&r, blue_green(300, 600)).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    assert_eq!(report.strategy, "blue-green");
    // The keep-blue hold counts CloudWatch minutes after the bake's: the
    // bake's minutes do not count towards it a second time.
    assert!(
        t0.elapsed() >= Duration::from_secs(900),
        "{:?}",
        t0.elapsed()
    );
    let f = r.lb.route(&route());
    assert_eq!(f.as_forward().unwrap().weight_of(DEMO_BLUE), Some(0));
    let writes: Vec<_> = ops(&r).into_iter().filter(|o| *o != "AddTags").collect();
    assert_eq!(
        writes,
        vec!["ModifyListener", "ModifyListener", "RemoveTags"]
    );
}

#[tokio::test(start_paused = true)]
async fn blue_green_switches_back_in_one_write_from_the_keep_blue_window() {
    let r = rig();
    let traffic = r.traffic.clone();
    tokio::spawn(async move {
        // After the 5-minute bake (and CloudWatch's lag), inside keep-blue.
        tokio::time::sleep(Duration::from_secs(600)).await;
        traffic.set(GREEN_DIM, 100.0, 30.0);
    });
    let report = run_plan(&r, blue_green(300, 1800)).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
    let writes: Vec<_> = ops(&r).into_iter().filter(|o| *o != "AddTags").collect();
    assert_eq!(
        writes,
        vec!["ModifyListener", "ModifyListener", "RemoveTags"]
    );
}
