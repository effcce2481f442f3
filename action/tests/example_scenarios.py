"""The scenarios of action/tests/run_examples.py: for each example workflow,
the stack it deploys to, its fixtures, the steps it runs with their
expected outcomes, and what the stack must look like afterwards.

Owns: what each example is expected to do. A scenario is a function of
(Run) that raises on any difference.
"""

from __future__ import annotations

import time

import example_env as E
from run_examples import Run, expiry_in, kill, wait_until

DEPLOY = "Canary"
CANCEL = "Roll back after a cancel"
RECOVER = "Roll back the lost run"


def canary_stack(r: Run) -> dict:
    # Two blue targets, so --deregister-blue 25% drains two batches (each
    # judged for a CloudWatch minute); the green instance is not
    # registered: the example's `register` does it.
    d = r.emu.demo(prefix="web", register_green=False, blue_targets=2)
    r.ctx["env.LISTENER_ARN"] = d["listener_arn"]
    g = d["green_target"]
    r.ctx["inputs.green-instances"] = f"{g['id']}:{g['port']}"
    # 40 requests a second: at 5% green gets ~120 a minute, over the
    # example's min-requests 50.
    r.traffic = E.Traffic(d["listener_url"] + "/", 40)
    return d


def canary_full_deploy(r: Run) -> None:
    d = canary_stack(r)
    r.job("deploy", {"Plan": (0, None), DEPLOY: (0, "promoted")})
    assert E.forward_weights(r.elb, d["listener_arn"]) == {"web-blue": 0, "web-green": 999}
    assert E.targets(r.elb, d["blue_arn"]) == set(), "blue's targets were deregistered"
    assert E.targets(r.elb, d["green_arn"]) == {r.ctx["inputs.green-instances"]}


def canary_full_deploy_kill(r: Run) -> None:
    d = canary_stack(r)
    blue = E.targets(r.elb, d["blue_arn"])
    proc, _, _ = r.start("deploy", DEPLOY)
    wait_until("green to take traffic", lambda: E.forward_weights(r.elb, d["listener_arn"]).get("web-green", 0) > 0)
    kill(proc, r)
    # The killed run's heartbeat is fresh: rollback waits (`wait`), then
    # restores. The route is blue's alone, green's registration is undone.
    out = r.run("deploy", CANCEL, 0)
    assert "still beats" in out.log, "rollback found the run alive and waited"
    assert E.forward_weights(r.elb, d["listener_arn"]).get("web-green", 0) == 0
    assert E.targets(r.elb, d["green_arn"]) == set(), "the run's registration was undone"
    assert E.targets(r.elb, d["blue_arn"]) == blue
    # The recover job after it finds nothing left to do.
    r.run("recover", RECOVER, 0)


def blue_green(r: Run) -> None:
    d = r.emu.demo(prefix="web")
    r.ctx["env.LISTENER_ARN"] = d["listener_arn"]
    r.traffic = E.Traffic(d["listener_url"] + "/", 20)
    r.job("deploy", {"Blue/green switch": (0, "promoted")})
    assert E.forward_weights(r.elb, d["listener_arn"]).get("web-green") == 999


def blue_green_revert(r: Run) -> None:
    # Half of green's answers are 500s: the switch must be undone.
    d = r.emu.demo(prefix="web", green_error_rate=0.5)
    r.ctx["env.LISTENER_ARN"] = d["listener_arn"]
    r.traffic = E.Traffic(d["listener_url"] + "/", 20)
    r.job("deploy", {"Blue/green switch": (1, "reverted")})
    assert E.forward_weights(r.elb, d["listener_arn"]).get("web-green", 0) == 0


def rolling_stack(r: Run) -> dict:
    # The example names its group `web`; 2 old and 2 new targets, batch
    # 25%: two rounds of one (each judged for a CloudWatch minute).
    d = r.emu.rolling(old=2, new=2, new_error_rate=0.0, drain=2, name="web")
    r.ctx["inputs.add"] = ",".join(d["new"])
    r.ctx["inputs.remove"] = ",".join(d["old"])
    r.traffic = E.Traffic(d["listener_url"] + "/", 20)
    return d


def rolling_ec2(r: Run) -> None:
    d = rolling_stack(r)
    r.job("deploy", {"Rolling replacement": (0, "promoted")})
    assert E.targets(r.elb, d["group_arn"]) == set(d["new"])


def rolling_ec2_kill(r: Run) -> None:
    d = rolling_stack(r)
    proc, _, _ = r.start("deploy", "Rolling replacement")
    wait_until("round 1 to register a new target",
               lambda: E.targets(r.elb, d["group_arn"]) & set(d["new"]))
    kill(proc, r)
    out = r.run("deploy", CANCEL, 0)
    assert "still beats" in out.log, "rollback found the run alive and waited"
    assert E.targets(r.elb, d["group_arn"]) == set(d["old"]), "the group holds its original targets"
    assert not [k for k in E.tags(r.elb, d["group_arn"]) if k.startswith("alb-rollout:")], "record removed"
    r.run("recover", RECOVER, 0)


def ab_test(r: Run) -> None:
    d = r.emu.demo(prefix="web")
    r.ctx["env.LISTENER_ARN"] = d["listener_arn"]
    # configure-aws-credentials' output with role-duration-seconds 10800.
    r.ctx["steps.aws.outputs.aws-expiration"] = expiry_in(10800)
    url = d["listener_url"] + "/"
    r.traffic = [E.Traffic(url, 20), E.Traffic(url, 20, {"X-Variant": "b"})]
    r.job("ab", {"Plan": (0, None), "A/B": (0, "promoted")})
    assert E.created_rules(r.elb, d["listener_arn"]) == [], "the A/B rule is gone"


def ab_test_short_session(r: Run) -> None:
    # The default 1 h OIDC session: the 2 h test, as written (no duration
    # override), is refused by the plan and by the run, before any change.
    d = r.emu.demo(prefix="web")
    r.ctx["env.LISTENER_ARN"] = d["listener_arn"]
    r.ctx["steps.aws.outputs.aws-expiration"] = expiry_in(3600)
    r.override = lambda _name, value: value
    for name in ("Plan", "A/B"):
        out = r.run("ab", name, 2, "failed")
        assert "expire" in out.log, out.log
    assert E.created_rules(r.elb, d["listener_arn"]) == []


def dark_launch(r: Run) -> None:
    d = r.emu.demo(prefix="web")
    r.ctx["env.LISTENER_ARN"] = d["listener_arn"]
    r.ctx["env.PROBE_URL"] = d["listener_url"] + "/health"
    r.traffic = E.Traffic(d["listener_url"] + "/", 10)
    r.job("launch", {"Dark launch (the rule stays)": (0, "promoted"),
                     "The edge toggles on the listener (each rule's ARN)": (0, None)})
    rules = E.created_rules(r.elb, d["listener_arn"])
    assert len(rules) == 1, rules
    listed = r.work.glob("*-launch/log")
    assert any(rules[0]["RuleArn"] in p.read_text() for p in listed), "routes list printed the rule's ARN"
    # The later `toggle: off` run, given that ARN.
    r.ctx["inputs.rule-arn"] = rules[0]["RuleArn"]
    r.job("remove", {"Remove the dark launch's rule": (0, None)})
    assert E.created_rules(r.elb, d["listener_arn"]) == []


def release_pipeline(r: Run) -> None:
    staging = r.emu.demo(prefix="web-staging")
    production = r.emu.demo(prefix="web")
    r.ctx["env.STAGING_LISTENER_ARN"] = staging["listener_arn"]
    r.ctx["env.PRODUCTION_LISTENER_ARN"] = production["listener_arn"]
    # Production's first step sends 1% to green and wants 50 green requests
    # a minute: 150 a second gives ~90.
    r.traffic = [E.Traffic(staging["listener_url"] + "/", 20),
                 E.Traffic(production["listener_url"] + "/", 150, workers=8)]
    r.job("plan", {"Production plan for the reviewers (changes nothing)": (0, None)})
    r.job("staging", {"Canary on staging": (0, "promoted")})
    r.job("production", {"Canary on production": (0, "promoted")})
    for d in (staging, production):
        assert E.forward_weights(r.elb, d["listener_arn"]).get(d["green_arn"].split("/")[-2]) == 999


TWO = "Canary on both listeners"


def two_listener_stack(r: Run, **kw) -> tuple[dict, list]:  # noqa: ANN003
    # The example's HTTP and HTTPS listeners: the demo's and a second one
    # of the same load balancer, both forwarding to web-blue; traffic on
    # each, so both routes serve what the run judges.
    d = r.emu.demo(prefix="web", **kw)
    second, second_url = r.emu.second_listener(d)
    r.ctx["env.HTTP_LISTENER"] = d["listener_arn"]
    r.ctx["env.HTTPS_LISTENER"] = second
    r.traffic = [E.Traffic(d["listener_url"] + "/", 20), E.Traffic(second_url + "/", 20)]
    return d, [d["listener_arn"], second]


def on_blue_alone(r: Run, listeners: list) -> None:
    for lst in listeners:
        w = E.forward_weights(r.elb, lst)
        assert w.get("web-green", 0) == 0 and w.get("web-blue", 0) > 0, f"{lst}: {w}"


def two_listener_canary(r: Run) -> None:
    _, listeners = two_listener_stack(r)
    r.job("deploy", {TWO: (0, "promoted")})
    for lst in listeners:
        w = E.forward_weights(r.elb, lst)
        assert w.get("web-green") == 999 and w.get("web-blue", 0) == 0, f"{lst}: {w}"


def two_listener_canary_revert(r: Run) -> None:
    # Half of green's answers are 500s (max-error-rate 1%): the first
    # step's judgement reverts both listeners.
    _, listeners = two_listener_stack(r, green_error_rate=0.5)
    r.job("deploy", {TWO: (1, "reverted")})
    on_blue_alone(r, listeners)


def two_listener_canary_kill(r: Run) -> None:
    _, listeners = two_listener_stack(r)
    proc, _, _ = r.start("deploy", TWO)
    wait_until("green to take traffic on both listeners",
               lambda: all(E.forward_weights(r.elb, lst).get("web-green", 0) > 0 for lst in listeners))
    kill(proc, r)
    # The cancel step names the first listener only, with `force` (no wait
    # for the killed run's heartbeat); the run's record there names both
    # routes, so both are restored.
    r.run("deploy", CANCEL, 0)
    on_blue_alone(r, listeners)
def emu_post(r: Run, path: str, body: dict) -> dict:
    import json
    import urllib.request
    req = urllib.request.Request(r.emu.endpoint + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def shadow_then_canary(r: Run) -> None:
    d = r.emu.demo(prefix="web")
    r.ctx["env.LISTENER_ARN"] = d["listener_arn"]
    # The emulator's load balancer is not reached by its DNS name: the
    # example's REPLAY_TO is its data plane's URL.
    r.ctx["env.REPLAY_TO"] = d["listener_url"]
    # Access logs on into the example's bucket and prefix, as AWS is asked
    # (bucket policy, ModifyLoadBalancerAttributes); then blue's requests
    # and their log delivered to S3.
    emu_post(r, "/_emu/access-logs/enable", {"load_balancer_arn": d["load_balancer_arn"],
                                             "bucket": "web-alb-logs", "prefix": "production"})
    blue = E.Traffic(d["listener_url"] + "/", 20)
    time.sleep(3)
    blue.stop()
    keys = emu_post(r, "/_emu/access-logs/flush", {"load_balancer_arn": d["load_balancer_arn"]})["keys"]
    assert keys, "blue's requests were logged"
    # 40 requests a second: at 5% green gets ~120 a minute.
    r.traffic = E.Traffic(d["listener_url"] + "/", 40)
    r.job("deploy", {"Shadow, then canary": (0, "promoted")})
    assert E.forward_weights(r.elb, d["listener_arn"]) == {"web-blue": 0, "web-green": 999}
    assert E.created_rules(r.elb, d["listener_arn"]) == [], "the shadow rule is gone"


SCENARIOS = {
    "canary-full-deploy": ("canary-full-deploy.yml", canary_full_deploy),
    "canary-full-deploy-kill": ("canary-full-deploy.yml", canary_full_deploy_kill),
    "blue-green": ("blue-green.yml", blue_green),
    "blue-green-revert": ("blue-green.yml", blue_green_revert),
    "rolling-ec2": ("rolling-ec2.yml", rolling_ec2),
    "rolling-ec2-kill": ("rolling-ec2.yml", rolling_ec2_kill),
    "ab-test": ("ab-test.yml", ab_test),
    "ab-test-short-session": ("ab-test.yml", ab_test_short_session),
    "dark-launch": ("dark-launch.yml", dark_launch),
    "release-pipeline": ("release-pipeline.yml", release_pipeline),
    "two-listener-canary": ("two-listener-canary.yml", two_listener_canary),
    "two-listener-canary-revert": ("two-listener-canary.yml", two_listener_canary_revert),
    "two-listener-canary-kill": ("two-listener-canary.yml", two_listener_canary_kill),
    "shadow-then-canary": ("shadow-then-canary.yml", shadow_then_canary),
}

# Examples no scenario runs, each with why (test_action.py checks that every
# examples/*.yml is in SCENARIOS or here).
NOT_RUN = {
    "rolling-in-place.yml": "its deploy command runs on the instances through SSM "
                            "(aws ssm send-command), which the emulator does not offer",
}
