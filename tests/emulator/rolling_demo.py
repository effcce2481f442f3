#!/usr/bin/env python3
"""Build a one-group stack for `alb-rollout rolling` against a running emulator.

Owns: the rolling topology. An ALB `roll-alb` with an HTTP:80 listener that
forwards to one target group `roll` (`--name`; ip, HTTP:80, health check /health,
deregistration delay `--drain` seconds); `--old N` loopback targets of v1
(fleet.py, from 127.1.0.1) registered and healthy, and `--new N` targets of v2
(from 127.2.0.1, `--new-error-rate` of their requests failing) serving but not
registered: the targets a rolling run adds. Prints ONE JSON object:
endpoint, load_balancer_arn, listener_arn, group_arn, listener_url, old and
new (lists of "IP:PORT"). With `--serve` it keeps the fleets up until killed
or, with `--exit-on-stdin-eof`, until stdin closes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from demo import wait_listener_url  # noqa: E402
from fleet import start_fleet  # noqa: E402


def wait_healthy(endpoint: str, elb, tg: str, count: int, timeout: float = 120.0) -> None:  # noqa: ANN001
    deadline = time.time() + timeout
    while True:
        states = [d["TargetHealth"]["State"] for d in
                  elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]]
        if states.count("healthy") == count:
            break
        if time.time() > deadline:
            raise RuntimeError(f"{states.count('healthy')} of {count} targets healthy in time")
        time.sleep(0.2)
    import urllib.request
    with urllib.request.urlopen(f"{endpoint}/_emu/propagation", timeout=5) as r:
        settled_at = json.load(r)["settled_at"]
    time.sleep(max(0.0, settled_at - time.time()) + 0.05)


def build(endpoint: str, old: int, new: int, new_error_rate: float, drain: int,
          name: str = "roll") -> tuple[dict, list]:
    import boto3

    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing")
    ec2, elb = boto3.client("ec2", **kw), boto3.client("elbv2", **kw)
    old_fleet = start_fleet(old, "127.1.0.1", "v1")
    new_fleet = start_fleet(new, "127.2.0.1", "v2", error_rate=new_error_rate)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name=f"{name}-alb", Subnets=subnets, Type="application",
                                  Scheme="internet-facing")["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
                                 HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                                 HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": str(drain)}])
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
    for i in range(0, len(old_fleet.targets), 100):
        elb.register_targets(TargetGroupArn=tg, Targets=old_fleet.targets[i:i + 100])
    wait_healthy(endpoint, elb, tg, old)
    info = {
        "endpoint": endpoint, "load_balancer_arn": lb, "listener_arn": listener, "group_arn": tg,
        "listener_url": wait_listener_url(endpoint, listener),
        "old": [f"{t['Id']}:{t['Port']}" for t in old_fleet.targets],
        "new": [f"{t['Id']}:{t['Port']}" for t in new_fleet.targets],
    }
    return info, [old_fleet, new_fleet]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Create the one-group rolling stack in the ALB emulator")
    p.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"), help="emulator URL")
    p.add_argument("--old", type=int, default=4, help="registered v1 targets")
    p.add_argument("--new", type=int, default=4, help="unregistered v2 targets")
    p.add_argument("--new-error-rate", type=float, default=0.0, help="share of v2 requests that fail")
    p.add_argument("--drain", type=int, default=2, help="deregistration delay, seconds")
    p.add_argument("--name", default="roll", help="the group's name (the ALB is NAME-alb)")
    p.add_argument("--serve", action="store_true", help="keep the fleets up until killed")
    p.add_argument("--exit-on-stdin-eof", action="store_true")
    a = p.parse_args(argv)
    if not a.endpoint:
        p.error("--endpoint (or AWS_ENDPOINT_URL) is required")
    info, _fleets = build(a.endpoint, a.old, a.new, a.new_error_rate, a.drain, a.name)
    print(json.dumps(info), flush=True)
    if a.serve:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        if a.exit_on_stdin_eof:
            sys.stdin.read()
            os._exit(0)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
