#!/usr/bin/env python3
"""Measure the emulator with one target group of N real loopback targets.

Owns: the scale measurement quoted in README.md. Starts an emulator
subprocess and a fleet (fleet.py) of N targets in this process, then times:
RegisterTargets in batches, DescribeTargetHealth with all N, the time until
all N are healthy by real HTTP health checks, the emulator's CPU while idle
(only health-checking) over `--idle` seconds, requests through the data plane,
and DeregisterTargets until the draining targets have left
(deregistration_delay.timeout_seconds = `--drain`). The group checks every
`--check-interval` seconds (HealthCheckIntervalSeconds, default 5: AWS's
minimum) with HealthyThresholdCount 2; `--health-interval` is the emulator's
scheduler tick. Prints one JSON object. Usage:
`bench_scale.py [--count 1000] [--batch 100] [--check-interval 5] [--health-interval 1] [--idle 10] [--drain 3]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fleet import start_fleet  # noqa: E402


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def states(elb, tg: str) -> list[str]:  # noqa: ANN001
    return [d["TargetHealth"]["State"] for d in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]]


def run(count: int, batch: int, interval: float, idle: float, drain: int, check_interval: int = 5) -> dict:
    import boto3

    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--exit-on-stdin-eof",
                             "--health-interval", str(interval)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    ep = proc.stdout.readline().strip().split("=", 1)[1]
    fleet = start_fleet(count)
    out: dict = {"count": count, "batch": batch, "health_interval": interval, "check_interval": check_interval}
    try:
        kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        ec2, elb = boto3.client("ec2", **kw), boto3.client("elbv2", **kw)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
                   ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
        lb = elb.create_load_balancer(Name="scale", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        tg = elb.create_target_group(Name="scale", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
                                     HealthCheckPath="/health", HealthCheckIntervalSeconds=check_interval,
                                     HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(drain)}])
        lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
        t0 = time.monotonic()
        for i in range(0, count, batch):
            elb.register_targets(TargetGroupArn=tg, Targets=fleet.targets[i:i + batch])
        out["register_seconds"] = round(time.monotonic() - t0, 3)
        while True:
            s = states(elb, tg)
            if s.count("healthy") == count:
                break
            if time.monotonic() - t0 > 120:
                raise RuntimeError(f"not all healthy: {s.count('healthy')}")
            time.sleep(0.2)
        out["all_healthy_after_register_seconds"] = round(time.monotonic() - t0, 3)
        t1 = time.monotonic()
        n = len(states(elb, tg))
        out["describe_target_health_seconds"] = round(time.monotonic() - t1, 3)
        assert n == count
        c0, w0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(idle)
        out["idle_cpu_percent"] = round(100 * (cpu_seconds(proc.pid) - c0) / (time.monotonic() - w0), 1)
        with urllib.request.urlopen(f"{ep}/_emu/propagation") as r:
            time.sleep(max(0.0, json.load(r)["settled_at"] - time.time()) + 0.05)
        with urllib.request.urlopen(f"{ep}/_emu/dataplane") as r:
            url = next(x["url"] for x in json.load(r)["listeners"] if x["listener_arn"] == lst)
        t2 = time.monotonic()
        for _ in range(200):
            urllib.request.urlopen(url + "/").read()
        out["dataplane_ms_per_request"] = round((time.monotonic() - t2) * 1000 / 200, 2)
        t3 = time.monotonic()
        for i in range(0, count, batch):
            elb.deregister_targets(TargetGroupArn=tg, Targets=fleet.targets[i:i + batch])
        out["deregister_seconds"] = round(time.monotonic() - t3, 3)
        out["draining_right_after"] = states(elb, tg).count("draining")
        while states(elb, tg):
            time.sleep(0.2)
        out["drained_after_seconds"] = round(time.monotonic() - t3, 3)
    finally:
        fleet.stop()
        proc.stdin.close()
        proc.wait(10)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--health-interval", type=float, default=1.0, help="emulator scheduler tick")
    p.add_argument("--check-interval", type=int, default=5, help="the group's HealthCheckIntervalSeconds")
    p.add_argument("--idle", type=float, default=10.0)
    p.add_argument("--drain", type=int, default=3)
    a = p.parse_args()
    print(json.dumps(run(a.count, a.batch, a.health_interval, a.idle, a.drain, a.check_interval)))


if __name__ == "__main__":
    main()
