"""Self-test of health.py's AWS rules (run: tests/emulator/.venv/bin/python -m pytest tests/emulator).

Owns: proof that target health follows AWS's documented rules (see health.py's
docstring for the sources). Most tests drive a HealthManager on a fake clock
with a scripted prober against moto's real ELBv2 backend (a fresh account
each), so 30-second intervals pass instantly; the end-to-end tests run the
server with real loopback targets and short, AWS-valid settings.
"""

from __future__ import annotations

import os
import sys
import time

import pytest
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import BACKEND_LOCK  # noqa: E402
from health import Check, HealthManager  # noqa: E402
from test_emulator import client, ctl, spawn_emulator  # noqa: E402
from testapp import start_app  # noqa: E402

_accounts = iter(range(220000000000, 220000001000))


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Rig:
    """A HealthManager on a fake clock over one moto target group, which a
    listener forwards to unless `attached=False` (AWS checks only groups in use)."""

    def __init__(self, attached: bool = True, **tg_kwargs) -> None:  # noqa: ANN003
        from moto.elbv2.models import elbv2_backends

        self.backend = elbv2_backends[str(next(_accounts))]["us-east-1"]
        ec2 = self.backend.ec2_backend
        vpc = ec2.create_vpc("10.0.0.0/16").id
        subnets = [ec2.create_subnet(vpc_id=vpc, cidr_block=f"10.0.{i}.0/24", availability_zone=f"us-east-1{z}").id
                   for i, z in ((1, "a"), (2, "b"))]
        with BACKEND_LOCK:
            self.tg = self.backend.create_target_group(
                name="hc", protocol="HTTP", port="80", vpc_id=vpc, target_type="ip", **tg_kwargs)
            self.other = self.backend.create_target_group(
                name="other", protocol="HTTP", port="80", vpc_id=vpc, target_type="ip")
            lb = self.backend.create_load_balancer("hc-lb", [], subnets)
            first = self.tg if attached else self.other
            self.listener = self.backend.create_listener(
                lb.arn, "HTTP", "80", None, None, [{"Type": "forward", "TargetGroupArn": first.arn}])
        self.clock = Clock()
        self.outcomes: dict[str, list] = {}  # ip -> outcomes still to give (last one sticks)
        self.probed: list[tuple[float, str, float]] = []  # (time, ip, timeout)
        self.mgr = HealthManager(clock=self.clock, prober=self._probe)
        self.mgr.backends = lambda: [("", "us-east-1", self.backend)]

    def _probe(self, ip, port, path, matcher, protocol, timeout):  # noqa: ANN001, ANN202
        self.probed.append((self.clock.t, ip, timeout))
        seq = self.outcomes[ip]
        return seq.pop(0) if len(seq) > 1 else seq[0]

    def register(self, ip: str, *outcomes) -> None:  # noqa: ANN002
        self.outcomes[ip] = list(outcomes)
        with BACKEND_LOCK:
            self.tg.register([{"Id": ip, "Port": 8080}])

    def route(self, *weights: tuple) -> None:
        """Point the listener's default action at (target group, weight)s."""
        groups = [{"TargetGroupArn": tg.arn, "Weight": w} for tg, w in weights]
        with BACKEND_LOCK:
            self.backend.modify_listener(self.listener.arn, actions=[
                {"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}])

    def run(self, until: float, step: float = 0.5) -> None:
        """Advance the fake clock to `until` seconds after start, running due checks."""
        end = 1000.0 + until
        while True:
            self.mgr.tick(wait=True)
            if self.clock.t >= end:
                break
            self.clock.t = min(end, self.clock.t + step)

    def state(self, ip: str) -> tuple:
        with BACKEND_LOCK:
            return self.mgr.evaluate(self.tg, ip, 8080)

    def times(self, ip: str) -> list[float]:
        return [t - 1000.0 for t, i, _ in self.probed if i == ip]


OK, CONN, TIMEOUT, BAD = ("ok", None), ("conn", None), ("timeout", None), ("bad", 503)


def test_defaults_are_aws_defaults_30s_interval_first_check_at_once():
    r = Rig()
    r.register("127.0.0.5", OK)
    assert r.state("127.0.0.5") == ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
    r.run(95)
    assert r.times("127.0.0.5") == [0, 30, 60, 90]
    assert r.probed[0][2] == 5.0  # HealthCheckTimeoutSeconds default for HTTP


def test_a_new_target_needs_one_pass_not_the_healthy_threshold():
    # ECS developer guide: "For newly registered targets, only one successful
    # health check is required ... regardless of the healthy threshold count".
    r = Rig()
    r.register("127.0.0.5", OK)
    r.run(0)
    assert r.state("127.0.0.5") == ("healthy", None, None)


def test_a_target_that_never_answers_turns_unhealthy_after_the_unhealthy_threshold():
    r = Rig(healthcheck_interval_seconds=10, unhealthy_threshold_count="3")
    r.register("127.0.0.9", CONN)
    r.run(0)
    assert r.state("127.0.0.9") == ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
    r.run(19)
    assert r.state("127.0.0.9")[0] == "initial"  # 2 failures of 3
    r.run(20)
    assert r.state("127.0.0.9") == ("unhealthy", "Target.FailedHealthChecks", "Health checks failed")


def test_reason_codes_follow_the_last_failure():
    r = Rig(healthcheck_interval_seconds=5)
    r.register("127.0.0.6", BAD)
    r.register("127.0.0.7", TIMEOUT)
    r.run(5)
    assert r.state("127.0.0.6") == ("unhealthy", "Target.ResponseCodeMismatch",
                                    "Health checks failed with these codes: [503]")
    assert r.state("127.0.0.7") == ("unhealthy", "Target.Timeout", "Request timed out")


def test_a_healthy_target_stays_healthy_until_unhealthy_threshold_failures():
    r = Rig(healthcheck_interval_seconds=5, unhealthy_threshold_count="3")
    r.register("127.0.0.5", OK, CONN, CONN, OK, CONN, CONN, CONN)
    r.run(0)
    for t in (5, 10, 15, 20, 25):  # fail, fail, pass (resets), fail, fail
        r.run(t)
        assert r.state("127.0.0.5") == ("healthy", None, None), t
    r.run(30)
    assert r.state("127.0.0.5") == ("unhealthy", "Target.FailedHealthChecks", "Health checks failed")


def test_recovery_needs_healthy_threshold_consecutive_passes():
    r = Rig(healthcheck_interval_seconds=5, healthy_threshold_count="3")
    r.register("127.0.0.5", OK, CONN, CONN, OK, OK, CONN, OK, OK, OK)
    r.run(10)
    assert r.state("127.0.0.5")[0] == "unhealthy"
    r.run(20)  # two passes of three
    assert r.state("127.0.0.5")[0] == "unhealthy"
    r.run(25)  # a failure starts the count over
    r.run(35)
    assert r.state("127.0.0.5")[0] == "unhealthy"
    r.run(40)
    assert r.state("127.0.0.5") == ("healthy", None, None)


def test_default_recovery_takes_five_passes_at_thirty_seconds():
    r = Rig()
    r.register("127.0.0.5", CONN, CONN, OK)
    r.run(30)
    assert r.state("127.0.0.5")[0] == "unhealthy"
    r.run(30 + 4 * 30)
    assert r.state("127.0.0.5")[0] == "unhealthy"
    r.run(30 + 5 * 30)
    assert r.state("127.0.0.5")[0] == "healthy"


def test_modify_target_group_applies_interval_and_thresholds():
    r = Rig()
    r.register("127.0.0.5", CONN)
    r.run(0)
    with BACKEND_LOCK:
        r.backend.modify_target_group(r.tg.arn, health_check_interval=5, unhealthy_threshold_count="4")
    r.run(15)
    assert r.times("127.0.0.5") == [0, 5, 10, 15]  # rescheduled at once, not after 30 s
    assert r.state("127.0.0.5")[0] == "unhealthy"
    with BACKEND_LOCK:
        r.backend.modify_target_group(r.tg.arn, health_check_timeout=3)
    r.run(20)
    assert r.probed[-1][2] == 3.0


def test_a_slow_answer_does_not_shift_the_schedule():
    r = Rig(healthcheck_interval_seconds=10)
    r.register("127.0.0.5", OK)
    r.run(45, step=1)
    assert r.times("127.0.0.5") == [0, 10, 20, 30, 40]


def test_reregistration_starts_initial_again_and_deregistration_stops_checks():
    r = Rig(healthcheck_interval_seconds=5)
    r.register("127.0.0.5", CONN)
    r.run(5)
    assert r.state("127.0.0.5")[0] == "unhealthy"
    with BACKEND_LOCK:
        r.tg.deregister([{"Id": "127.0.0.5", "Port": 8080}])
    r.run(20)
    assert r.times("127.0.0.5") == [0, 5]
    r.register("127.0.0.5", OK)
    assert r.state("127.0.0.5")[0] == "initial"
    r.run(21)
    assert r.state("127.0.0.5")[0] == "healthy"


def test_fake_ids_and_non_loopback_ips_are_not_probed():
    r = Rig()
    r.register("i-0123456789abcdef0", OK)
    r.register("10.0.1.5", OK)
    r.run(60)
    assert r.probed == []
    assert r.state("i-0123456789abcdef0") is None  # moto's default
    assert r.state("10.0.1.5") is None


def test_check_state_machine_table():
    c = Check(0.0, 30.0)
    c.apply("conn", None, 5, 2)
    assert c.verdict()[:2] == ("initial", "Elb.InitialHealthChecking")
    c.apply("ok", None, 5, 2)  # a new target: one pass is enough
    assert c.verdict() == ("healthy", None, None)


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def emu_hc():
    yield from spawn_emulator("--propagation-delay", "0")


@pytest.fixture()
def server(emu_hc):  # noqa: ANN001, ANN201
    ctl(emu_hc, "POST", "/_emu/reset")
    return emu_hc


def _tg(elb, vpc: str, name: str, **kw) -> str:  # noqa: ANN001, ANN003
    return elb.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
                                   HealthCheckPath="/health", **kw)["TargetGroups"][0]["TargetGroupArn"]


def _attach(server, vpc: str, tg: str) -> str:  # noqa: ANN001
    """A load balancer whose listener forwards to `tg`: AWS checks only groups in use."""
    elb, ec2 = client(server, "elbv2"), client(server, "ec2")
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name="hc-lb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    return elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]


def _health(elb, tg: str) -> dict:  # noqa: ANN001
    return {d["Target"]["Id"]: d["TargetHealth"]
            for d in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}


def _wait(fn, timeout: float):  # noqa: ANN001, ANN202
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.1)


def test_e2e_real_checks_at_the_groups_interval(server):  # noqa: ANN001
    elb = client(server, "elbv2")
    vpc = client(server, "ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    tg = _tg(elb, vpc, "e2e-hc", HealthCheckIntervalSeconds=5, HealthyThresholdCount=2)
    _attach(server, vpc, tg)
    app = start_app("127.0.0.41", 0, "v1")
    try:
        t0 = time.time()
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.41", "Port": app.port},
                                                         {"Id": "127.0.0.42", "Port": 9}])
        assert _wait(lambda: _health(elb, tg)["127.0.0.41"]["State"] == "healthy", 3)
        assert time.time() - t0 < 2, "the first check runs at once"
        assert _health(elb, tg)["127.0.0.42"]["State"] == "initial"  # nothing listens: 1 failure of 2
        assert _wait(lambda: _health(elb, tg)["127.0.0.42"]["State"] == "unhealthy", 8)
        assert _health(elb, tg)["127.0.0.42"]["Reason"] == "Target.FailedHealthChecks"
        app.set(healthy=False)  # /health -> 503
        time.sleep(4)
        assert _health(elb, tg)["127.0.0.41"]["State"] == "healthy", "one failure of two"
        h = _wait(lambda: _health(elb, tg)["127.0.0.41"]["State"] == "unhealthy" and _health(elb, tg), 8)
        assert h["127.0.0.41"]["Reason"] == "Target.ResponseCodeMismatch"
        app.set(healthy=True)
        time.sleep(4)
        assert _health(elb, tg)["127.0.0.41"]["State"] == "unhealthy", "recovery needs two passes"
        assert _wait(lambda: _health(elb, tg)["127.0.0.41"]["State"] == "healthy", 8)
    finally:
        app.stop()


def test_e2e_health_check_settings_out_of_range_are_refused(server):  # noqa: ANN001
    # botocore checks these ranges itself; the Rust SDK does not, so the
    # emulator must refuse them as AWS's API does.
    import boto3
    import botocore.config

    elb = boto3.client("elbv2", endpoint_url=server, region_name="us-east-1", aws_access_key_id="AKIDTEST",
                       aws_secret_access_key="x", config=botocore.config.Config(parameter_validation=False))
    vpc = client(server, "ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    for kw, where in ((dict(HealthCheckIntervalSeconds=1), "healthCheckIntervalSeconds"),
                      (dict(HealthyThresholdCount=1), "healthyThresholdCount"),
                      (dict(UnhealthyThresholdCount=11), "unhealthyThresholdCount"),
                      (dict(HealthCheckTimeoutSeconds=1), "healthCheckTimeoutSeconds")):
        with pytest.raises(ClientError) as e:
            _tg(elb, vpc, "bad-hc", **kw)
        assert e.value.response["Error"]["Code"] == "ValidationError"
        assert where in e.value.response["Error"]["Message"]
    tg = _tg(elb, vpc, "ok-hc", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2)
    with pytest.raises(ClientError) as e:
        elb.modify_target_group(TargetGroupArn=tg, HealthCheckIntervalSeconds=301)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as e:
        elb.modify_target_group(TargetGroupArn=tg, HealthCheckTimeoutSeconds=6)
    assert "must be smaller than" in e.value.response["Error"]["Message"]
    elb.modify_target_group(TargetGroupArn=tg, HealthCheckIntervalSeconds=10, HealthyThresholdCount=2)
