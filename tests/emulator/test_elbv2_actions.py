"""Self-test of elbv2_actions: AWS's echo of every forward shape, and refusals
at least as strict as AWS (run in-process with moto's mock, no server).

Owns: the echo table (plain, one group with and without stickiness, several
groups with zero weights, authenticate steps), the strictness table, and the
OIDC secret rules.
"""

from __future__ import annotations

import os
import sys

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import elbv2_actions  # noqa: E402

elbv2_actions.install()


@pytest.fixture()
def aws():
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        elb = boto3.client("elbv2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
                   ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
        lb = elb.create_load_balancer(Name="lb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        tgs = [elb.create_target_group(Name=f"tg{i}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")
               ["TargetGroups"][0]["TargetGroupArn"] for i in range(6)]
        cert = boto3.client("acm", region_name="us-east-1").request_certificate(DomainName="x.example.com")
        yield elb, lb, tgs, cert["CertificateArn"]


def fwd(groups, sticky=None, tga=None, order=None):
    a = {"Type": "forward"}
    if tga:
        a["TargetGroupArn"] = tga
    if groups is not None:
        a["ForwardConfig"] = {"TargetGroups": groups}
        if sticky is not None:
            a["ForwardConfig"]["TargetGroupStickinessConfig"] = sticky
    if order:
        a["Order"] = order
    return a


def echo(groups, sticky=None, order=None):
    a = {"Type": "forward", "ForwardConfig": {"TargetGroups": groups,
                                              "TargetGroupStickinessConfig": sticky or {"Enabled": False}}}
    if len(groups) == 1:
        a["TargetGroupArn"] = groups[0]["TargetGroupArn"]
    if order:
        a["Order"] = order
    return a


def oidc(order, secret="s3cret", use_existing=None):
    cfg = {"Issuer": "https://idp.example.com", "AuthorizationEndpoint": "https://idp.example.com/a",
           "TokenEndpoint": "https://idp.example.com/t", "UserInfoEndpoint": "https://idp.example.com/u",
           "ClientId": "client", "Scope": "openid email", "SessionTimeout": 3600}
    if secret:
        cfg["ClientSecret"] = secret
    if use_existing is not None:
        cfg["UseExistingClientSecret"] = use_existing
    return {"Type": "authenticate-oidc", "Order": order, "AuthenticateOidcConfig": cfg}


def test_every_forward_shape_is_echoed_like_aws(aws):
    elb, lb, t, _ = aws
    g = lambda arn, w: {"TargetGroupArn": arn, "Weight": w}  # noqa: E731
    cases = [
        (fwd(None, tga=t[0]), echo([g(t[0], 1)])),
        (fwd([{"TargetGroupArn": t[0]}]), echo([g(t[0], 1)])),
        (fwd([g(t[0], 1)], {"Enabled": True, "DurationSeconds": 3600}),
         echo([g(t[0], 1)], {"Enabled": True, "DurationSeconds": 3600})),
        (fwd([g(t[0], 1)], {"Enabled": False, "DurationSeconds": 60}, tga=t[0]),
         echo([g(t[0], 1)], {"Enabled": False, "DurationSeconds": 60})),
        (fwd([g(t[0], 999), g(t[1], 0)]), echo([g(t[0], 999), g(t[1], 0)])),
        (fwd([g(a, w) for a, w in zip(t[:5], (0, 0, 1, 0, 0))]),
         echo([g(a, w) for a, w in zip(t[:5], (0, 0, 1, 0, 0))])),
    ]
    created = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[cases[0][0]])
    arn = created["Listeners"][0]["ListenerArn"]
    assert created["Listeners"][0]["DefaultActions"] == [cases[0][1]]
    for sent, want in cases:
        answer = elb.modify_listener(ListenerArn=arn, DefaultActions=[sent])["Listeners"][0]["DefaultActions"]
        assert answer == [want], sent
        assert elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"] == [want]
        default_rule = elb.describe_rules(ListenerArn=arn)["Rules"][-1]
        assert default_rule["Actions"] == [want]


@pytest.mark.parametrize("name", ["weight 1000", "weight -1", "six groups", "duplicate group", "duration 0",
                                  "duration 604801", "enabled without duration", "arn disagrees",
                                  "no target", "unknown group", "two forwards", "auth after forward",
                                  "auth on http", "missing order"])
def test_what_aws_refuses_is_refused(aws, name):
    elb, lb, t, _ = aws
    ghost = t[0].replace("tg0", "ghost")
    bad = {
        "weight 1000": [fwd([{"TargetGroupArn": t[0], "Weight": 1000}])],
        "weight -1": [fwd([{"TargetGroupArn": t[0], "Weight": -1}])],
        "six groups": [fwd([{"TargetGroupArn": a} for a in t])],
        "duplicate group": [fwd([{"TargetGroupArn": t[0]}, {"TargetGroupArn": t[0]}])],
        "duration 0": [fwd([{"TargetGroupArn": t[0]}], {"Enabled": True, "DurationSeconds": 0})],
        "duration 604801": [fwd([{"TargetGroupArn": t[0]}], {"Enabled": True, "DurationSeconds": 604801})],
        "enabled without duration": [fwd([{"TargetGroupArn": t[0]}], {"Enabled": True})],
        "arn disagrees": [fwd([{"TargetGroupArn": t[0]}], tga=t[1])],
        "no target": [{"Type": "forward"}],
        "unknown group": [fwd([{"TargetGroupArn": t[0]}, {"TargetGroupArn": ghost}])],
        "two forwards": [fwd(None, tga=t[0], order=1), fwd(None, tga=t[1], order=2)],
        "auth after forward": [fwd(None, tga=t[0], order=1), oidc(2)],
        "auth on http": [oidc(1), fwd(None, tga=t[0], order=2)],
        "missing order": [oidc(1), fwd(None, tga=t[0])],
    }[name]
    arn = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=[fwd(None, tga=t[0])])["Listeners"][0]["ListenerArn"]
    with pytest.raises(ClientError) as e:
        elb.modify_listener(ListenerArn=arn, DefaultActions=bad)
    assert e.value.response["Error"]["Code"] in ("ValidationError", "TargetGroupNotFound"), e.value
    with pytest.raises(ClientError):
        elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=81, DefaultActions=bad)


def test_oidc_secret_is_never_echoed_and_must_be_kept_explicitly(aws):
    elb, lb, t, cert = aws
    with pytest.raises(ClientError) as e:
        elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=[fwd(None, tga=t[0])],
                            Certificates=[{"CertificateArn": cert.replace(cert[-8:], "00000000")}])
    assert e.value.response["Error"]["Code"] == "CertificateNotFound"
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                                   Certificates=[{"CertificateArn": cert}], SslPolicy="ELBSecurityPolicy-2016-08",
                                   DefaultActions=[oidc(1), fwd(None, tga=t[0], order=2)])["Listeners"][0]
    want_oidc = oidc(1, secret=None)
    assert listener["DefaultActions"] == [want_oidc, echo([{"TargetGroupArn": t[0], "Weight": 1}], order=2)]
    arn = listener["ListenerArn"]
    with pytest.raises(ClientError):
        elb.modify_listener(ListenerArn=arn, DefaultActions=[oidc(1, secret=None), fwd(None, tga=t[1], order=2)])
    shifted = [oidc(1, secret=None, use_existing=True),
               fwd([{"TargetGroupArn": t[0], "Weight": 900}, {"TargetGroupArn": t[1], "Weight": 100}], order=2)]
    elb.modify_listener(ListenerArn=arn, DefaultActions=shifted)
    after = elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]
    assert after["DefaultActions"][0] == want_oidc
    assert after["Certificates"] == [{"CertificateArn": cert}]
    assert after["SslPolicy"] == "ELBSecurityPolicy-2016-08"


def test_rules_keep_conditions_and_take_auth_steps(aws):
    elb, lb, t, cert = aws
    arn = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, Certificates=[{"CertificateArn": cert}],
                              DefaultActions=[fwd(None, tga=t[0])])["Listeners"][0]["ListenerArn"]
    conditions = [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}},
                  {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["1"]}}]
    rule = elb.create_rule(ListenerArn=arn, Priority=10, Conditions=conditions,
                           Actions=[oidc(1), fwd(None, tga=t[0], order=2)])["Rules"][0]
    assert rule["Actions"][1] == echo([{"TargetGroupArn": t[0], "Weight": 1}], order=2)
    elb.modify_rule(RuleArn=rule["RuleArn"], Actions=[oidc(1, secret=None, use_existing=True),
                                                      fwd([{"TargetGroupArn": t[1]}], order=2)])
    after = elb.describe_rules(RuleArns=[rule["RuleArn"]])["Rules"][0]
    assert after["Priority"] == "10"
    assert [c["Field"] for c in after["Conditions"]] == ["path-pattern", "http-header"]
    assert after["Actions"] == [oidc(1, secret=None), echo([{"TargetGroupArn": t[1], "Weight": 1}], order=2)]
