"""Self-test of the metrics modes (run: tests/emulator/.venv/bin/python -m pytest tests/emulator).

Owns: proof of each AWS-faithfulness rule of metrics.py and cw.py. In-process
tests drive a MetricsPublisher with a fake clock against moto's real
CloudWatch backend, so minutes pass instantly; end-to-end tests run the
server and step time with `POST /_emu/metrics/flush {"now": ...}` under a
delay long enough that the real publisher never races them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import cbor2
import pytest
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cw  # noqa: E402
from common import cloudwatch_backend  # noqa: E402
from metrics import MetricsPublisher  # noqa: E402
from test_emulator import cbor_call, client, ctl, get, listener_url, stack, wait_state  # noqa: E402
from testapp import start_app  # noqa: E402

M = 1_800_000_000  # a minute start (divisible by 60)
NS = "AWS/ApplicationELB"
_accounts = iter(range(210000000000, 210000001000))


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Rig:
    """A publisher on a fake clock, writing into a fresh moto account."""

    def __init__(self, mode: str = "aws", delay: float = 2.0) -> None:
        acct = str(next(_accounts))
        self.lb = f"arn:aws:elasticloadbalancing:us-east-1:{acct}:loadbalancer/app/t-alb/50dc6c495c0c9188"
        self.tgs = [f"arn:aws:elasticloadbalancing:us-east-1:{acct}:targetgroup/t-tg{i}/73e2d6bc24d8a06{i}"
                    for i in range(2)]
        self.backend = cloudwatch_backend(acct, "us-east-1")
        self.clock = Clock(M)
        self.pub = MetricsPublisher(self.clock, mode, delay)

    def at(self, t: float) -> "Rig":
        self.clock.t = t
        return self

    def dims(self, tg: int | None = None) -> list[dict[str, str]]:
        d = [{"Name": "LoadBalancer", "Value": self.lb.split(":loadbalancer/")[1]}]
        if tg is not None:
            d = [{"Name": "TargetGroup", "Value": self.tgs[tg].split(":")[-1]}] + d
        return d

    def series(self, name: str, stat: str = "Sum", tg: int | None = 0, period: int = 60,
               start: float = M - 120, end: float = M + 600, strict: bool = True) -> list[tuple[int, float]]:
        q = [{"Id": "q", "MetricStat": {"Metric": {"Namespace": NS, "MetricName": name, "Dimensions": self.dims(tg)},
                                        "Period": period, "Stat": stat}}]
        r = cw.query_metric_data(self.backend, q, start, end, "TimestampAscending", strict=strict)[0]
        return [(int(cw.to_epoch(t)), v) for t, v in zip(r["timestamps"], r["values"])]

    def listed(self) -> set[tuple[str, tuple]]:
        _, metrics = self.backend.list_metrics(None, NS, None, [])
        return {(m.name, tuple(sorted((d.name, d.value) for d in m.dimensions))) for m in metrics}


# ---------------------------------------------------------------- aws mode, in process

def test_a_bucket_is_invisible_before_its_end_plus_delay_and_whole_after():
    r = Rig(delay=2.0)
    for status in (200, 200, 500):
        r.at(M + 10).pub.record_target(r.lb, r.tgs[0], status, 0.010)
    r.at(M + 59).pub.record_target(r.lb, r.tgs[0], 200, 0.050)
    r.at(M + 61).pub.record_target(r.lb, r.tgs[0], 200, 0.020)  # the next minute
    assert r.pub.next_due() == M + 62
    assert r.pub.flush(now=M + 61.99) == 0
    assert r.series("RequestCount") == [] and r.listed() == set()
    stats = cw.query_statistics(r.backend, {"Namespace": NS, "MetricName": "RequestCount", "Dimensions": r.dims(0),
                                            "Period": 60, "Statistics": ["Sum"], "StartTime": M - 60,
                                            "EndTime": M + 600}, strict=True)
    assert stats["Datapoints"] == []
    assert r.pub.flush(now=M + 62) > 0
    # The whole minute at once, stamped at its start; the next minute stays hidden.
    assert r.series("RequestCount") == [(M, 4.0)]
    assert r.series("HTTPCode_Target_5XX_Count") == [(M, 1.0)]
    assert r.series("HTTPCode_Target_2XX_Count") == [(M, 3.0)]
    assert r.series("RequestCount", tg=None) == [(M, 4.0)]
    assert r.series("TargetResponseTime", "SampleCount") == [(M, 4.0)]
    assert r.series("TargetResponseTime", "Maximum") == [(M, 0.050)]
    assert r.series("TargetResponseTime", "p50") == [(M, 0.010)]
    assert ("RequestCount", (("LoadBalancer", r.dims()[0]["Value"]),)) in r.listed()
    assert r.pub.flush(now=M + 121.99) == 0 and r.series("RequestCount")[-1][0] == M
    r.pub.flush(now=M + 122)
    assert r.series("RequestCount") == [(M, 4.0), (M + 60, 1.0)]


def test_zero_counts_and_idle_target_groups_have_no_datapoints():
    r = Rig()
    r.at(M + 5).pub.record_target(r.lb, r.tgs[0], 200, 0.01)
    r.at(M + 6).pub.record_target(r.lb, r.tgs[1], 200, 0.01)
    r.at(M + 65).pub.record_target(r.lb, r.tgs[0], 200, 0.01)  # tg1 idle this minute
    r.at(M + 70).pub.record_lb(r.lb, 503)  # answered by the ALB: no target group involved
    r.at(M + 71).pub.record_lb(r.lb, 404)
    r.pub.flush(now=M + 200)
    assert r.series("RequestCount", tg=0) == [(M, 1.0), (M + 60, 1.0)]
    assert r.series("RequestCount", tg=1) == [(M, 1.0)], "an idle minute has no RequestCount"
    assert r.series("HTTPCode_Target_5XX_Count") == [], "no 5xx is no datapoint, not a 0"
    assert r.series("RequestCount", tg=None) == [(M, 2.0), (M + 60, 3.0)]
    assert r.series("HTTPCode_ELB_5XX_Count", tg=None) == [(M + 60, 1.0)]
    assert r.series("HTTPCode_ELB_4XX_Count", tg=None) == [(M + 60, 1.0)]
    assert not [d for d in r.backend.metric_data if d.name.startswith("HTTPCode") and d.value == 0]
    assert not {n for n, _ in r.listed()} & {"HTTPCode_Target_5XX_Count", "HTTPCode_Target_4XX_Count"}


def test_a_refused_target_connection_is_published_as_alb_does():
    r = Rig()
    r.at(M + 5).pub.record_target(r.lb, r.tgs[0], 200, 0.01)
    r.at(M + 6).pub.record_connection_error(r.lb, r.tgs[0])
    r.at(M + 7).pub.record_connection_error(r.lb, r.tgs[0])
    r.at(M + 8).pub.record_target(r.lb, r.tgs[1], 200, 0.01)
    r.pub.flush(now=M + 200)
    # A target was chosen, so the request counts for its group too.
    assert r.series("RequestCount", tg=0) == [(M, 3.0)]
    assert r.series("TargetConnectionErrorCount", tg=0) == [(M, 2.0)]
    assert r.series("TargetConnectionErrorCount", tg=1) == [], "zero is no datapoint"
    assert r.series("TargetConnectionErrorCount", tg=None) == [(M, 2.0)]
    # The 502 is the load balancer's own answer: LoadBalancer dimension only.
    assert r.series("HTTPCode_ELB_502_Count", tg=None) == [(M, 2.0)]
    assert r.series("HTTPCode_ELB_5XX_Count", tg=None) == [(M, 2.0)]
    assert r.series("HTTPCode_ELB_502_Count", tg=0) == []
    assert r.series("HTTPCode_Target_5XX_Count", tg=0) == []
    assert r.series("TargetResponseTime", "SampleCount", tg=0) == [(M, 1.0)]
    assert r.series("RequestCount", tg=None) == [(M, 4.0)]


def test_period_rules_are_those_of_cloudwatch():
    r = Rig()
    for t in (M + 1, M + 61):
        r.at(t).pub.record_target(r.lb, r.tgs[0], 200, 0.01)
    r.pub.flush(now=M + 200)
    for bad, wording in ((6, "[ 1, 5, 10, 20, 30 ]"), (45, "[ 1, 5, 10, 20, 30 ]"), (90, "multiple of 60"),
                         (61, "multiple of 60")):
        with pytest.raises(cw.CwError) as ei:
            r.series("RequestCount", period=bad)
        assert ei.value.code == "ValidationError"
        assert ei.value.message.startswith("The parameter MetricDataQueries.member.1.MetricStat.Period must be")
        assert wording in ei.value.message
        with pytest.raises(cw.CwError) as ei:
            cw.query_statistics(r.backend, {"Namespace": NS, "MetricName": "RequestCount", "Dimensions": r.dims(0),
                                            "Period": bad, "Statistics": ["Sum"], "StartTime": M,
                                            "EndTime": M + 120}, strict=True)
        assert ei.value.code == "InvalidParameterValue"
    for ok in (1, 5, 10, 20, 30, 60, 120, 300):
        assert sum(v for _, v in r.series("RequestCount", period=ok)) == 2.0, ok
    # A sub-minute Period on 60 s data: only the bucket holding the minute start has data.
    assert r.series("RequestCount", period=10, start=M, end=M + 120) == [(M, 1.0), (M + 60, 1.0)]
    # StartTime is rounded down to the minute (or to the Period's division of it).
    assert r.series("RequestCount", period=60, start=M + 37, end=M + 120) == [(M, 1.0), (M + 60, 1.0)]
    assert r.series("RequestCount", period=10, start=M + 37, end=M + 120) == [(M + 60, 1.0)]
    assert r.series("RequestCount", period=300, start=M + 37, end=M + 400) == [(M, 2.0)]
    # fast-mode rules (strict=False): any Period, epoch-aligned buckets.
    assert r.series("RequestCount", period=6, strict=False) == [(M, 1.0), (M + 60, 1.0)]


# ---------------------------------------------------------------- fast mode and switching, in process

def test_fast_mode_publishes_each_completed_second():
    r = Rig(mode="fast")
    r.at(M + 3.2).pub.record_target(r.lb, r.tgs[0], 500, 0.01)
    r.at(M + 3.9).pub.record_target(r.lb, r.tgs[0], 200, 0.01)
    r.at(M + 4.1).pub.record_target(r.lb, r.tgs[0], 200, 0.01)
    assert r.pub.flush(now=M + 3.99) == 0, "the current second is not complete"
    r.pub.flush(now=M + 4.5)
    assert r.series("RequestCount", period=1, strict=False) == [(M + 3, 2.0)]
    assert r.series("HTTPCode_Target_5XX_Count", period=1, strict=False) == [(M + 3, 1.0)]
    r.pub.flush(now=M + 5)
    assert r.series("RequestCount", period=1, strict=False) == [(M + 3, 2.0), (M + 4, 1.0)]
    assert r.pub.flush(all_=True) == 0


def test_switching_mode_applies_to_pending_data_and_reset_restores_startup():
    r = Rig(mode="aws", delay=90)
    r.at(M + 10).pub.record_target(r.lb, r.tgs[0], 200, 0.01)
    assert r.pub.flush(now=M + 20) == 0
    assert r.pub.config()["pending"] == [{"load_balancer": "app/t-alb/50dc6c495c0c9188", "target_group": None,
                                          "bucket": M, "visible_at": M + 150, "requests": 1},
                                         {"load_balancer": "app/t-alb/50dc6c495c0c9188",
                                          "target_group": "targetgroup/t-tg0/73e2d6bc24d8a060",
                                          "bucket": M, "visible_at": M + 150, "requests": 1}]
    r.pub.configure(mode="fast")
    assert r.pub.flush(now=M + 20) > 0
    assert r.series("RequestCount", period=1, strict=False) == [(M + 10, 1.0)]
    r.pub.configure(delay=5)
    r.pub.reset()
    assert (r.pub.mode, r.pub.delay) == ("aws", 90)
    with pytest.raises(ValueError):
        r.pub.configure(mode="slow")
    with pytest.raises(ValueError):
        r.pub.configure(delay=-1)


def test_the_background_loop_publishes_at_end_plus_delay_not_before():
    r = Rig(delay=2.0)
    r.at(M + 30).pub.record_target(r.lb, r.tgs[0], 200, 0.01)
    r.pub.start()
    try:
        for t in (M + 45, M + 61, M + 61.9):
            r.at(t).pub._wake.set()
            time.sleep(0.15)
            assert r.series("RequestCount") == [], t
        r.at(M + 62).pub._wake.set()
        deadline = time.time() + 3
        while not r.series("RequestCount") and time.time() < deadline:
            time.sleep(0.05)
        assert r.series("RequestCount") == [(M, 1.0)]
    finally:
        r.pub.reset()  # nothing pending: the daemon thread idles until the run ends


# ---------------------------------------------------------------- end to end

def _serve(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0",
                             "--exit-on-stdin-eof", "--health-interval", "0.5", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, **(env or {})})
    line = proc.stdout.readline().strip()
    assert line.startswith("ALB_EMULATOR_ENDPOINT="), line
    return proc, line.split("=", 1)[1]


def _stop(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_server_aws_mode_hooks_periods_and_fast_switch():
    proc, ep = _serve(["--metrics-delay", "2"])
    app = start_app("127.0.0.2", 0, "v1")
    try:
        assert ctl(ep, "GET", "/_emu/metrics")["mode"] == "aws"
        # A long delay, so the real publisher cannot race the stepped clock below.
        assert ctl(ep, "POST", "/_emu/metrics", {"delay": 40})["delay"] == 40
        elb, lb, (tg,) = stack(ep, 1)
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.2", "Port": app.port}])
        lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
        url = listener_url(ep, lst)
        wait_state(elb, tg, "127.0.0.2", "healthy")
        # The data plane routes to the new target only once its registration has
        # propagated (--propagation-delay, 3 s by default, as on AWS).
        time.sleep(max(0.0, ctl(ep, "GET", "/_emu/propagation")["settled_at"] - time.time()) + 0.05)
        assert all(get(url + "/")[0] == 200 for _ in range(10))
        pending = [p for p in ctl(ep, "GET", "/_emu/metrics")["pending"] if p["target_group"]]
        assert len(pending) in (1, 2) and sum(p["requests"] for p in pending) == 10, pending
        first = min(p["bucket"] for p in pending)
        assert first % 60 == 0 and min(p["visible_at"] for p in pending) == first + 100
        dims = [{"Name": "TargetGroup", "Value": tg.split(":")[-1]},
                {"Name": "LoadBalancer", "Value": lb.split(":loadbalancer/")[1]}]
        metric = {"Namespace": NS, "MetricName": "RequestCount", "Dimensions": dims}

        def values(period=60):
            status, out = cbor_call(ep, "GetMetricData", {"MetricDataQueries": [
                {"Id": "r", "MetricStat": {"Metric": metric, "Period": period, "Stat": "Sum"}}],
                "StartTime": cbor2.CBORTag(1, first - 300.0), "EndTime": cbor2.CBORTag(1, time.time() + 120),
                "ScanBy": "TimestampAscending"})
            assert status == 200, out
            return out["MetricDataResults"][0]["Values"]

        assert values() == []
        assert cbor_call(ep, "ListMetrics", {"Namespace": NS})[1]["Metrics"] == []
        assert ctl(ep, "POST", "/_emu/metrics/flush", {"now": first + 99.5})["published"] == 0
        assert values() == []
        ctl(ep, "POST", "/_emu/metrics/flush", {"now": first + 160})
        assert sum(values()) == 10.0
        status, err = cbor_call(ep, "GetMetricData", {"MetricDataQueries": [
            {"Id": "r", "MetricStat": {"Metric": metric, "Period": 6, "Stat": "Sum"}}],
            "StartTime": cbor2.CBORTag(1, first - 300.0), "EndTime": cbor2.CBORTag(1, time.time())})
        assert status == 400 and err["__type"].endswith("#ValidationError"), err
        assert "must be a value in the set [ 1, 5, 10, 20, 30 ]" in err["message"]
        with pytest.raises(ClientError) as ei:  # the awsJson path (boto3) answers the same
            client(ep, "cloudwatch").get_metric_data(MetricDataQueries=[
                {"Id": "r", "MetricStat": {"Metric": metric, "Period": 45, "Stat": "Sum"}}],
                StartTime=first - 300, EndTime=time.time())
        assert ei.value.response["Error"]["Code"] == "ValidationError"
        # fast mode at runtime: per-second data shows up without any flush
        assert ctl(ep, "POST", "/_emu/metrics", {"mode": "fast"})["mode"] == "fast"
        assert all(get(url + "/")[0] == 200 for _ in range(5))
        deadline = time.time() + 5
        while sum(values(period=6)) < 15.0 and time.time() < deadline:
            time.sleep(0.2)
        assert sum(values(period=6)) == 15.0
        status, err = cbor_call(ep, "GetMetricStatistics", {**metric, "Period": 7, "Statistics": ["Sum"],
                                                            "StartTime": cbor2.CBORTag(1, first - 300.0),
                                                            "EndTime": cbor2.CBORTag(1, time.time())})
        assert status == 200, "fast mode keeps accepting any period"
        for bad in ({"mode": "slow"}, {"delay": "soon"}, {"delay": -5}):
            with pytest.raises(Exception) as ei:
                ctl(ep, "POST", "/_emu/metrics", bad)
            assert getattr(ei.value, "code", None) == 400, bad
        ctl(ep, "POST", "/_emu/reset")
        assert {k: v for k, v in ctl(ep, "GET", "/_emu/metrics").items() if k in ("mode", "delay")} == {
            "mode": "aws", "delay": 2.0}, "reset returns to the startup config"
    finally:
        app.stop()
        _stop(proc)


def test_mode_and_delay_from_env_flags_win_and_bad_values_are_refused():
    proc, ep = _serve([], {"ALB_EMU_METRICS_MODE": "fast", "ALB_EMU_METRICS_DELAY": "5"})
    try:
        cfg = ctl(ep, "GET", "/_emu/metrics")
        assert (cfg["mode"], cfg["delay"]) == ("fast", 5.0)
    finally:
        _stop(proc)
    proc, ep = _serve(["--metrics-mode", "aws"], {"ALB_EMU_METRICS_MODE": "fast"})
    try:
        cfg = ctl(ep, "GET", "/_emu/metrics")
        assert (cfg["mode"], cfg["delay"]) == ("aws", 90.0)
    finally:
        _stop(proc)
    bad = subprocess.run([sys.executable, os.path.join(HERE, "server.py"), "--metrics-mode", "slow"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "metrics mode must be one of aws, fast" in bad.stderr
