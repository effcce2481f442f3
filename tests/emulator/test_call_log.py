"""Self-test of the call log's resource detail (run: tests/emulator/.venv/bin/python -m pytest tests/emulator).

Owns: the ARNs each logged ELBv2 call named (`resources`), the rule a
CreateRule created (`created`) and whether it carried tags (`tags`): what
tests/integration/iam_coverage.rs holds against the generated IAM policies.
"""

from __future__ import annotations

import os
import sys

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_emulator import client, ctl, spawn_emulator, stack  # noqa: E402


@pytest.fixture(scope="module")
def ep():
    yield from spawn_emulator("--propagation-delay", "0")


def test_calls_record_the_arns_they_named_and_the_rule_a_create_made(ep):
    elb, lb, (tg_b, tg_g) = stack(ep)
    lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg_b}])["Listeners"][0]["ListenerArn"]
    ctl(ep, "DELETE", "/_emu/calls")
    rule = elb.create_rule(ListenerArn=lst, Priority=10, Conditions=[
        {"Field": "path-pattern", "Values": ["/x"]}], Actions=[{"Type": "forward", "TargetGroupArn": tg_g}],
        Tags=[{"Key": "k", "Value": "v"}])["Rules"][0]["RuleArn"]
    elb.create_rule(ListenerArn=lst, Priority=11, Conditions=[{"Field": "path-pattern", "Values": ["/y"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": tg_g}])
    elb.add_tags(ResourceArns=[lst, tg_b], Tags=[{"Key": "k", "Value": "v"}])
    elb.modify_rule(RuleArn=rule, Actions=[{"Type": "forward", "TargetGroupArn": tg_b}])
    elb.describe_target_health(TargetGroupArn=tg_g)
    ctl(ep, "POST", "/_emu/faults", {"service": "elbv2", "action": "DeleteRule", "status": 400,
                                     "code": "Throttling", "count": 1})
    with pytest.raises(ClientError):
        elb.delete_rule(RuleArn=rule)
    calls = ctl(ep, "GET", "/_emu/calls")["calls"]
    got = [(c["action"], c["resources"]) for c in calls]
    assert got == [("CreateRule", [lst]), ("CreateRule", [lst]), ("AddTags", [lst, tg_b]),
                   ("ModifyRule", [rule]), ("DescribeTargetHealth", [tg_g]), ("DeleteRule", [rule])]
    assert calls[0]["created"] == [rule] and calls[0]["tags"] is True
    assert calls[1]["tags"] is False and calls[1]["created"][0].startswith(lst.replace(":listener/", ":listener-rule/"))
    assert calls[-1]["faulted"] is True


def test_calls_without_elbv2_parameters_carry_no_resources(ep):
    client(ep, "ec2").describe_vpcs()
    assert "resources" not in ctl(ep, "GET", "/_emu/calls")["calls"][-1]


def test_a_fault_with_a_resource_matches_only_calls_that_name_it(ep):
    ctl(ep, "POST", "/_emu/reset")
    elb, lb, (tg_b, _tg_g) = stack(ep)
    fwd = [{"Type": "forward", "TargetGroupArn": tg_b}]
    l1, l2 = (elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=p, DefaultActions=fwd)["Listeners"][0]["ListenerArn"]
              for p in (8090, 8091))
    ctl(ep, "POST", "/_emu/faults", {"service": "elbv2", "action": "CreateRule", "status": 400,
                                     "code": "TooManyRules", "resource": l2, "count": 1})
    cond = [{"Field": "path-pattern", "Values": ["/z"]}]
    elb.create_rule(ListenerArn=l1, Priority=31, Conditions=cond, Actions=fwd)
    with pytest.raises(ClientError) as refused:
        elb.create_rule(ListenerArn=l2, Priority=31, Conditions=cond, Actions=fwd)
    assert refused.value.response["Error"]["Code"] == "TooManyRules"
    elb.create_rule(ListenerArn=l2, Priority=31, Conditions=cond, Actions=fwd)
    assert ctl(ep, "GET", "/_emu/faults")["faults"] == []


def test_a_get_metric_data_call_records_the_load_balancers_its_queries_name(ep):
    import time

    import cbor2

    from test_emulator import cbor_call

    def q(i: int, dims: list[tuple[str, str]]) -> dict:
        metric = {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
                  "Dimensions": [{"Name": n, "Value": v} for n, v in dims]}
        return {"Id": f"q{i}", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}, "ReturnData": True}

    base = float(int(time.time()) // 60 * 60 - 120)
    ctl(ep, "DELETE", "/_emu/calls")
    status, _ = cbor_call(ep, "GetMetricData", {"MetricDataQueries": [
        q(0, [("TargetGroup", "targetgroup/g/1"), ("LoadBalancer", "app/pub/1")]),
        q(1, [("TargetGroup", "targetgroup/g2/2"), ("LoadBalancer", "app/int/2")]),
        q(2, [("LoadBalancer", "app/pub/1")])],
        "StartTime": cbor2.CBORTag(1, base), "EndTime": cbor2.CBORTag(1, base + 60)})
    assert status == 200
    cbor_call(ep, "ListMetrics", {"Namespace": "AWS/ApplicationELB"})
    calls = ctl(ep, "GET", "/_emu/calls")["calls"]
    assert calls[0]["action"] == "GetMetricData" and calls[0]["load_balancers"] == ["app/pub/1", "app/int/2"]
    assert "load_balancers" not in calls[1]
