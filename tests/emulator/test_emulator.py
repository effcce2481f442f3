"""Self-test of the ALB emulator (run: tests/emulator/.venv/bin/python -m pytest tests/emulator).

Owns: end-to-end checks against a real emulator subprocess: control API, call
log, fault injection (awsQuery XML + CBOR), CloudWatch RPC v2 CBOR round trips,
data-plane routing (weighted forward, rules, stickiness), target health
(forced, real checks, draining) and metrics published into CloudWatch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter

import boto3
import botocore.config
import cbor2
import pytest
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from testapp import start_app  # noqa: E402

CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"
LAST_RAW = [b""]
AUTH_CW = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20250101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00"


@pytest.fixture(scope="module")
def emu():
    yield from spawn_emulator("--propagation-delay", "0")


def spawn_emulator(*flags: str):
    """Yield the endpoint of a fresh emulator subprocess. The tests of this file
    run with `--propagation-delay 0` because they are about routing itself and
    check it right after each change; test_deploy.py tests the lag."""
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--exit-on-stdin-eof",
                             "--health-interval", "0.5", *flags], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline().strip()
    assert line.startswith("ALB_EMULATOR_ENDPOINT=http://127.0.0.1:"), line
    yield line.split("=", 1)[1]
    proc.stdin.close()  # exercise --exit-on-stdin-eof
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("emulator did not exit on stdin EOF")


@pytest.fixture()
def ep(emu):
    ctl(emu, "POST", "/_emu/reset")
    return emu


def ctl(ep: str, method: str, path: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(ep + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def client(ep: str, name: str, retries: int = 1):
    cfg = botocore.config.Config(retries={"total_max_attempts": retries, "mode": "standard"})
    return boto3.client(name, endpoint_url=ep, region_name="us-east-1", aws_access_key_id="AKIDTEST",
                        aws_secret_access_key="x", config=cfg)


def cbor_call(ep: str, op: str, payload: dict):
    req = urllib.request.Request(ep + CBOR_PATH + op, data=cbor2.dumps(payload), method="POST", headers={
        "Content-Type": "application/cbor", "Accept": "application/cbor", "smithy-protocol": "rpc-v2-cbor",
        "Authorization": AUTH_CW})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.headers["smithy-protocol"] == "rpc-v2-cbor"
            raw = r.read()
            LAST_RAW[0] = raw
            return r.status, cbor2.loads(raw)
    except urllib.error.HTTPError as e:
        assert e.headers["smithy-protocol"] == "rpc-v2-cbor"
        return e.code, cbor2.loads(e.read())


def get(url: str, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def stack(ep: str, n_tgs: int = 2):
    ec2, elb = client(ep, "ec2"), client(ep, "elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name="t-alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    tgs = []
    for i in range(n_tgs):
        # Fast checks a user can set on AWS (5 s, the minimum; 2 passes to recover).
        arn = elb.create_target_group(Name=f"t-tg{i}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
                                      HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                                      HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])
        tgs.append(arn)
    return elb, lb, tgs


def listener_url(ep: str, listener_arn: str) -> str:
    for _ in range(50):
        for lst in ctl(ep, "GET", "/_emu/dataplane")["listeners"]:
            if lst["listener_arn"] == listener_arn:
                return lst["url"]
        time.sleep(0.1)
    raise AssertionError("listener not served")


def wait_state(elb, tg, tid, want, timeout=8.0):
    deadline = time.time() + timeout
    states = []
    while time.time() < deadline:
        states = [d["TargetHealth"]["State"] for d in elb.describe_target_health(TargetGroupArn=tg)
                  ["TargetHealthDescriptions"] if d["Target"]["Id"] == tid]
        if want in states or (want is None and not states):
            return
        time.sleep(0.2)
    raise AssertionError(f"{tid} never reached {want}: {states}")


# ---------------------------------------------------------------- tests

def test_health_calls_and_query_faults(ep):
    assert ctl(ep, "GET", "/_emu/health") == {"ok": True}
    elb = client(ep, "elbv2")
    ctl(ep, "POST", "/_emu/faults", {"service": "elasticloadbalancing", "action": "DescribeLoadBalancers",
                                     "status": 400, "code": "Throttling", "message": "Rate exceeded", "count": 2})
    for _ in range(2):
        with pytest.raises(ClientError) as ei:
            elb.describe_load_balancers()
        assert ei.value.response["Error"]["Code"] == "Throttling"
        assert ei.value.response["Error"]["Message"] == "Rate exceeded"
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    calls = ctl(ep, "GET", "/_emu/calls")["calls"]
    assert [(c["service"], c["action"], c["status"]) for c in calls] == [
        ("elasticloadbalancing", "DescribeLoadBalancers", 400)] * 2 + [
        ("elasticloadbalancing", "DescribeLoadBalancers", 200)]
    assert [c["seq"] for c in calls] == [1, 2, 3]
    assert ctl(ep, "GET", "/_emu/faults")["faults"] == []
    ctl(ep, "POST", "/_emu/faults", {"service": "*", "action": "*", "latency_ms": 300})
    t0 = time.time()
    elb.describe_target_groups()
    assert time.time() - t0 >= 0.3
    ctl(ep, "DELETE", "/_emu/faults")
    ctl(ep, "DELETE", "/_emu/calls")
    assert ctl(ep, "GET", "/_emu/calls")["calls"] == []


def test_cbor_cloudwatch_round_trip(ep):
    base = float(int(time.time()) // 60 * 60 - 120)
    data = [{"MetricName": "RequestCount", "Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/a/1"}],
             "Timestamp": cbor2.CBORTag(1, base + s), "Value": float(v), "Unit": "Count"}
            for s, v in ((0, 1), (1, 2), (1, 3), (30, 4), (61, 10))]
    status, out = cbor_call(ep, "PutMetricData", {"Namespace": "AWS/ApplicationELB", "MetricData": data})
    assert status == 200 and out == {}
    metric = {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
              "Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/a/1"}]}
    queries = [{"Id": f"q{i}", "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}, "ReturnData": True}
               for i, (period, stat) in enumerate([(60, "Sum"), (60, "Average"), (60, "SampleCount"), (60, "Maximum"),
                                                   (60, "Minimum"), (1, "Sum"), (60, "p50")])]
    status, out = cbor_call(ep, "GetMetricData", {
        "MetricDataQueries": queries, "StartTime": cbor2.CBORTag(1, base - 60), "EndTime": cbor2.CBORTag(1, base + 120),
        "ScanBy": "TimestampAscending"})
    assert status == 200, out
    res = {r["Id"]: r for r in out["MetricDataResults"]}
    assert res["q0"]["Values"] == [10.0, 10.0] and res["q0"]["StatusCode"] == "Complete"
    ts = res["q0"]["Timestamps"][0]
    assert isinstance(ts, cbor2.CBORTag) or hasattr(ts, "timestamp")
    assert res["q1"]["Values"] == [2.5, 10.0]
    assert res["q2"]["Values"] == [4.0, 1.0]
    assert res["q3"]["Values"] == [4.0, 10.0]
    assert res["q4"]["Values"] == [1.0, 10.0]
    assert res["q5"]["Values"] == [1.0, 5.0, 4.0, 10.0]
    assert res["q6"]["Values"] == [2.0, 10.0]
    assert all(isinstance(v, float) for r in res.values() for v in r["Values"])
    assert b"\xc1\xfb" in LAST_RAW[0]  # tag 1 + float64 timestamp encoding
    status, err = cbor_call(ep, "GetMetricData", {"MetricDataQueries": [
        {"Id": "x", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "tm99"}}],
        "StartTime": cbor2.CBORTag(1, base), "EndTime": cbor2.CBORTag(1, base + 60)})
    assert status == 400 and err["__type"].endswith("#InvalidParameterValue")
    status, out = cbor_call(ep, "ListMetrics", {"Namespace": "AWS/ApplicationELB"})
    assert status == 200 and out["Metrics"][0]["MetricName"] == "RequestCount"
    status, out = cbor_call(ep, "GetMetricStatistics", {**metric, "Period": 60, "Statistics": ["Sum"],
                                                        "StartTime": cbor2.CBORTag(1, base - 60),
                                                        "EndTime": cbor2.CBORTag(1, base + 120)})
    assert status == 200 and [d["Sum"] for d in out["Datapoints"]] == [10.0, 10.0]
    ctl(ep, "POST", "/_emu/faults", {"service": "cloudwatch", "action": "GetMetricData", "status": 400,
                                     "code": "Throttling", "message": "Rate exceeded", "count": 1})
    status, err = cbor_call(ep, "GetMetricData", {"MetricDataQueries": queries[:1], "StartTime": cbor2.CBORTag(1, base),
                                                  "EndTime": cbor2.CBORTag(1, base + 60)})
    assert status == 400 and err["__type"].endswith("#Throttling") and err["message"] == "Rate exceeded"
    calls = ctl(ep, "GET", "/_emu/calls")["calls"]
    assert calls[-1]["service"] == "monitoring" and calls[-1]["action"] == "GetMetricData" and calls[-1]["status"] == 400
    # boto3 (awsJson path handled by moto) sees the same data via the patched backend
    cw = client(ep, "cloudwatch")
    r = cw.get_metric_data(MetricDataQueries=queries[:1], StartTime=base - 60, EndTime=base + 120,
                           ScanBy="TimestampAscending")
    assert r["MetricDataResults"][0]["Values"] == [10.0, 10.0]


def test_weighted_forward_split_and_metrics(ep):
    blue, green = start_app("127.0.0.2", 0, "v1"), start_app("127.0.0.3", 0, "v2")
    try:
        elb, lb, (tg_b, tg_g) = stack(ep)
        elb.register_targets(TargetGroupArn=tg_b, Targets=[{"Id": "127.0.0.2", "Port": blue.port}])
        elb.register_targets(TargetGroupArn=tg_g, Targets=[{"Id": "127.0.0.3", "Port": green.port}])
        lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tg_b, "Weight": 80},
                                                                    {"TargetGroupArn": tg_g, "Weight": 20}]}}]
        )["Listeners"][0]["ListenerArn"]
        url = listener_url(ep, lst)
        wait_state(elb, tg_g, "127.0.0.3", "healthy")
        start = time.time() - 5
        versions = Counter(get(url + "/x")[1].get("X-App-Version") for _ in range(500))
        assert versions["v1"] + versions["v2"] == 500
        assert 60 <= versions["v2"] <= 145, versions  # 20% of 500 = 100
        ctl(ep, "POST", "/_emu/metrics/flush")
        dims = lambda tg: [{"Name": "TargetGroup", "Value": tg.split(":")[-1]},  # noqa: E731
                           {"Name": "LoadBalancer", "Value": lb.split(":loadbalancer/")[1]}]
        q = [{"Id": f"r{i}", "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
                                                       "Dimensions": dims(tg)}, "Period": 300, "Stat": "Sum"}}
             for i, tg in enumerate((tg_b, tg_g))]
        q.append({"Id": "e", "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB",
                                                       "MetricName": "HTTPCode_Target_5XX_Count",
                                                       "Dimensions": dims(tg_g)}, "Period": 60, "Stat": "Sum"}})
        status, out = cbor_call(ep, "GetMetricData", {"MetricDataQueries": q, "StartTime": cbor2.CBORTag(1, start - 600),
                                                      "EndTime": cbor2.CBORTag(1, time.time() + 60)})
        assert status == 200
        res = {r["Id"]: sum(r["Values"]) for r in out["MetricDataResults"]}
        assert res == {"r0": versions["v1"], "r1": versions["v2"], "e": 0}
    finally:
        blue.stop()
        green.stop()


def test_rules_redirect_and_stickiness(ep):
    blue, green = start_app("127.0.0.2", 0, "v1"), start_app("127.0.0.3", 0, "v2")
    try:
        elb, lb, (tg_b, tg_g) = stack(ep)
        elb.register_targets(TargetGroupArn=tg_b, Targets=[{"Id": "127.0.0.2", "Port": blue.port}])
        elb.register_targets(TargetGroupArn=tg_g, Targets=[{"Id": "127.0.0.3", "Port": green.port}])
        lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": tg_b}])["Listeners"][0]["ListenerArn"]
        fwd_g = [{"Type": "forward", "TargetGroupArn": tg_g}]
        elb.create_rule(ListenerArn=lst, Priority=10, Actions=fwd_g, Conditions=[
            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "cookie", "Values": ["*canary=1*"]}}])
        elb.create_rule(ListenerArn=lst, Priority=5, Conditions=[{"Field": "path-pattern", "Values": ["/static/*"]}],
                        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                            "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "teapot"}}])
        elb.create_rule(ListenerArn=lst, Priority=20, Actions=fwd_g, Conditions=[
            {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "gr?en"}]}}])
        elb.create_rule(ListenerArn=lst, Priority=30, Actions=fwd_g, Conditions=[
            {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.1.0.0/16"]}},
            {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}}])
        elb.create_rule(ListenerArn=lst, Priority=40, Conditions=[{"Field": "path-pattern", "Values": ["/old"]}],
                        Actions=[{"Type": "redirect", "RedirectConfig": {"Path": "/new", "StatusCode": "HTTP_302"}}])
        url = listener_url(ep, lst)
        wait_state(elb, tg_g, "127.0.0.3", "healthy")
        ver = lambda path, h=None: get(url + path, h)[1].get("X-App-Version")  # noqa: E731
        assert ver("/") == "v1"
        assert ver("/", {"Cookie": "a=b; canary=1"}) == "v2"
        assert get(url + "/static/x.css")[0:3:2] == (418, b"teapot")
        assert ver("/?v=GREEN") == "v2" and ver("/?v=blue") == "v1"
        assert ver("/", {"X-Emu-Source-Ip": "10.1.2.3"}) == "v2"
        conn_status = urllib.request.build_opener(NoRedirect()).open
        try:
            conn_status(url + "/old?a=1")
            raise AssertionError("expected redirect")
        except urllib.error.HTTPError as e:
            assert e.code == 302 and e.headers["Location"].endswith("/new?a=1")
        # weighted + stickiness: the AWSALBTG cookie pins the TG
        elb.modify_listener(ListenerArn=lst, DefaultActions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tg_b, "Weight": 50}, {"TargetGroupArn": tg_g, "Weight": 50}],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 60}}}])
        tgs = elb.describe_target_groups(TargetGroupArns=[tg_b, tg_g])["TargetGroups"]
        assert [t["LoadBalancerArns"] for t in tgs] == [[lb], [lb]]  # kept current after ModifyListener
        status, headers, _ = get(url + "/")
        cookie = headers["Set-Cookie"].split(";")[0]
        assert cookie.startswith("AWSALBTG=targetgroup/")
        first = headers["X-App-Version"]
        assert {ver("/", {"Cookie": cookie}) for _ in range(20)} == {first}
    finally:
        blue.stop()
        green.stop()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_target_health_forced_checks_and_draining(ep):
    good, bad = start_app("127.0.0.2", 0, "v1"), start_app("127.0.0.3", 0, "v2", healthy=False)
    try:
        elb, lb, (tg_a, tg_b) = stack(ep)
        # tg_a at weight 0: in use, so health-checked (AWS checks only groups
        # a listener or rule forwards to), and never chosen
        lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": tg_b, "Weight": 1}, {"TargetGroupArn": tg_a, "Weight": 0}]}}]
        )["Listeners"][0]["ListenerArn"]
        url = listener_url(ep, lst)
        elb.register_targets(TargetGroupArn=tg_b, Targets=[{"Id": "127.0.0.3", "Port": bad.port}])
        wait_state(elb, tg_b, "127.0.0.3", "unhealthy")
        assert get(url + "/")[0] == 503  # no routable target
        # a loopback target that never answers: initial, then unhealthy after
        # UnhealthyThresholdCount (2) failed checks 5 s apart, as on AWS
        elb.register_targets(TargetGroupArn=tg_a, Targets=[{"Id": "127.0.0.9", "Port": 9}])
        wait_state(elb, tg_a, "127.0.0.9", "initial", timeout=1)
        wait_state(elb, tg_a, "127.0.0.9", "unhealthy", timeout=8)
        elb.deregister_targets(TargetGroupArn=tg_a, Targets=[{"Id": "127.0.0.9", "Port": 9}])
        # forced sequence
        elb.register_targets(TargetGroupArn=tg_a, Targets=[{"Id": "127.0.0.2", "Port": good.port}])
        ctl(ep, "POST", "/_emu/target-health", {"target_group_arn": tg_a, "target_id": "127.0.0.2",
                                                "states": ["initial", "healthy"], "seconds": [1]})
        wait_state(elb, tg_a, "127.0.0.2", "initial", timeout=0.5)
        wait_state(elb, tg_a, "127.0.0.2", "healthy", timeout=3)
        ctl(ep, "POST", "/_emu/target-health", {"target_group_arn": tg_a, "target_id": "127.0.0.2",
                                                "state": "unhealthy", "reason": "Target.Timeout"})
        d = elb.describe_target_health(TargetGroupArn=tg_a, Targets=[{"Id": "127.0.0.2", "Port": good.port}])
        th = d["TargetHealthDescriptions"][0]["TargetHealth"]
        assert th["State"] == "unhealthy" and th["Reason"] == "Target.Timeout"
        ctl(ep, "DELETE", "/_emu/target-health")
        wait_state(elb, tg_a, "127.0.0.2", "healthy")
        # draining: shown for the deregistration delay (2s), gets no traffic, then disappears
        elb.modify_listener(ListenerArn=lst, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_a}])
        assert get(url + "/")[1].get("X-App-Version") == "v1"
        elb.deregister_targets(TargetGroupArn=tg_a, Targets=[{"Id": "127.0.0.2", "Port": good.port}])
        d = elb.describe_target_health(TargetGroupArn=tg_a)["TargetHealthDescriptions"]
        assert [(x["Target"]["Id"], x["TargetHealth"]["State"], x["TargetHealth"]["Reason"]) for x in d
                if x["Target"]["Id"] == "127.0.0.2"] == [("127.0.0.2", "draining", "Target.DeregistrationInProgress")]
        assert get(url + "/")[0] == 503
        wait_state(elb, tg_a, "127.0.0.2", None, timeout=4)
    finally:
        good.stop()
        bad.stop()


def test_reset_clears_everything(ep):
    elb, lb, tgs = stack(ep, 1)
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tgs[0]}])
    ctl(ep, "POST", "/_emu/faults", {"service": "ec2", "action": "*", "status": 500, "code": "InternalError",
                                     "message": "boom", "probability": 1.0})
    with pytest.raises(ClientError) as ei:
        client(ep, "ec2").describe_vpcs()
    assert ei.value.response["Error"]["Code"] == "InternalError"
    assert len(ctl(ep, "GET", "/_emu/dataplane")["listeners"]) == 1
    ctl(ep, "POST", "/_emu/reset")
    assert ctl(ep, "GET", "/_emu/calls")["calls"] == []
    assert ctl(ep, "GET", "/_emu/faults")["faults"] == []
    assert ctl(ep, "GET", "/_emu/dataplane")["listeners"] == []
    assert client(ep, "elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert client(ep, "sts").get_caller_identity()["Account"] == "123456789012"
