"""Self-test of elbv2_auth and the OIDC secret on rule creation: a
CreateRule with authenticate-oidc needs its ClientSecret (no existing one to
use) and never gets it back; jwt-validation is accepted, validated per the
model and echoed byte for byte; RegexValues are accepted and returned."""

from __future__ import annotations

import os
import sys

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import elbv2_auth  # noqa: E402
from test_elbv2_actions import aws, echo, fwd, oidc  # noqa: E402,F401

elbv2_auth.install()


def jwt(order, **over):
    cfg = {"JwksEndpoint": "https://idp.example.com/jwks", "Issuer": "https://idp.example.com",
           "AdditionalClaims": [{"Format": "string-array", "Name": "groups", "Values": ["admins"]}]}
    cfg.update(over)
    return {"Type": "jwt-validation", "Order": order, "JwtValidationConfig": cfg}


def https(elb, lb, t, cert, actions):
    return elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, Certificates=[{"CertificateArn": cert}],
                               DefaultActions=actions)["Listeners"][0]["ListenerArn"]


def code(e):
    return e.value.response["Error"]["Code"]


def test_create_rule_with_oidc_needs_the_secret_and_never_returns_it(aws):
    elb, lb, t, cert = aws
    arn = https(elb, lb, t, cert, [oidc(1), fwd(None, tga=t[0], order=2)])
    cond = [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Variant", "Values": ["b"]}}]
    for bad in (oidc(1, secret=None), oidc(1, secret=None, use_existing=True)):
        with pytest.raises(ClientError) as e:
            elb.create_rule(ListenerArn=arn, Priority=5, Conditions=cond, Actions=[bad, fwd(None, tga=t[1], order=2)])
        assert code(e) == "ValidationError"
    made = elb.create_rule(ListenerArn=arn, Priority=5, Conditions=cond,
                           Actions=[oidc(1), fwd(None, tga=t[1], order=2)])["Rules"][0]
    read = elb.describe_rules(RuleArns=[made["RuleArn"]])["Rules"][0]
    for r in (made, read):
        assert r["Actions"][0] == oidc(1, secret=None), r
        assert "ClientSecret" not in str(r)


def test_jwt_validation_is_accepted_validated_and_echoed_byte_for_byte(aws):
    elb, lb, t, cert = aws
    arn = https(elb, lb, t, cert, [jwt(1), fwd(None, tga=t[0], order=2)])
    got = elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"]
    assert got == [jwt(1), echo([{"TargetGroupArn": t[0], "Weight": 1}], order=2)]
    rule = elb.create_rule(ListenerArn=arn, Priority=9, Conditions=[{"Field": "path-pattern", "Values": ["/a"]}],
                           Actions=[jwt(1), fwd(None, tga=t[1], order=2)])["Rules"][0]
    assert elb.describe_rules(RuleArns=[rule["RuleArn"]])["Rules"][0]["Actions"][0] == jwt(1)
    for bad in (jwt(1, JwksEndpoint="http://idp.example.com/jwks"), jwt(1, Issuer="x" * 257),
                jwt(1, AdditionalClaims=[{"Format": "json", "Name": "g", "Values": ["a"]}]),
                jwt(1, AdditionalClaims=[{"Format": "single-string", "Name": "exp", "Values": ["1"]}]),
                jwt(1, AdditionalClaims=[{"Format": "space-separated-values", "Name": "scope", "Values": ["a b"]}])):
        with pytest.raises(ClientError) as e:
            elb.modify_listener(ListenerArn=arn, DefaultActions=[bad, fwd(None, tga=t[0], order=2)])
        assert code(e) == "ValidationError", bad
    http = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                               DefaultActions=[fwd(None, tga=t[0])])["Listeners"][0]["ListenerArn"]
    with pytest.raises(ClientError) as e:
        elb.modify_listener(ListenerArn=http, DefaultActions=[jwt(1), fwd(None, tga=t[0], order=2)])
    assert "HTTPS" in str(e.value)


def test_regex_values_are_accepted_returned_and_checked(aws):
    elb, lb, t, cert = aws
    arn = https(elb, lb, t, cert, [fwd(None, tga=t[0])])
    conds = [{"Field": "host-header", "HostHeaderConfig": {"RegexValues": ["^api-[0-9]+\\.example\\.com$"]}},
             {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "User-Agent", "RegexValues": ["mobile"]}}]
    rule = elb.create_rule(ListenerArn=arn, Priority=3, Conditions=conds, Actions=[fwd(None, tga=t[1])])["Rules"][0]
    read = elb.describe_rules(RuleArns=[rule["RuleArn"]])["Rules"][0]["Conditions"]
    assert read[0]["HostHeaderConfig"]["RegexValues"] == ["^api-[0-9]+\\.example\\.com$"]
    assert read[1]["HttpHeaderConfig"]["RegexValues"] == ["mobile"]
    with pytest.raises(ClientError) as e:
        elb.create_rule(ListenerArn=arn, Priority=4, Actions=[fwd(None, tga=t[1])],
                        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"RegexValues": ["(unclosed"]}}])
    assert code(e) == "ValidationError"


def test_the_data_plane_matches_regex_values_or_ed_with_wildcards():
    from dataplane import condition_matches

    def req(path="/", host="shop.example.com", headers=None):
        h = {"host": host, **(headers or {})}
        return {"path": path, "headers": h, "header_lists": {}, "method": "GET", "query": [], "source_ip": "127.0.0.1"}

    path = {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/v1/*"], "RegexValues": ["^/v[2-9]/"]}}
    assert condition_matches(path, req("/v1/a")) is True
    assert condition_matches(path, req("/v3/a")) is True
    assert condition_matches(path, req("/x/v3/")) is False
    host = {"Field": "host-header", "HostHeaderConfig": {"RegexValues": ["^api-[0-9]+\\."]}}
    assert condition_matches(host, req(host="API-12.example.com")) is True
    assert condition_matches(host, req(host="www.example.com")) is False
    ua = {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "User-Agent", "RegexValues": ["Mobile"]}}
    assert condition_matches(ua, req(headers={"user-agent": "x Mobile y"})) is True
    assert condition_matches(ua, req(headers={"user-agent": "desktop"})) is False
