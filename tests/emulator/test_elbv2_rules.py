"""Self-test of elbv2_rules (rule limits as AWS enforces them) and of the data
plane's condition matching against AWS's semantics, in-process with moto's mock.

Owns: the refusal table for CreateRule/ModifyRule/SetRulePriorities (priority
range and reuse, rules per load balancer, once-only fields, values and
wildcards per rule, lengths, header names, CIDRs), the acceptance of what AWS
accepts at the limits, and `condition_matches` per condition type.
"""

from __future__ import annotations

import os
import sys

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import elbv2_rules  # noqa: E402
from dataplane import condition_matches  # noqa: E402

elbv2_rules.install()


@pytest.fixture()
def aws():
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        elb = boto3.client("elbv2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
                   ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
        lb = elb.create_load_balancer(Name="lb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")[
            "TargetGroups"][0]["TargetGroupArn"]
        fwd = [{"Type": "forward", "TargetGroupArn": tg}]
        listeners = [elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=port, DefaultActions=fwd)
                     ["Listeners"][0]["ListenerArn"] for port in (80, 8080)]
        yield elb, listeners, fwd


def header(name, *values):
    return {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": name, "Values": list(values)}}


def path(*values):
    return {"Field": "path-pattern", "PathPatternConfig": {"Values": list(values)}}


def query(*pairs):
    return {"Field": "query-string", "QueryStringConfig": {"Values": [
        {"Key": k, "Value": v} if k is not None else {"Value": v} for k, v in pairs]}}


def source(*cidrs):
    return {"Field": "source-ip", "SourceIpConfig": {"Values": list(cidrs)}}


def refused(call, code: str, in_message: str) -> None:
    with pytest.raises(ClientError) as ei:
        call()
    err = ei.value.response["Error"]
    assert err["Code"] == code, err
    assert in_message in err["Message"], err


REFUSED = [
    ("two paths", [path("/a"), path("/b")], "only one 'path-pattern'"),
    ("two source-ips", [source("10.0.0.0/8"), source("::1/128")], "only one 'source-ip'"),
    ("six values", [header("A", "1", "2", "3"), header("B", "1", "2", "3")], "'5' condition values"),
    ("six wildcards", [header("A", "*a*", "?b?"), path("/*/*")], "'5' wildcards"),
    ("wildcards in query keys count", [query(("k*", "v?")), header("A", "*?*?")], "'5' wildcards"),
    ("empty header value", [header("A", "")], "cannot be empty"),
    ("long header value", [header("A", "x" * 129)], "too long"),
    ("long query key", [query(("k" * 129, "v"))], "too long"),
    ("long path", [path("/" + "p" * 128)], "too long"),
    ("header name too long", [header("h" * 41, "v")], "HTTP header name"),
    ("header name not a token", [header("X Variant", "v")], "HTTP header name"),
    ("host header", [header("Host", "example.com")], "host-header"),
    ("bad cidr", [source("10.0.0.0/33")], "not a valid CIDR"),
    ("bare address", [source("10.0.0.1")], "CIDR format"),
]


@pytest.mark.parametrize("name,conditions,message", REFUSED, ids=[r[0] for r in REFUSED])
def test_conditions_refused_on_create_and_modify(aws, name, conditions, message):
    elb, listeners, fwd = aws
    refused(lambda: elb.create_rule(ListenerArn=listeners[0], Priority=1, Conditions=conditions, Actions=fwd),
            "ValidationError", message)
    rule = elb.create_rule(ListenerArn=listeners[0], Priority=2, Conditions=[path("/ok")], Actions=fwd)
    arn = rule["Rules"][0]["RuleArn"]
    refused(lambda: elb.modify_rule(RuleArn=arn, Conditions=conditions), "ValidationError", message)


def test_at_the_limits_accepted(aws):
    elb, listeners, fwd = aws
    conds = [header("Cookie", "variant=b*", "*; variant=b*"), path("/beta/*"), query(("k", "\\*v\\?")),
             source("2001:db8::/32")]
    elb.create_rule(ListenerArn=listeners[0], Priority=1, Conditions=conds, Actions=fwd)
    same_header_twice = [header("X-A", "1"), header("X-A", "2")]  # ANDed: two conditions, allowed
    elb.create_rule(ListenerArn=listeners[0], Priority=2, Conditions=same_header_twice, Actions=fwd)
    elb.create_rule(ListenerArn=listeners[0], Priority=50000, Conditions=[header("A", "x" * 128)], Actions=fwd)


def test_priority_range_and_reuse(aws):
    elb, listeners, fwd = aws
    cond = [path("/x")]
    # botocore refuses 0 itself; the Rust SDK sends it, so the server must refuse it too
    raw = boto3.client("elbv2", region_name="us-east-1", config=Config(parameter_validation=False))
    for bad, word in ((0, "greater than or equal to 1"), (50001, "less than or equal to 50000")):
        refused(lambda: raw.create_rule(ListenerArn=listeners[0], Priority=bad, Conditions=cond, Actions=fwd),
                "ValidationError", word)
    arn = elb.create_rule(ListenerArn=listeners[0], Priority=7, Conditions=cond, Actions=fwd)["Rules"][0]["RuleArn"]
    with pytest.raises(ClientError) as ei:
        elb.create_rule(ListenerArn=listeners[0], Priority=7, Conditions=cond, Actions=fwd)
    assert ei.value.response["Error"]["Code"] == "PriorityInUse"
    # the same priority on another listener is fine
    elb.create_rule(ListenerArn=listeners[1], Priority=7, Conditions=cond, Actions=fwd)
    refused(lambda: elb.set_rule_priorities(RulePriorities=[{"RuleArn": arn, "Priority": 50001}]),
            "ValidationError", "less than or equal to 50000")


def test_rules_per_load_balancer(aws):
    elb, listeners, fwd = aws
    for i in range(100):  # split over both listeners: the quota is per load balancer
        elb.create_rule(ListenerArn=listeners[i % 2], Priority=i + 1, Conditions=[path(f"/{i}")], Actions=fwd)
    refused(lambda: elb.create_rule(ListenerArn=listeners[0], Priority=500, Conditions=[path("/x")], Actions=fwd),
            "TooManyRules", "rules per load balancer")


def req(path="/", query=(), headers=None, source_ip="127.0.0.1", header_lists=None):
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    lists = header_lists or {k: [v] for k, v in hdrs.items()}
    return {"method": "GET", "path": path, "query": list(query), "headers": hdrs, "header_lists": lists,
            "source_ip": source_ip}


MATCHES = [
    ("header value is case-insensitive", header("X-Variant", "b"), req(headers={"X-Variant": "B"}), True),
    ("header name is case-insensitive", header("x-variant", "b"), req(headers={"X-VARIANT": "b"}), True),
    ("header value matches whole", header("X-Variant", "b"), req(headers={"X-Variant": "bb"}), False),
    ("header * wildcard", header("User-Agent", "*Mobile*"), req(headers={"User-Agent": "x Mobile y"}), True),
    ("header ? is one char", header("X", "a?c"), req(headers={"X": "abc"}), True),
    ("header ? is not zero chars", header("X", "a?c"), req(headers={"X": "ac"}), False),
    ("missing header", header("X", "*"), req(), False),
    ("cookie first", header("Cookie", "variant=b*", "*; variant=b*"), req(headers={"Cookie": "variant=b; a=1"}), True),
    ("cookie later", header("Cookie", "variant=b*", "*; variant=b*"), req(headers={"Cookie": "a=1; variant=b"}), True),
    ("cookie name suffix", header("Cookie", "variant=b*", "*; variant=b*"), req(headers={"Cookie": "xvariant=b"}),
     False),
    ("repeated header searched in order", header("Cookie", "variant=b*"),
     req(header_lists={"cookie": ["a=1", "variant=b"]}, headers={"cookie": "variant=b"}), True),
    ("repeated header, first one matches", header("Cookie", "a=1"),
     req(header_lists={"cookie": ["a=1", "variant=b"]}, headers={"cookie": "variant=b"}), True),
    ("query key and value", query(("variant", "b")), req(query=[("variant", "B")]), True),
    ("query other key", query(("variant", "b")), req(query=[("other", "b")]), False),
    ("query value only", query((None, "b")), req(query=[("any", "b")]), True),
    ("query escaped * is literal", query(("k", "a\\*")), req(query=[("k", "a*")]), True),
    ("query escaped * does not glob", query(("k", "a\\*")), req(query=[("k", "abc")]), False),
    ("query * wildcard", query(("k", "a*")), req(query=[("k", "abc")]), True),
    ("source-ip in v4 cidr", source("127.0.0.0/8"), req(source_ip="127.0.0.1"), True),
    ("source-ip outside", source("10.0.0.0/8"), req(source_ip="127.0.0.1"), False),
    ("source-ip v6", source("2001:db8::/32"), req(source_ip="2001:db8::7"), True),
    ("source-ip v4 client, v6 cidr", source("::/0"), req(source_ip="127.0.0.1"), False),
    ("path is case-sensitive", path("/beta/*"), req(path="/BETA/x"), False),
    ("path wildcard", path("/beta/*"), req(path="/beta/x/y"), True),
    ("path excludes query", path("/beta"), req(path="/beta", query=[("a", "b")]), True),
]


@pytest.mark.parametrize("name,cond,http,want", MATCHES, ids=[m[0] for m in MATCHES])
def test_condition_matches(name, cond, http, want):
    assert condition_matches(cond, http) is want
