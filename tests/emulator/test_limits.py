"""Self-test of the ELBv2 limits the emulator enforces as AWS does (elbv2_limits.py).

Owns: one check per rule against a real emulator subprocess: tags per resource
(50, on Create* and through AddTags; moto alone allowed 10), key/value length
(128/256), allowed characters, the reserved `aws:` prefix, duplicate keys,
RemoveTags key validation; 20 ARNs per DescribeTags; targets per target group (1,000) and per ALB
(1,000 across the groups its listeners and rules forward to); one load
balancer per target group.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from test_emulator import client, ctl, spawn_emulator, stack


@pytest.fixture(scope="module")
def emu():
    yield from spawn_emulator("--propagation-delay", "0")


@pytest.fixture()
def elb(emu):
    ctl(emu, "POST", "/_emu/reset")
    return client(emu, "elbv2")


def refused(call, code: str, in_message: str = "") -> str:
    with pytest.raises(ClientError) as ei:
        call()
    err = ei.value.response["Error"]
    assert err["Code"] == code, err
    assert in_message in err["Message"], err
    return err["Message"]


def tags(n: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"Key": f"{prefix}{i}", "Value": f"v{i}"} for i in range(n)]


def tg_arn(elb, name: str = "lim", extra=None) -> str:
    return elb.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc(elb), TargetType="ip",
                                   **(extra or {}))["TargetGroups"][0]["TargetGroupArn"]


def vpc(elb) -> str:
    ec2 = client(elb.meta.endpoint_url, "ec2")
    found = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.9.0.0/16"]}])["Vpcs"]
    return found[0]["VpcId"] if found else ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]


def test_fifty_tags_per_resource(elb):
    arn = tg_arn(elb, extra={"Tags": tags(50)})
    refused(lambda: tg_arn(elb, "lim2", {"Tags": tags(51)}), "TooManyTags", "limit on the number of tags")
    other = tg_arn(elb, "lim3", {"Tags": tags(10)})
    elb.add_tags(ResourceArns=[other], Tags=tags(40, "more"))  # moto alone stopped at 10
    elb.add_tags(ResourceArns=[other], Tags=tags(5, "more"))  # updating existing keys adds none
    refused(lambda: elb.add_tags(ResourceArns=[other], Tags=[{"Key": "one-too-many", "Value": "x"}]),
            "TooManyTags", "You've reached the limit on the number of tags for this resource.")
    assert len(elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]) == 50
    assert len(elb.describe_tags(ResourceArns=[other])["TagDescriptions"][0]["Tags"]) == 50


def test_describe_tags_takes_at_most_twenty_arns(elb):
    arns = [tg_arn(elb, f"dt{i}", {"Tags": tags(1)}) for i in range(21)]
    got = elb.describe_tags(ResourceArns=arns[:20])["TagDescriptions"]
    assert sorted(d["ResourceArn"] for d in got) == sorted(arns[:20])
    refused(lambda: elb.describe_tags(ResourceArns=arns), "ValidationError",
            "at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20")


def test_key_and_value_lengths(elb):
    arn = tg_arn(elb)
    elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "k" * 128, "Value": "v" * 256}])
    msg = refused(lambda: elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "k" * 129, "Value": "x"}]),
                  "ValidationError", "at 'tags.1.member.key' failed to satisfy constraint: "
                                     "Member must have length less than or equal to 128")
    assert msg.startswith("1 validation error detected: Value '" + "k" * 129 + "'")
    refused(lambda: elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "ok", "Value": "v" * 257}]),
            "ValidationError", "at 'tags.1.member.value' failed to satisfy constraint: "
                               "Member must have length less than or equal to 256")
    refused(lambda: tg_arn(elb, "lim2", {"Tags": [{"Key": "k" * 129, "Value": "v" * 257}]}),
            "ValidationError", "2 validation errors detected")


@pytest.mark.parametrize("bad", ["a*b", "a#b", "a,b", "a;b", "a!b", "a\tb", "a\"b", "a'b", "a%b", "a(b)"])
def test_characters_outside_the_pattern_are_refused(elb, bad):
    arn = tg_arn(elb)
    refused(lambda: elb.add_tags(ResourceArns=[arn], Tags=[{"Key": bad, "Value": "x"}]), "ValidationError",
            "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$")
    refused(lambda: elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "k", "Value": bad}]), "ValidationError",
            "at 'tags.1.member.value'")


def test_allowed_characters_reserved_prefix_and_duplicates(elb):
    arn = tg_arn(elb)
    fine = "Team 9_a.b:c/d=e+f-g@h Équipe ٣"  # letters (any script), digits, spaces and _ . : / = + - @
    elb.add_tags(ResourceArns=[arn], Tags=[{"Key": fine, "Value": fine}, {"Key": "empty", "Value": ""}])
    got = {t["Key"]: t["Value"] for t in elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]}
    assert got[fine] == fine and got["empty"] == ""
    refused(lambda: elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "x"}]),
            "ValidationError", "Tag key 'aws:cloudformation:stack-name' cannot start with 'aws:'")
    refused(lambda: tg_arn(elb, "lim2", {"Tags": [{"Key": "AWS:x", "Value": "1"}]}), "ValidationError",
            "cannot start with 'aws:'")
    refused(lambda: elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}]),
            "DuplicateTagKeys", "Tag key was specified more than once: d")
    refused(lambda: elb.remove_tags(ResourceArns=[arn], TagKeys=["x" * 129]), "ValidationError",
            "at 'tagKeys.1.member'")
    elb.remove_tags(ResourceArns=[arn], TagKeys=[fine])


def ips(n: int, base: int = 0, net: str = "10.9") -> list[dict]:
    """n IP targets inside the VPC `net`.0.0/16 (one outside its VPC would need an AvailabilityZone)."""
    return [{"Id": f"{net}.{(base + i) // 250}.{(base + i) % 250 + 1}", "Port": 80} for i in range(n)]


def test_thousand_targets_per_group(elb):
    arn = tg_arn(elb)
    for start in range(0, 1000, 250):
        elb.register_targets(TargetGroupArn=arn, Targets=ips(250, start))
    assert len(elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]) == 1000
    elb.register_targets(TargetGroupArn=arn, Targets=ips(3))  # re-registering adds none
    refused(lambda: elb.register_targets(TargetGroupArn=arn, Targets=ips(1, 1000)), "TooManyTargets",
            "You've reached the limit on the number of targets.")


def test_thousand_targets_per_load_balancer(emu, elb):
    _elb, lb, (tg_a, tg_b) = stack(emu)
    elb.register_targets(TargetGroupArn=tg_a, Targets=ips(600, net="10.0"))
    elb.register_targets(TargetGroupArn=tg_b, Targets=ips(500, 600, net="10.0"))  # not on the ALB yet: fine
    lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg_a}])["Listeners"][0]["ListenerArn"]
    both = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tg_a, "Weight": 1},
                                                                    {"TargetGroupArn": tg_b, "Weight": 1}]}}]
    refused(lambda: elb.modify_listener(ListenerArn=lst, DefaultActions=both), "TooManyTargets",
            f"The maximum number of targets per load balancer '1000' has been reached on load balancer '{lb}'")
    refused(lambda: elb.create_rule(ListenerArn=lst, Priority=1, Actions=[{"Type": "forward", "TargetGroupArn": tg_b}],
                                    Conditions=[{"Field": "path-pattern", "Values": ["/b*"]}]), "TooManyTargets")
    # replacing a by b keeps the ALB at 500 targets: allowed
    elb.modify_listener(ListenerArn=lst, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_b}])
    elb.register_targets(TargetGroupArn=tg_b, Targets=ips(500, 1100, net="10.0"))  # 1,000 on the ALB: still fine
    refused(lambda: elb.register_targets(TargetGroupArn=tg_b, Targets=ips(1, 1600, net="10.0")), "TooManyTargets")


def test_a_target_group_belongs_to_one_load_balancer(emu, elb):
    """ALB quota "Load balancers per target group" is 1: a group one load
    balancer forwards to cannot be named in a forward of another."""
    _elb, lb, (tg_a, tg_b) = stack(emu)
    subnets = elb.describe_load_balancers(LoadBalancerArns=[lb])["LoadBalancers"][0]["AvailabilityZones"]
    other = elb.create_load_balancer(Name="t-alb-2", Subnets=[z["SubnetId"] for z in subnets])[
        "LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_a}])
    second = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=81,
                                 DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_a}])["Listeners"][0]
    assert second["DefaultActions"][0]["TargetGroupArn"] == tg_a  # two listeners of one load balancer: fine
    msg = "You've reached the limit on the number of load balancers per target group."
    refused(lambda: elb.create_listener(LoadBalancerArn=other, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg_a}]), "TargetGroupAssociationLimit", msg)
    lst = elb.create_listener(LoadBalancerArn=other, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg_b}])["Listeners"][0]["ListenerArn"]
    both = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tg_a, "Weight": 0},
                                                                    {"TargetGroupArn": tg_b, "Weight": 1}]}}]
    refused(lambda: elb.modify_listener(ListenerArn=lst, DefaultActions=both), "TargetGroupAssociationLimit")
    refused(lambda: elb.create_rule(ListenerArn=lst, Priority=1, Actions=[{"Type": "forward", "TargetGroupArn": tg_a}],
                                    Conditions=[{"Field": "path-pattern", "Values": ["/a*"]}]),
            "TargetGroupAssociationLimit")
