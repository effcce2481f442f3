use super::*;
use crate::alb::Forward;

const LB1: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/pub/a";
const LB2: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/int/b";
const L2: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/int/b/l2";

fn tg(arn: &str, lbs: &[&str]) -> TargetGroup {
    TargetGroup {
        arn: arn.into(),
        name: arn.into(),
        protocol: Some("HTTP".into()),
        port: Some(80),
        vpc_id: Some("vpc-1".into()),
        target_type: "ip".into(),
        load_balancer_arns: lbs.iter().map(|s| s.to_string()).collect(),
    }
}

fn on_lb2(forward: Forward) -> OtherLive {
    OtherLive {
        route: RouteRef::new(L2, None),
        action: Ok(RouteAction::Forward(forward)),
        record: Ok(None),
    }
}

fn first() -> First<'static> {
    First {
        lb: LB1,
        blue: "tg/blue",
        green: "tg/green",
    }
}

fn green2(group: TargetGroup) -> Vec<GreenLive> {
    vec![GreenLive {
        given: "green2".into(),
        group: Ok(group),
    }]
}

#[test]
fn a_listener_is_on_the_load_balancer_its_arn_names() {
    assert_eq!(lb_of_listener(L2).as_deref(), Some(LB2));
    assert_eq!(lb_of_listener("my-listener"), None);
    let rule = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/int/b/l2/r9";
    assert_eq!(lb_of_owner(rule).as_deref(), Some(LB2));
    assert_eq!(lb_of_owner(L2).as_deref(), Some(LB2));
    let l1 = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/pub/a/l1";
    let routes = [
        RouteRef::new(l1, None),
        RouteRef::new(L2, None),
        RouteRef::new(L2, Some("r")),
    ];
    assert_eq!(other_lbs(&routes, LB1), [LB2]);
}

#[test]
fn each_load_balancer_gets_its_blue_from_its_routes_and_its_green_in_order() {
    let live = [on_lb2(Forward::single("tg/blue2"))];
    let got = pair(
        &first(),
        &[LB2.into()],
        &green2(tg("tg/green2", &[])),
        &live,
    )
    .unwrap();
    assert_eq!(got[0].lb_arn, LB2);
    assert_eq!(got[0].blue, "tg/blue2");
    assert_eq!(got[0].green.arn, "tg/green2");
}

#[test]
fn one_green_for_two_load_balancers_asks_for_one_per_load_balancer_in_order() {
    let live = [on_lb2(Forward::single("tg/blue2"))];
    let e = pair(&first(), &[LB2.into()], &[], &live).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].culprit, "--green");
    let m = &e[0].message;
    assert!(m.contains("belongs to one load balancer"), "{m}");
    assert!(m.contains(&format!("{LB1}, then {LB2}")), "{m}");
    let mut three = green2(tg("a", &[]));
    three.extend(green2(tg("b", &[])));
    let e = pair(&first(), &[LB2.into()], &three, &live).unwrap_err();
    assert!(e[0].message.starts_with("3 given"), "{}", e[0].message);
}

#[test]
fn a_green_of_another_load_balancer_or_a_blue_or_given_twice_is_refused_all_at_once() {
    let live = [on_lb2(Forward::single("tg/blue2"))];
    let on_lb1 = pair(&first(), &[LB2.into()], &green2(tg("tg/g", &[LB1])), &live).unwrap_err();
    assert_eq!(on_lb1[0].culprit, "--green green2");
    assert!(on_lb1[0].message.contains(LB1), "{}", on_lb1[0].message);
    let blue = pair(
        &first(),
        &[LB2.into()],
        &green2(tg("tg/blue2", &[LB2])),
        &live,
    )
    .unwrap_err();
    assert!(
        blue[0].message.contains("also a blue"),
        "{}",
        blue[0].message
    );
    let twice = pair(&first(), &[LB2.into()], &green2(tg("tg/green", &[])), &live).unwrap_err();
    assert!(
        twice[0].message.contains("two load balancers"),
        "{}",
        twice[0].message
    );
    let both = pair(
        &first(),
        &[LB2.into()],
        &green2(tg("tg/blue", &[LB1])),
        &live,
    )
    .unwrap_err();
    assert_eq!(both.len(), 2, "{both:?}");
    let gone = vec![GreenLive {
        given: "nope".into(),
        group: Err(AlbError::not_found(
            "DescribeTargetGroups",
            "nope",
            "no such group",
        )),
    }];
    let e = pair(&first(), &[LB2.into()], &gone, &live).unwrap_err();
    assert_eq!(e[0].culprit, "--green nope");
}
