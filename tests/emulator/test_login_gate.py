"""The data plane's login steps (login_gate.py): a request that has not
logged in never reaches the forward, whatever rule it matches."""
from login_gate import login_gate

OIDC = {"Type": "authenticate-oidc", "Order": 1,
        "AuthenticateOidcConfig": {"AuthorizationEndpoint": "https://idp.example.com/authorize"}}
FORWARD = {"Type": "forward", "Order": 2, "TargetGroupArn": "tg"}


def req(headers=None, cookies=None):
    return {"headers": headers or {}, "cookies": cookies or {}}


def test_no_session_is_sent_to_the_idp_and_a_session_cookie_passes():
    assert login_gate([FORWARD, OIDC], req()) == {"kind": "redirect", "status": 302,
                                                  "location": "https://idp.example.com/authorize"}
    assert login_gate([OIDC, FORWARD], req(cookies={"AWSELBAuthSessionCookie-0": "x"})) is None
    assert login_gate([FORWARD], req()) is None


def test_on_unauthenticated_request_deny_and_allow_and_a_custom_cookie_name():
    deny = {**OIDC, "AuthenticateOidcConfig": {"OnUnauthenticatedRequest": "deny", "SessionCookieName": "s"}}
    assert login_gate([deny, FORWARD], req())["status"] == 401
    assert login_gate([deny, FORWARD], req(cookies={"s": "x"})) is None
    allow = {**OIDC, "AuthenticateOidcConfig": {"OnUnauthenticatedRequest": "allow"}}
    assert login_gate([allow, FORWARD], req()) is None


def test_cognito_redirects_to_its_user_pool_domain():
    cognito = {"Type": "authenticate-cognito", "Order": 1,
               "AuthenticateCognitoConfig": {"UserPoolDomain": "shop.auth.us-east-1.amazoncognito.com"}}
    got = login_gate([cognito, FORWARD], req())
    assert got["status"] == 302 and got["location"].startswith("https://shop.auth.us-east-1.amazoncognito.com/")


def test_jwt_validation_needs_a_bearer_token():
    jwt = {"Type": "jwt-validation", "Order": 1, "JwtValidationConfig": {}}
    assert login_gate([jwt, FORWARD], req())["status"] == 401
    assert login_gate([jwt, FORWARD], req(headers={"authorization": "Basic abc"}))["status"] == 401
    assert login_gate([jwt, FORWARD], req(headers={"authorization": "Bearer a.b.c"})) is None
