#!/usr/bin/env python3
"""Build a blue/green demo stack against a running ALB emulator.

Owns: the demo topology. Creates VPC + 2 subnets, ALB `demo-alb`, target groups
`demo-blue` / `demo-green` (ip, HTTP:80, health check /health, deregistration
delay 5s), an HTTP:80 listener forwarding to `demo-blue`, starts two in-process
test apps (blue v1 on 127.0.0.2, green v2 on 127.0.0.3), registers them and
waits until blue is healthy, green reads `unused` (`Target.NotInUse`: no
listener or rule forwards to it, so AWS does not health-check it, as on a
service's first deploy) and the registrations have propagated to the data
plane (so the listener serves blue as soon as the JSON is printed).
Prints ONE JSON object on stdout: endpoint, region, load_balancer_arn,
listener_arn, blue_arn, green_arn, listener_url, blue_target, green_target,
green_app_url (+ blue_app_url). With `--serve` it keeps the apps running until
killed (SIGTERM/SIGINT).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from testapp import start_app  # noqa: E402


def wait_listener_url(endpoint: str, listener_arn: str, timeout: float = 10.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with urllib.request.urlopen(f"{endpoint}/_emu/dataplane", timeout=5) as r:
            for lst in json.load(r)["listeners"]:
                if lst["listener_arn"] == listener_arn:
                    return lst["url"]
        time.sleep(0.2)
    raise RuntimeError("data plane did not open the listener in time")


def wait_serving(endpoint: str, elb, targets: list[tuple[str, str, str]], timeout: float = 20.0) -> None:  # noqa: ANN001
    """Wait until each (group, target, state) holds, then for propagation."""
    deadline = time.time() + timeout
    for tg, tid, want in targets:
        while True:
            states = [d["TargetHealth"]["State"] for d in elb.describe_target_health(TargetGroupArn=tg)
                      ["TargetHealthDescriptions"] if d["Target"]["Id"] == tid]
            if states == [want]:
                break
            if time.time() > deadline:
                raise RuntimeError(f"target {tid} of {tg} not {want} in time: {states}")
            time.sleep(0.1)
    with urllib.request.urlopen(f"{endpoint}/_emu/propagation", timeout=5) as r:
        settled_at = json.load(r)["settled_at"]
    time.sleep(max(0.0, settled_at - time.time()) + 0.05)


def build(endpoint: str, region: str = "us-east-1", green_error_rate: float = 0.0, register_green: bool = True,
          blue_host: str = "127.0.0.2", green_host: str = "127.0.0.3", prefix: str = "demo",
          blue_error_rate: float = 0.0, green_latency_ms: float = 0.0,
          blue_targets: int = 1) -> tuple[dict, list]:
    import boto3

    kw = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
              aws_secret_access_key="testing")
    ec2 = boto3.client("ec2", **kw)
    elb = boto3.client("elbv2", **kw)

    blue_app = start_app(blue_host, 0, "v1", error_rate=blue_error_rate)
    # More blue targets (--blue-targets N), each on its own loopback address
    # so health and served counters tell them apart.
    more_blue = [(h, start_app(h, 0, "v1", error_rate=blue_error_rate))
                 for h in (f"127.0.0.{20 + i}" for i in range(1, max(1, blue_targets)))]
    green_app = start_app(green_host, 0, "v2", error_rate=green_error_rate, latency_ms=green_latency_ms)

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{az}")
               ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name=f"{prefix}-alb", Subnets=subnets, Type="application",
                                  Scheme="internet-facing")["LoadBalancers"][0]["LoadBalancerArn"]
    tgs = {}
    for color in ("blue", "green"):
        arn = elb.create_target_group(
            Name=f"{prefix}-{color}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
            HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
        tgs[color] = arn
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tgs["blue"]}])["Listeners"][0]["ListenerArn"]
    elb.register_targets(TargetGroupArn=tgs["blue"], Targets=[{"Id": blue_host, "Port": blue_app.port}]
                         + [{"Id": h, "Port": a.port} for h, a in more_blue])
    if register_green:
        elb.register_targets(TargetGroupArn=tgs["green"], Targets=[{"Id": green_host, "Port": green_app.port}])
    # Hand the stack over only once it serves, as a stack long in service on AWS
    # would: blue's targets healthy, green's unused (nothing forwards to green
    # yet, so AWS does not check it) and the registrations propagated to the
    # data plane (the emulator's --propagation-delay, 3 s by default).
    wait_serving(endpoint, elb, [(tgs["blue"], blue_host, "healthy")]
                 + [(tgs["blue"], h, "healthy") for h, _ in more_blue]
                 + ([(tgs["green"], green_host, "unused")] if register_green else []))
    info = {
        "endpoint": endpoint, "region": region, "load_balancer_arn": lb, "listener_arn": listener,
        "blue_arn": tgs["blue"], "green_arn": tgs["green"],
        "listener_url": wait_listener_url(endpoint, listener),
        "blue_target": {"id": blue_host, "port": blue_app.port},
        "blue_targets": [{"id": blue_host, "port": blue_app.port}]
        + [{"id": h, "port": a.port} for h, a in more_blue],
        "green_target": {"id": green_host, "port": green_app.port},
        "green_app_url": green_app.url, "blue_app_url": blue_app.url,
    }
    return info, [blue_app, green_app] + [a for _, a in more_blue]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Create the blue/green demo stack in the ALB emulator")
    p.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"), help="emulator URL")
    p.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    p.add_argument("--green-error-rate", type=float, default=0.0)
    p.add_argument("--blue-error-rate", type=float, default=0.0,
                   help="make blue fail too, to play a platform-wide incident")
    p.add_argument("--green-latency-ms", type=float, default=0.0)
    p.add_argument("--blue-targets", type=int, default=1, help="how many targets blue has (loopback apps)")
    p.add_argument("--register-green", dest="register_green", action="store_true", default=True)
    p.add_argument("--no-register-green", dest="register_green", action="store_false")
    p.add_argument("--prefix", default="demo", help="name prefix (demo-alb, demo-blue, demo-green)")
    p.add_argument("--serve", action="store_true", help="keep the test apps running until killed")
    p.add_argument("--exit-on-stdin-eof", action="store_true",
                   help="with --serve: exit when stdin closes (for tests that spawn the demo as a child)")
    a = p.parse_args(argv)
    if not a.endpoint:
        p.error("--endpoint (or AWS_ENDPOINT_URL) is required")
    info, _apps = build(a.endpoint, a.region, a.green_error_rate, a.register_green, prefix=a.prefix,
                        blue_error_rate=a.blue_error_rate, green_latency_ms=a.green_latency_ms,
                        blue_targets=a.blue_targets)
    print(json.dumps(info), flush=True)
    if a.serve:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        if a.exit_on_stdin_eof:
            # Blocks until the parent closes our stdin (or dies).
            sys.stdin.read()
            os._exit(0)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
