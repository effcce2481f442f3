//! Table tests for preflight: each bad input yields an error naming its culprit.

use super::*;

const L: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/l";
const LB: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1";
const BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/b";
const GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/g";

fn tg(arn: &str, name: &str) -> TargetGroup {
    TargetGroup {
        arn: arn.into(),
        name: name.into(),
        protocol: Some("HTTP".into()),
        port: Some(80),
        vpc_id: Some("vpc-1".into()),
        target_type: "ip".into(),
        load_balancer_arns: vec![],
    }
}

fn live(action: RouteAction) -> LiveState {
    LiveState {
        listener: Ok(Listener {
            arn: L.into(),
            load_balancer_arn: LB.into(),
            protocol: Some("HTTP".into()),
            port: Some(80),
            leading: vec![],
            default_action: action,
        }),
        load_balancer: None,
        rules: None,
        blue: Ok(tg(BLUE, "blue")),
        green: Ok(tg(GREEN, "green")),
        record: Ok(None),
    }
}

fn req() -> Request<'static> {
    Request {
        listener_arn: L,
        rule_arn: None,
        blue: "blue",
        green: "green",
        register: &[],
        force: false,
    }
}

fn errors(live: &LiveState, req: &Request) -> Vec<InputError> {
    validate(req, live).err().unwrap_or_default()
}

fn weighted(groups: &[(&str, u16)]) -> RouteAction {
    RouteAction::Forward(Forward::weighted(groups))
}

#[test]
fn a_plain_forward_to_blue_passes() {
    let v = validate(&req(), &live(RouteAction::Forward(Forward::single(BLUE)))).unwrap();
    assert_eq!(v.original, Forward::single(BLUE));
    assert_eq!(
        v.route,
        RouteRef::ListenerDefault {
            listener_arn: L.into()
        }
    );
}

#[test]
fn redirect_default_action_is_named() {
    let e = errors(
        &live(RouteAction::Other {
            action_type: "redirect".into(),
        }),
        &req(),
    );
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].culprit, L);
    assert!(e[0].message.contains("redirect"), "{}", e[0].message);
}

#[test]
fn authenticate_steps_before_the_forward_pass() {
    let mut l = live(RouteAction::Forward(Forward::single(BLUE)));
    if let Ok(listener) = l.listener.as_mut() {
        listener.leading = vec![LeadingAction {
            action_type: "authenticate-oidc".into(),
            order: Some(1),
        }];
    }
    let v = validate(&req(), &l).unwrap();
    assert_eq!(v.original, Forward::single(BLUE));
    assert_eq!(v.listener.leading.len(), 1);
    let fixed = live(RouteAction::Other {
        action_type: "fixed-response".into(),
    });
    let e = errors(&fixed, &req());
    assert!(e[0].message.contains("fixed-response"), "{}", e[0].message);
    assert!(
        e[0].message.contains(L),
        "names the listener: {}",
        e[0].message
    );
}

#[test]
fn missing_resources_are_all_reported() {
    let mut l = live(RouteAction::Forward(Forward::single(BLUE)));
    l.listener = Err(AlbError::not_found(
        "DescribeListeners",
        L,
        "ListenerNotFound",
    ));
    l.green = Err(AlbError::not_found(
        "DescribeTargetGroups",
        "green",
        "TargetGroupNotFound",
    ));
    let e = errors(&l, &req());
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].culprit.starts_with("--listener"));
    assert!(e[1].culprit.starts_with("--green"));
}

#[test]
fn blue_must_be_the_current_target() {
    let e = errors(
        &live(RouteAction::Forward(Forward::single("arn:other"))),
        &req(),
    );
    assert!(
        e.iter()
            .any(|e| e.culprit == "--blue blue" && e.message.contains("is not in the")),
        "{e:?}"
    );
}

#[test]
fn other_groups_taking_traffic_are_refused() {
    let e = errors(&live(weighted(&[(BLUE, 500), ("arn:third", 500)])), &req());
    assert!(
        e.iter().any(|e| e.culprit.starts_with("arn:third")),
        "{e:?}"
    );
    assert!(errors(&live(weighted(&[(BLUE, 999), ("arn:third", 0)])), &req()).is_empty());
}

#[test]
fn green_checks() {
    let base = || live(RouteAction::Forward(Forward::single(BLUE)));
    let mut l = base();
    l.green.as_mut().unwrap().vpc_id = Some("vpc-2".into());
    assert!(errors(&l, &req())[0].message.contains("VPC vpc-2"));
    let mut l = base();
    l.green.as_mut().unwrap().target_type = "lambda".into();
    assert!(errors(&l, &req())[0].message.contains("target type lambda"));
    let mut l = base();
    l.green.as_mut().unwrap().load_balancer_arns = vec!["arn:other-lb".into()];
    assert!(errors(&l, &req())[0]
        .message
        .contains("another load balancer"));
    let mut l = base();
    l.green = Ok(tg(BLUE, "blue"));
    assert!(errors(&l, &req())[0].message.contains("same target group"));
    let l = live(weighted(&[
        (BLUE, 1),
        ("a", 0),
        ("b", 0),
        ("c", 0),
        ("d", 0),
    ]));
    assert!(errors(&l, &req())[0].message.contains("6 target groups"));
}

#[test]
fn rule_must_belong_to_listener_and_not_be_default() {
    let mut l = live(RouteAction::Forward(Forward::single(BLUE)));
    let rule = |arn: &str, is_default| Rule {
        arn: arn.into(),
        priority: "10".into(),
        is_default,
        conditions: vec![],
        leading: vec![],
        action: RouteAction::Forward(Forward::single(BLUE)),
    };
    l.rules = Some(Ok(vec![rule("arn:r1", false), rule("arn:default", true)]));
    let mut r = req();
    r.rule_arn = Some("arn:r1");
    assert!(validate(&r, &l).is_ok());
    r.rule_arn = Some("arn:r9");
    assert!(errors(&l, &r)[0]
        .message
        .contains("does not belong to listener"));
    r.rule_arn = Some("arn:default");
    assert!(errors(&l, &r)[0].message.contains("default rule"));
}

#[test]
fn a_recorded_run_blocks_unless_forced() {
    let mut l = live(RouteAction::Forward(Forward::single(BLUE)));
    l.record = Ok(Some(RunRecord {
        run_id: "r-1".into(),
        strategy: "canary".into(),
        started: 0,
        generation: 0,
        step: "1/3".into(),
        green_arn: GREEN.into(),
        original: Forward::single(BLUE),
        registered: vec![],
        deregistered: None,
        rules: vec![],
    }));
    let e = errors(&l, &req());
    assert!(
        e[0].message.contains("run r-1") && e[0].message.contains("rollback"),
        "{e:?}"
    );
    let mut r = req();
    r.force = true;
    assert!(validate(&r, &l).is_ok());
}

#[test]
fn register_targets_must_fit_the_target_type() {
    let l = live(RouteAction::Forward(Forward::single(BLUE)));
    let targets = [
        Target {
            id: "i-0abc".into(),
            port: None,
            az: None,
        },
        Target {
            id: "10.0.0.9".into(),
            port: Some(80),
            az: None,
        },
    ];
    let mut r = req();
    r.register = &targets;
    let e = errors(&l, &r);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].culprit, "--register i-0abc");
}

#[test]
fn rerunning_after_a_promotion_points_at_the_serving_group() {
    let e = errors(&live(weighted(&[(BLUE, 0), (GREEN, 999)])), &req());
    let blue = e
        .iter()
        .find(|e| e.culprit == "--blue blue")
        .expect("blue named");
    assert!(
        blue.message.contains("green (weight 999)")
            || blue.message.contains("targetgroup/green/g (weight 999)"),
        "{}",
        blue.message
    );
    assert!(blue.message.contains("the next run's --blue"));
    let mut swapped = req();
    swapped.blue = "green";
    swapped.green = "blue";
    let mut l = live(weighted(&[(BLUE, 0), (GREEN, 999)]));
    l.blue = Ok(tg(GREEN, "green"));
    l.green = Ok(tg(BLUE, "blue"));
    assert!(
        validate(&swapped, &l).is_ok(),
        "the swapped roles are the next release"
    );
}

#[test]
fn a_network_load_balancers_listener_is_refused_naming_its_type() {
    let mut l = live(weighted(&[(BLUE, 1)]));
    l.load_balancer = Some(LoadBalancer {
        arn: LB.into(),
        name: "tcp-front".into(),
        vpc_id: Some("vpc-1".into()),
        lb_type: Some("network".into()),
        dns_name: None,
    });
    let e = errors(&l, &req());
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].culprit, format!("--listener {L}"));
    assert!(
        e[0].message.contains("Network Load Balancer (tcp-front)")
            && e[0].message.contains("Application Load Balancer"),
        "{}",
        e[0].message
    );
}

#[test]
fn a_gateway_load_balancer_is_told_by_its_arn_when_it_cannot_be_described() {
    let mut l = live(weighted(&[(BLUE, 1)]));
    if let Ok(listener) = &mut l.listener {
        listener.load_balancer_arn =
            "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/gwy/inspect/9".into();
    }
    let e = errors(&l, &req());
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].message.contains("Gateway Load Balancer"), "{e:?}");
}
