//! The fake behaves like the AWS adapter for routes with authenticate steps:
//! writes replace only the forward, and a route that stopped forwarding is
//! never overwritten.

use super::*;

fn oidc() -> Vec<LeadingAction> {
    vec![LeadingAction {
        action_type: "authenticate-oidc".into(),
        order: Some(1),
    }]
}

#[tokio::test]
async fn writes_keep_authenticate_steps() {
    let fake = FakeLoadBalancer::demo();
    let route = RouteRef::new(DEMO_LISTENER, None);
    fake.set_leading(&route, oidc());
    let shifted = Forward::weighted(&[(DEMO_BLUE, 900), (DEMO_GREEN, 100)]);
    fake.write_forward(&route, &shifted).await.unwrap();
    assert_eq!(fake.leading(&route), oidc());
    let l = fake.listener(DEMO_LISTENER).await.unwrap();
    assert_eq!(l.leading, oidc());
    assert_eq!(l.default_action, RouteAction::Forward(shifted));
    let rules = fake.rules(DEMO_LISTENER).await.unwrap();
    assert_eq!(rules.last().unwrap().leading, oidc(), "default rule too");
}

#[tokio::test]
async fn a_route_that_no_longer_forwards_is_not_overwritten() {
    let fake = FakeLoadBalancer::demo();
    let route = RouteRef::new(DEMO_LISTENER, None);
    let redirect = RouteAction::Other {
        action_type: "redirect".into(),
    };
    fake.force_route(&route, redirect.clone());
    let e = fake
        .write_forward(&route, &Forward::single(DEMO_BLUE))
        .await
        .unwrap_err();
    assert_eq!(e.kind, AlbErrorKind::Invalid);
    assert!(e.message.contains("redirect"), "{e}");
    assert_eq!(fake.route(&route), redirect);
}
