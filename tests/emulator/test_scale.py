"""Self-test of a target group at ALB's maximum: 1,000 real loopback targets.

Owns: one end-to-end check against an emulator subprocess and a fleet.py fleet
of 1,000 targets (127.1.0.1 .. 127.1.3.232, one asyncio loop): registration
in batches, DescribeTargetHealth with all 1,000 in under a second, every
target healthy by a real HTTP health check, round-robin over all of them
through the data plane (checked with `/_emu/served`), targets whose socket
closes turning unhealthy and losing traffic, and deregistration in batches
draining for the group's `deregistration_delay.timeout_seconds`.
"""

from __future__ import annotations

import time

import pytest

from fleet import start_fleet
from test_emulator import ctl, get, listener_url, spawn_emulator, stack

COUNT = 1000
BATCH = 100
DELAY = 0.5


@pytest.fixture(scope="module")
def emu():
    yield from spawn_emulator("--propagation-delay", str(DELAY))


@pytest.fixture(scope="module")
def fleet():
    f = start_fleet(COUNT)
    yield f
    f.stop()


def health(elb, tg: str) -> dict[str, str]:  # noqa: ANN001
    return {d["Target"]["Id"]: d["TargetHealth"]["State"]
            for d in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}


def wait_until(check, timeout: float, what: str):  # noqa: ANN001
    deadline = time.time() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def settle(ep: str) -> float:
    time.sleep(max(0.0, ctl(ep, "GET", "/_emu/propagation")["settled_at"] - time.time()) + 0.05)
    return time.time()


def test_a_thousand_real_targets(emu, fleet):
    ctl(emu, "POST", "/_emu/reset")
    elb, lb, (tg, _unused) = stack(emu)
    lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
    url = listener_url(emu, lst)
    for i in range(0, COUNT, BATCH):
        elb.register_targets(TargetGroupArn=tg, Targets=fleet.targets[i:i + BATCH])

    started = time.monotonic()
    states = health(elb, tg)
    assert time.monotonic() - started < 1.0, "DescribeTargetHealth with 1,000 targets took >= 1 s"
    assert len(states) == COUNT
    wait_until(lambda: list(health(elb, tg).values()).count("healthy") == COUNT, 30, "1,000 healthy targets")
    started = time.monotonic()
    health(elb, tg)
    assert time.monotonic() - started < 1.0

    # round-robin over all 1,000 through the data plane
    since = settle(emu)
    for _ in range(COUNT):
        assert get(url + "/")[0] == 200
    served = ctl(emu, "GET", f"/_emu/served?since={since}")["target_groups"][tg]
    assert served["requests_since"] == COUNT
    assert sorted(t["requests_since"] for t in served["targets"].values()) == [1] * COUNT

    # health is real: a target whose socket closes fails its checks and gets no more traffic
    for i in range(5):
        fleet.stop_target(i)
    dead = {t["Id"] for t in fleet.targets[:5]}
    # 2 failed checks 5 s apart (stack()'s interval, UnhealthyThresholdCount 2)
    wait_until(lambda: all(health(elb, tg)[ip] == "unhealthy" for ip in dead), 15, "closed targets unhealthy")
    since = time.time()
    for _ in range(200):
        assert get(url + "/")[0] == 200
    served = ctl(emu, "GET", f"/_emu/served?since={since}")["target_groups"][tg]["targets"]
    assert not [k for k, v in served.items() if k.split(":")[0] in dead and v["requests_since"]]

    # deregistration in batches: all draining at once (API), gone after the delay (2 s in stack())
    gone = time.monotonic()
    for i in range(0, COUNT, BATCH):
        elb.deregister_targets(TargetGroupArn=tg, Targets=fleet.targets[i:i + BATCH])
    assert set(health(elb, tg).values()) == {"draining"}
    wait_until(lambda: not health(elb, tg), 10, "drained targets to leave")
    assert 2.0 <= time.monotonic() - gone < 6.0
    settle(emu)
    assert get(url + "/")[0] == 503
