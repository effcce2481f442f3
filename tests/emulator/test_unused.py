"""Self-test of `Target.NotInUse` (run: tests/emulator/.venv/bin/python -m pytest tests/emulator).

Owns: proof that the emulator health-checks only target groups that a
listener's default action or a rule forwards to (at any weight, 0 included),
as AWS does (TargetHealth API reference; ALB guide, "Target groups"): the
targets of any other group read `unused` / `Target.NotInUse` whatever their
server answers, start over from `initial` once a listener forwards to the
group, and are `unused` again once nothing does. In-process on a fake clock
(`Rig` from test_health.py), plus one end-to-end run through the server.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import BACKEND_LOCK  # noqa: E402
from test_emulator import client  # noqa: E402
from test_health import OK, Rig, _health, _tg, _wait, emu_hc, server  # noqa: E402,F401
from testapp import start_app  # noqa: E402

NOT_IN_USE = ("unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")


def test_a_group_no_listener_forwards_to_is_unused_and_never_probed():
    r = Rig(attached=False, healthcheck_interval_seconds=5)
    r.register("127.0.0.5", OK)
    r.register("i-0123456789abcdef0", OK)  # not probed anyway: still not in use
    r.run(60)
    assert r.probed == []
    assert r.state("127.0.0.5") == NOT_IN_USE
    assert r.state("i-0123456789abcdef0") == NOT_IN_USE


def test_a_weight_zero_entry_puts_the_group_in_use_from_initial():
    r = Rig(attached=False, healthcheck_interval_seconds=5)
    r.register("127.0.0.5", OK)
    r.run(10)
    r.route((r.other, 1), (r.tg, 0))
    assert r.state("127.0.0.5") == ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
    r.run(11)
    assert r.state("127.0.0.5")[0] == "healthy"
    assert r.times("127.0.0.5") == [10]


def test_a_rule_forwarding_to_the_group_puts_it_in_use():
    r = Rig(attached=False, healthcheck_interval_seconds=5)
    r.register("127.0.0.5", OK)
    with BACKEND_LOCK:
        rule = r.backend.create_rule(
            r.listener.arn, [{"Field": "path-pattern", "Values": ["/x"]}], 5,
            [{"Type": "forward", "TargetGroupArn": r.tg.arn}])
    r.run(1)
    assert r.state("127.0.0.5")[0] == "healthy"
    with BACKEND_LOCK:
        r.backend.delete_rule(rule.arn)
    assert r.state("127.0.0.5") == NOT_IN_USE


def test_a_detached_group_is_unused_again_and_restarts_from_initial():
    r = Rig(healthcheck_interval_seconds=5)
    r.register("127.0.0.5", OK)
    r.run(1)
    assert r.state("127.0.0.5")[0] == "healthy"
    r.route((r.other, 1))
    assert r.state("127.0.0.5") == NOT_IN_USE, "at once, not at the next scheduler round"
    r.run(30)
    assert r.times("127.0.0.5") == [0], "no checks while unused"
    r.route((r.other, 1), (r.tg, 0))
    assert r.state("127.0.0.5")[0] == "initial"
    r.run(31)
    assert r.state("127.0.0.5")[0] == "healthy"
    assert r.times("127.0.0.5") == [0, 30], "the first check at once after attaching"


def test_e2e_describe_target_health_reports_not_in_use_until_a_listener_forwards(server):  # noqa: ANN001, F811
    elb, ec2 = client(server, "elbv2"), client(server, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    blue = _tg(elb, vpc, "nu-blue", HealthCheckIntervalSeconds=5)
    green = _tg(elb, vpc, "nu-green", HealthCheckIntervalSeconds=5)
    lb = elb.create_load_balancer(Name="nu-lb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": blue}])["Listeners"][0]["ListenerArn"]
    app = start_app("127.0.0.43", 0, "v2")
    try:
        elb.register_targets(TargetGroupArn=green, Targets=[{"Id": "127.0.0.43", "Port": app.port}])
        h = _health(elb, green)["127.0.0.43"]
        assert (h["State"], h["Reason"], h["Description"]) == NOT_IN_USE
        assert not _wait(lambda: _health(elb, green)["127.0.0.43"]["State"] != "unused", 2)
        elb.modify_listener(ListenerArn=listener, DefaultActions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": blue, "Weight": 1}, {"TargetGroupArn": green, "Weight": 0}]}}])
        assert _wait(lambda: _health(elb, green)["127.0.0.43"]["State"] == "healthy", 3)
    finally:
        app.stop()
