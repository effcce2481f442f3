//! What a created rule carries: the route's leading actions in order, with
//! the OIDC secret put back, then its own forward.

use super::*;

fn oidc(order: i32) -> sdk::Action {
    sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::AuthenticateOidc)
        .order(order)
        .authenticate_oidc_config(
            sdk::AuthenticateOidcActionConfig::builder()
                .issuer("https://idp.example.com")
                .authorization_endpoint("https://idp.example.com/auth")
                .token_endpoint("https://idp.example.com/token")
                .user_info_endpoint("https://idp.example.com/userinfo")
                .client_id("client-1")
                .build(),
        )
        .build()
}

fn jwt(order: i32) -> sdk::Action {
    sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::JwtValidation)
        .order(order)
        .jwt_validation_config(
            sdk::JwtValidationActionConfig::builder()
                .jwks_endpoint("https://idp.example.com/jwks")
                .issuer("https://idp.example.com")
                .build(),
        )
        .build()
}

fn blue_forward(order: i32) -> sdk::Action {
    let mut f = forward_to_sdk(&Forward::single("arn:blue"));
    f.order = Some(order);
    f
}

#[test]
fn a_created_rule_carries_the_login_in_order_before_its_forward() {
    let source = [blue_forward(3), jwt(2), oidc(1)];
    let out =
        carried_actions(&source, &Forward::single("arn:green"), Some("s3cret")).expect("carried");
    let types: Vec<_> = out.iter().map(|a| a.r#type().unwrap().as_str()).collect();
    assert_eq!(
        types,
        ["authenticate-oidc", "jwt-validation", "forward"],
        "{out:?}"
    );
    let orders: Vec<_> = out.iter().map(|a| a.order()).collect();
    assert_eq!(orders, [Some(1), Some(2), Some(3)]);
    let cfg = out[0].authenticate_oidc_config().expect("oidc config");
    assert_eq!(cfg.client_secret(), Some("s3cret"));
    assert_eq!(cfg.use_existing_client_secret(), None);
    assert_eq!(cfg.client_id(), Some("client-1"));
    assert_eq!(out[1], jwt(2), "jwt-validation is copied byte for byte");
    assert_eq!(out[2].target_group_arn(), Some("arn:green"));
}

#[test]
fn an_oidc_route_without_the_secret_is_refused_naming_the_variable() {
    let err = carried_actions(&[oidc(1), blue_forward(2)], &Forward::single("g"), None)
        .expect_err("no secret");
    assert!(err.contains("ALB_ROLLOUT_OIDC_CLIENT_SECRET"), "{err}");
}

#[test]
fn a_plain_route_gives_a_rule_with_its_forward_alone() {
    let out =
        carried_actions(&[blue_forward(1)], &Forward::single("arn:green"), None).expect("carried");
    assert_eq!(out, vec![forward_to_sdk(&Forward::single("arn:green"))]);
}

#[test]
fn the_forward_comes_after_leading_actions_whose_orders_are_high() {
    let out = carried_actions(&[jwt(40), blue_forward(50)], &Forward::single("g"), None)
        .expect("carried");
    assert_eq!(out[0].order(), Some(40));
    assert_eq!(out[1].order(), Some(41));
}
