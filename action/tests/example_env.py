"""What an example workflow deploys against on this machine: an emulator of
its own, the emulator's demo stacks, steady traffic, and the read-backs
the example runner judges by.

Owns: the per-example environment of action/tests/run_examples.py. All of
it listens on loopback only and ends with the process (the emulator exits
when its stdin closes).
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "emulator"))

import demo  # noqa: E402
import rolling_demo  # noqa: E402

# CloudWatch minutes visible 5 s after they end (AWS: 1-3 min; the
# emulator's default 90 s): judged minutes stay whole minutes, as on AWS,
# while a 1 m hold takes ~1.5 min instead of ~3.5.
METRICS_DELAY = "5"


class Emulator:
    def __init__(self, log: Path):
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(
            [str(REPO / "tests" / "emulator" / "start.sh"), "--host", "127.0.0.1", "--port", "0",
             "--metrics-delay", METRICS_DELAY, "--exit-on-stdin-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.time() + 120
        self.endpoint = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline().decode()
            if line.startswith("ALB_EMULATOR_ENDPOINT="):
                self.endpoint = line.split("=", 1)[1].strip()
                break
            if not line and self.proc.poll() is not None:
                break
        if not self.endpoint:
            raise RuntimeError(f"the emulator did not start (log: {log})")

    def env(self) -> dict:
        return {
            "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
            "AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
        }

    def elb(self):  # noqa: ANN201
        import boto3
        return boto3.client("elbv2", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def demo(self, **kw) -> dict:  # noqa: ANN003
        info, apps = demo.build(self.endpoint, **kw)
        self._keep = getattr(self, "_keep", []) + apps
        return info

    def second_listener(self, d: dict, port: int = 8081) -> tuple[str, str]:
        """A second listener of demo stack `d`'s load balancer forwarding
        to the same blue (HTTP on another port: an HTTPS listener would
        need a certificate, and the route is what the run moves); returns
        (its ARN, its data-plane URL)."""
        arn = self.elb().create_listener(
            LoadBalancerArn=d["load_balancer_arn"], Protocol="HTTP", Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": d["blue_arn"]}],
        )["Listeners"][0]["ListenerArn"]
        return arn, demo.wait_listener_url(self.endpoint, arn)

    def rolling(self, **kw) -> dict:  # noqa: ANN003
        info, fleets = rolling_demo.build(self.endpoint, **kw)
        self._keep = getattr(self, "_keep", []) + fleets
        return info

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()


class Traffic:
    """About `rps` GETs a second to a loopback URL, with `headers`, until
    stopped; counts answers by status."""

    def __init__(self, url: str, rps: float, headers: dict | None = None, workers: int = 4):
        u = urlsplit(url)
        assert u.hostname and u.hostname.startswith("127."), url
        self.host, self.port, self.path = u.hostname, u.port, u.path or "/"
        self.headers, self.gap = headers or {}, workers / rps
        self.stop_at, self.counts, self.lock = None, {}, threading.Lock()
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(workers)]
        for t in self.threads:
            t.start()

    def _loop(self) -> None:
        while self.stop_at is None:
            t0 = time.monotonic()
            try:
                c = http.client.HTTPConnection(self.host, self.port, timeout=5)
                c.request("GET", self.path, headers=self.headers)
                key = c.getresponse().status
                c.close()
            except OSError:
                key = "error"
            with self.lock:
                self.counts[key] = self.counts.get(key, 0) + 1
            time.sleep(max(0.0, self.gap - (time.monotonic() - t0)))

    def stop(self) -> dict:
        self.stop_at = time.monotonic()
        return dict(self.counts)


def forward_weights(elb, listener: str) -> dict:  # noqa: ANN001
    """The listener's default forward, as {group name: weight}."""
    action = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]
    groups = action.get("ForwardConfig", {}).get("TargetGroups") or [
        {"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
    return {g["TargetGroupArn"].split("/")[-2]: g.get("Weight", 1) for g in groups}


def targets(elb, group: str) -> set:  # noqa: ANN001
    """A group's registered targets (draining ones are leaving), as IP:PORT."""
    return {f"{d['Target']['Id']}:{d['Target']['Port']}" for d in
            elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
            if d["TargetHealth"]["State"] not in ("draining",)}


def tags(elb, arn: str) -> dict:  # noqa: ANN001
    desc = elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
    return {t["Key"]: t["Value"] for t in desc}


def created_rules(elb, listener: str) -> list:  # noqa: ANN001
    """The listener's non-default rules."""
    return [r for r in elb.describe_rules(ListenerArn=listener)["Rules"] if not r["IsDefault"]]
