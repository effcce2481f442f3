"""Self-test of what deploy strategies rely on: propagation delay and served counters.

Owns: checks, against a real emulator subprocess started with
`--propagation-delay 1.5`, that (1) the API shows a listener/target change at
once while the data plane keeps routing NEW requests by the old config until
the delay has passed, for ModifyListener and for DeregisterTargets (and a new
target gets traffic only once healthy AND propagated), and that weights,
TG stickiness and new rules follow the same lag; (2) `/_emu/propagation`
reads/sets the delay and reports pending changes; (3) `/_emu/served` counts
requests per target group and target, and `?since=` proves that no new
request reached a group after an instant.
"""

from __future__ import annotations

import time
import urllib.error
from collections import Counter

import pytest

from test_emulator import client, ctl, get, listener_url, spawn_emulator, stack, wait_state
from testapp import start_app

DELAY = 1.5


@pytest.fixture(scope="module")
def emu():
    yield from spawn_emulator("--propagation-delay", str(DELAY))


@pytest.fixture()
def ep(emu):
    ctl(emu, "POST", "/_emu/reset")
    return emu


def settle(ep: str) -> float:
    """Wait until every change made so far has reached the data plane; return the wall time."""
    cfg = ctl(ep, "GET", "/_emu/propagation")
    time.sleep(max(0.0, cfg["settled_at"] - time.time()) + 0.05)
    return time.time()


def versions(url: str, n: int) -> Counter:
    return Counter(get(url + "/")[1].get("X-App-Version") for _ in range(n))


@pytest.fixture()
def apps():
    blue, green = start_app("127.0.0.2", 0, "v1"), start_app("127.0.0.3", 0, "v2")
    yield blue, green
    blue.stop()
    green.stop()


def attached(blue: str, green: str) -> list[dict]:
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": blue, "Weight": 1}, {"TargetGroupArn": green, "Weight": 0}]}}]


def test_listener_change_reaches_the_data_plane_only_after_the_delay(ep, apps):
    blue, green = apps
    elb, lb, (tg_b, tg_g) = stack(ep)
    elb.register_targets(TargetGroupArn=tg_b, Targets=[{"Id": "127.0.0.2", "Port": blue.port}])
    elb.register_targets(TargetGroupArn=tg_g, Targets=[{"Id": "127.0.0.3", "Port": green.port}])
    # green attached at weight 0, as alb-rollout does first: AWS health-checks
    # only groups a listener or rule forwards to
    lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=attached(tg_b, tg_g)
                              )["Listeners"][0]["ListenerArn"]
    url = listener_url(ep, lst)
    wait_state(elb, tg_b, "127.0.0.2", "healthy")
    wait_state(elb, tg_g, "127.0.0.3", "healthy")
    settle(ep)
    assert versions(url, 20) == {"v1": 20}

    changed = time.time()
    elb.modify_listener(ListenerArn=lst, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_g}])
    # the API shows the new state at once ...
    shown = elb.describe_listeners(ListenerArns=[lst])["Listeners"][0]["DefaultActions"][0]["TargetGroupArn"]
    assert shown == tg_g
    pending = ctl(ep, "GET", "/_emu/propagation")
    assert pending["delay"] == DELAY
    assert any(p["kind"] == "listener" and p["arn"] == lst for p in pending["pending"]), pending
    assert changed + DELAY - 0.2 <= pending["settled_at"] <= time.time() + DELAY + 0.2
    # ... while new requests still follow the old config until the delay has passed
    early = Counter()
    while time.time() < changed + DELAY - 0.4:
        early.update(versions(url, 5))
    assert early and set(early) == {"v1"}, early
    switched = settle(ep)
    assert versions(url, 20) == {"v2": 20}
    served = ctl(ep, "GET", f"/_emu/served?since={switched}")["target_groups"]
    assert served[tg_b]["requests_since"] == 0 and served[tg_b]["since_exact"]
    assert served[tg_g]["requests_since"] == 20
    assert served[tg_b]["requests"] == 20 + sum(early.values())


def test_deregistered_target_keeps_getting_new_requests_until_propagated(ep, apps):
    blue, green = apps
    elb, lb, (tg, _other) = stack(ep)
    a, b = f"127.0.0.2:{blue.port}", f"127.0.0.3:{green.port}"
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.2", "Port": blue.port},
                                                     {"Id": "127.0.0.3", "Port": green.port}])
    lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
    url = listener_url(ep, lst)
    wait_state(elb, tg, "127.0.0.2", "healthy")
    wait_state(elb, tg, "127.0.0.3", "healthy")
    settle(ep)
    assert versions(url, 20) == {"v1": 10, "v2": 10}  # round-robin

    gone = time.time()
    elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.2", "Port": blue.port}])
    states = {d["Target"]["Id"]: d["TargetHealth"]["State"]
              for d in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}
    assert states == {"127.0.0.2": "draining", "127.0.0.3": "healthy"}  # API: at once
    while time.time() < gone + DELAY - 0.4:
        get(url + "/")
    lagging = ctl(ep, "GET", f"/_emu/served?since={gone}")["target_groups"][tg]["targets"]
    assert lagging[a]["requests_since"] > 0, lagging  # data plane: not yet
    after = settle(ep)
    assert versions(url, 10) == {"v2": 10}
    served = ctl(ep, "GET", f"/_emu/served?since={after}")["target_groups"][tg]
    assert served["targets"][a]["requests_since"] == 0 and served["targets"][b]["requests_since"] == 10
    # the draining target leaves DescribeTargetHealth after the deregistration delay (2 s)
    wait_state(elb, tg, "127.0.0.2", None, timeout=4)


def test_new_target_gets_traffic_only_when_healthy_and_propagated(ep, apps):
    blue, _green = apps
    elb, lb, (tg, _other) = stack(ep)
    lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
    url = listener_url(ep, lst)
    ctl(ep, "POST", "/_emu/target-health", {"target_group_arn": tg, "target_id": "127.0.0.2",
                                            "states": ["initial", "healthy"], "seconds": [DELAY + 1.0]})
    registered = time.time()
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.2", "Port": blue.port}])
    assert get(url + "/")[0] == 503  # not propagated yet
    settle(ep)
    assert time.time() < registered + DELAY + 1.0
    assert get(url + "/")[0] == 503  # propagated, but still `initial`: ALB routes only to healthy targets
    wait_state(elb, tg, "127.0.0.2", "healthy", timeout=3)
    assert get(url + "/")[1].get("X-App-Version") == "v1"


def test_propagation_hook_reads_sets_and_resets(ep):
    assert ctl(ep, "GET", "/_emu/propagation")["delay"] == DELAY
    assert ctl(ep, "POST", "/_emu/propagation", {"delay": 0})["delay"] == 0
    for bad in ({"delay": -1}, {"delay": 61}, {"delay": "soon"}):
        with pytest.raises(urllib.error.HTTPError) as ei:
            ctl(ep, "POST", "/_emu/propagation", bad)
        assert ei.value.code == 400
    ctl(ep, "POST", "/_emu/reset")
    assert ctl(ep, "GET", "/_emu/propagation")["delay"] == DELAY  # back to the startup value
    assert ctl(ep, "GET", "/_emu/served")["target_groups"] == {}


def test_delay_zero_applies_at_once(ep, apps):
    blue, green = apps
    ctl(ep, "POST", "/_emu/propagation", {"delay": 0})
    elb, lb, (tg_b, tg_g) = stack(ep)
    elb.register_targets(TargetGroupArn=tg_b, Targets=[{"Id": "127.0.0.2", "Port": blue.port}])
    elb.register_targets(TargetGroupArn=tg_g, Targets=[{"Id": "127.0.0.3", "Port": green.port}])
    # green attached at weight 0, as alb-rollout does first: AWS health-checks
    # only groups a listener or rule forwards to
    lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=attached(tg_b, tg_g)
                              )["Listeners"][0]["ListenerArn"]
    url = listener_url(ep, lst)
    wait_state(elb, tg_g, "127.0.0.3", "healthy")
    wait_state(elb, tg_b, "127.0.0.2", "healthy")
    assert versions(url, 3) == {"v1": 3}
    client(ep, "elbv2").modify_listener(ListenerArn=lst, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_g}])
    assert versions(url, 3) == {"v2": 3}


def test_stickiness_and_new_rules_follow_the_propagated_config(ep, apps):
    blue, green = apps
    elb, lb, (tg_b, tg_g) = stack(ep)
    elb.register_targets(TargetGroupArn=tg_b, Targets=[{"Id": "127.0.0.2", "Port": blue.port}])
    elb.register_targets(TargetGroupArn=tg_g, Targets=[{"Id": "127.0.0.3", "Port": green.port}])

    def sticky(wb: int, wg: int) -> list[dict]:
        return [{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tg_b, "Weight": wb}, {"TargetGroupArn": tg_g, "Weight": wg}],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 60}}}]

    lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=sticky(0, 1))["Listeners"][0]["ListenerArn"]
    url = listener_url(ep, lst)
    wait_state(elb, tg_b, "127.0.0.2", "healthy")
    wait_state(elb, tg_g, "127.0.0.3", "healthy")
    settle(ep)
    status, headers, _ = get(url + "/")
    assert status == 200 and headers["X-App-Version"] == "v2"
    cookie = headers["Set-Cookie"].split(";")[0]
    assert cookie == "AWSALBTG=" + tg_g.split(":")[-1]

    changed = time.time()
    elb.modify_listener(ListenerArn=lst, DefaultActions=sticky(1, 1))
    elb.create_rule(ListenerArn=lst, Priority=5, Conditions=[{"Field": "path-pattern", "Values": ["/fixed"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418"}}])
    # before the delay: the old config (green only; no /fixed rule)
    assert get(url + "/fixed")[1].get("X-App-Version") == "v2"
    assert time.time() < changed + DELAY - 0.3
    settle(ep)
    assert get(url + "/fixed")[0] == 418
    # the sticky cookie keeps a client on green while green has weight
    assert {get(url + "/", {"Cookie": cookie})[1]["X-App-Version"] for _ in range(10)} == {"v2"}
    elb.modify_listener(ListenerArn=lst, DefaultActions=sticky(1, 0))
    assert get(url + "/", {"Cookie": cookie})[1]["X-App-Version"] == "v2"  # not propagated yet
    settle(ep)
    assert {get(url + "/", {"Cookie": cookie})[1]["X-App-Version"] for _ in range(10)} == {"v1"}
