"""Self-test of ALB access logs (access_logs.py, access_log_format.py, s3_logs.py).

Owns: enabling as AWS refuses and accepts it (ModifyLoadBalancerAttributes
errors, bucket policy, ELBAccessLogTestFile), entries parsed by the field
list of the ALB user guide ("Access log entries") with their values for
forward / rule / fixed-response / redirect / 503 / 502, delivery (key layout,
gzip, flush, interval, raw lines), nothing written when logs are off, and S3
over raw SigV4 path-style requests.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.exceptions import ClientError

from test_emulator import client, ctl, get, listener_url, spawn_emulator, stack, wait_state
from testapp import start_app

# The ALB user guide's field list, in order (written out here, not imported, so
# the test checks the emulator against the docs).
DOC_FIELDS = ("type time elb client:port target:port request_processing_time target_processing_time "
              "response_processing_time elb_status_code target_status_code received_bytes sent_bytes request "
              "user_agent ssl_cipher ssl_protocol target_group_arn trace_id domain_name chosen_cert_arn "
              "matched_rule_priority request_creation_time actions_executed redirect_url error_reason "
              "target:port_list target_status_code_list classification classification_reason conn_trace_id "
              "transformed_host transformed_uri request_transform_status").split()
QUOTED = {"request", "user_agent", "trace_id", "domain_name", "chosen_cert_arn", "actions_executed",
          "redirect_url", "error_reason", "target:port_list", "target_status_code_list", "classification",
          "classification_reason", "transformed_host", "transformed_uri", "request_transform_status"}
ELB_US_EAST_1 = "127311923021"
KEY_RE = re.compile(r"^(?P<prefix>.+/)?AWSLogs/(?P<acct>\d{12})/elasticloadbalancing/(?P<region>[a-z0-9-]+)/"
                    r"(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/(?P=acct)_elasticloadbalancing_(?P=region)_"
                    r"app\.(?P<lb>[^.]+)\.(?P<id>[0-9a-f]+)_(?P<end>\d{8}T\d{4}Z)_(?P<ip>[0-9.]+)_[a-z0-9]+\.log\.gz$")


def parse(line: str) -> dict[str, str]:
    """Split on spaces, a double-quoted field being one token (quotes removed)."""
    tokens, quoted = re.findall(r'"([^"]*)"|(\S+)', line), []
    values = []
    for q, bare in tokens:
        values.append(q if q or not bare else bare)
        quoted.append(not bare)
    assert len(values) == len(DOC_FIELDS), (len(values), line)
    for name, was_quoted in zip(DOC_FIELDS, quoted):
        assert was_quoted == (name in QUOTED), (name, line)
    return dict(zip(DOC_FIELDS, values))


@pytest.fixture(scope="module")
def emu():
    yield from spawn_emulator("--propagation-delay", "0")


@pytest.fixture()
def env(emu):
    ctl(emu, "POST", "/_emu/reset")
    elb, lb, tgs = stack(emu, 2)
    return emu, elb, lb, tgs


def policy(bucket: str, resource: str, principal=None, effect="Allow") -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": effect, "Principal": principal or {"AWS": f"arn:aws:iam::{ELB_US_EAST_1}:root"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/{resource}"}]})


def enable(elb, lb: str, bucket: str, prefix: str | None = None, on: str = "true"):
    attrs = [{"Key": "access_logs.s3.enabled", "Value": on}, {"Key": "access_logs.s3.bucket", "Value": bucket}]
    if prefix is not None:
        attrs.append({"Key": "access_logs.s3.prefix", "Value": prefix})
    return elb.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=attrs)


def refused(elb, lb, bucket, prefix=None) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        enable(elb, lb, bucket, prefix)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def keys(s3, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def lines_of(s3, bucket: str, key: str) -> list[str]:
    raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert raw[:2] == b"\x1f\x8b", "gzip"
    return gzip.decompress(raw).decode().splitlines()


def status_of(url: str) -> int:
    """One GET, redirects not followed."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("GET", u.path or "/")
        return conn.getresponse().status
    finally:
        conn.close()


def serve(ep, elb, lb, tg, app_or_port):
    port = app_or_port if isinstance(app_or_port, int) else app_or_port.port
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.2", "Port": port}])
    lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]
    return lst["ListenerArn"], listener_url(ep, lst["ListenerArn"])


# ---------------------------------------------------------------- enabling

def test_enabling_is_refused_as_aws_refuses_it(env):
    ep, elb, lb, _tgs = env
    s3 = client(ep, "s3")
    assert refused(elb, lb, "") == ("ValidationError", "The value of 'access_logs.s3.bucket' cannot be empty")
    assert refused(elb, lb, "nope")[0] == "InvalidConfigurationRequest"
    s3.create_bucket(Bucket="logs")
    denied = ("InvalidConfigurationRequest", "Access Denied for bucket: logs. Please check S3bucket permission")
    assert refused(elb, lb, "logs") == denied  # no policy
    s3.put_bucket_policy(Bucket="logs", Policy=policy("logs", "other/AWSLogs/123456789012/*"))
    assert refused(elb, lb, "logs", "alb") == denied  # the policy names another prefix
    s3.put_bucket_policy(Bucket="logs", Policy=policy("logs", "alb/*", principal={"AWS": "arn:aws:iam::111111111111:root"}))
    assert refused(elb, lb, "logs", "alb") == denied  # not the region's ELB account
    for bad in ("/alb", "alb/"):
        assert refused(elb, lb, "logs", bad) == (
            "ValidationError", "The value of 'access_logs.s3.prefix' cannot start or end with '/'")
    assert refused(elb, lb, "logs", "x/AWSLogs")[0] == "ValidationError"
    with pytest.raises(ClientError) as e:
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[
            {"Key": "access_logs.s3.prefix", "Value": "p" * 1025}])
    assert e.value.response["Error"]["Code"] == "ValidationError"
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=lb)["Attributes"]}
    assert attrs["access_logs.s3.enabled"] == "false" and attrs["access_logs.s3.bucket"] == ""
    assert keys(s3, "logs") == []


def test_enabling_with_the_delivery_policy_writes_the_test_file(env):
    ep, elb, lb, _tgs = env
    s3 = client(ep, "s3")
    s3.create_bucket(Bucket="logs")
    s3.put_bucket_policy(Bucket="logs", Policy=policy("logs", "alb/AWSLogs/123456789012/*"))
    enable(elb, lb, "logs", "alb")
    assert keys(s3, "logs") == ["alb/AWSLogs/123456789012/ELBAccessLogTestFile"]
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=lb)["Attributes"]}
    assert (attrs["access_logs.s3.enabled"], attrs["access_logs.s3.bucket"], attrs["access_logs.s3.prefix"]) == (
        "true", "logs", "alb")
    # the service principal (Regions since August 2022), no prefix: the bucket root
    s3.create_bucket(Bucket="logs2")
    s3.put_bucket_policy(Bucket="logs2", Policy=policy(
        "logs2", "AWSLogs/123456789012/*", principal={"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}))
    enable(elb, lb, "logs2", "")
    assert keys(s3, "logs2") == ["AWSLogs/123456789012/ELBAccessLogTestFile"]


def test_a_deny_statement_wins(env):
    ep, elb, lb, _tgs = env
    s3 = client(ep, "s3")
    s3.create_bucket(Bucket="logs")
    doc = json.loads(policy("logs", "*"))
    doc["Statement"] += json.loads(policy("logs", "alb/*", effect="Deny"))["Statement"]
    s3.put_bucket_policy(Bucket="logs", Policy=json.dumps(doc))
    assert refused(elb, lb, "logs", "alb")[0] == "InvalidConfigurationRequest"
    enable(elb, lb, "logs", "web")


# ---------------------------------------------------------------- entries

def test_forwarded_requests_give_entries_in_the_documented_format(env):
    ep, elb, lb, tgs = env
    app = start_app("127.0.0.2", 0, "v1", latency_ms=150)
    lst, url = serve(ep, elb, lb, tgs[0], app)
    elb.create_rule(ListenerArn=lst, Priority=7, Conditions=[{"Field": "path-pattern", "Values": ["/r*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": tgs[1]}])
    elb.register_targets(TargetGroupArn=tgs[1], Targets=[{"Id": "127.0.0.2", "Port": app.port}])
    wait_state(elb, tgs[0], "127.0.0.2", "healthy")
    wait_state(elb, tgs[1], "127.0.0.2", "healthy")
    assert ctl(ep, "POST", "/_emu/access-logs/enable", {"load_balancer_arn": lb, "bucket": "logs",
                                                         "prefix": "alb"}) == {"bucket": "logs", "prefix": "alb"}
    ua = 'Mozilla/5.0 (X11; Linux) "quoted" agent'
    assert get(url + "/p?Authorization=Bearer%20x&b=2", {"User-Agent": ua})[0] == 200
    assert get(url + "/rule")[0] == 200
    out = ctl(ep, "POST", "/_emu/access-logs/flush", {"load_balancer_arn": lb})["keys"]
    assert len(out) == 1
    m = KEY_RE.match(out[0])
    assert m and (m["prefix"], m["acct"], m["region"], m["lb"], m["ip"]) == (
        "alb/", "123456789012", "us-east-1", "t-alb", "127.0.0.1"), out[0]
    assert m["end"][9:13].isdigit() and int(m["end"][11:13]) % 5 == 0  # end of a 5-minute interval
    s3 = client(ep, "s3")
    first, second = [parse(x) for x in lines_of(s3, "logs", out[0])]
    assert (first["type"], first["elb"]) == ("http", "app/t-alb/" + lb.rsplit("/", 1)[1])
    assert re.fullmatch(r"127\.0\.0\.1:\d+", first["client:port"])
    assert first["target:port"] == f"127.0.0.2:{app.port}" == first["target:port_list"]
    assert (first["elb_status_code"], first["target_status_code"], first["target_status_code_list"]) == (
        "200", "200", "200")
    assert float(first["target_processing_time"]) >= 0.15 and first["request_processing_time"] != "-1"
    assert first["request"] == "GET http://127.0.0.1:80/p?Authorization=Bearer%20x&b=2 HTTP/1.1"
    assert first["user_agent"] == 'Mozilla/5.0 (X11; Linux) \\x22quoted\\x22 agent'
    assert (first["target_group_arn"], first["matched_rule_priority"], first["actions_executed"]) == (
        tgs[0], "0", "forward")
    assert first["trace_id"].startswith("Root=1-") and first["conn_trace_id"].startswith("TID_")
    assert int(first["received_bytes"]) > 0 and int(first["sent_bytes"]) > 0
    for f in ("ssl_cipher", "ssl_protocol", "domain_name", "chosen_cert_arn", "redirect_url", "error_reason",
              "classification", "classification_reason", "transformed_host", "transformed_uri",
              "request_transform_status"):
        assert first[f] == "-", f
    assert first["request_creation_time"] <= first["time"]
    assert (second["target_group_arn"], second["matched_rule_priority"]) == (tgs[1], "7")
    app.stop()


def test_the_load_balancers_own_answers_and_failures(env):
    ep, elb, lb, tgs = env
    lst, url = serve(ep, elb, lb, tgs[0], 1)  # port 1: nothing listens
    ctl(ep, "POST", "/_emu/target-health", {"target_group_arn": tgs[0], "target_id": "127.0.0.2", "state": "healthy"})
    elb.create_rule(ListenerArn=lst, Priority=3, Conditions=[{"Field": "path-pattern", "Values": ["/fixed"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418"}}])
    elb.create_rule(ListenerArn=lst, Priority=4, Conditions=[{"Field": "path-pattern", "Values": ["/old"]}],
                    Actions=[{"Type": "redirect", "RedirectConfig": {"Path": "/new", "StatusCode": "HTTP_302"}}])
    elb.create_rule(ListenerArn=lst, Priority=5, Conditions=[{"Field": "path-pattern", "Values": ["/empty"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": tgs[1]}])  # no targets
    ctl(ep, "POST", "/_emu/access-logs/enable", {"load_balancer_arn": lb, "bucket": "logs", "prefix": ""})
    assert [status_of(url + p) for p in ("/fixed", "/old", "/empty", "/x")] == [418, 302, 503, 502]
    key, = ctl(ep, "POST", "/_emu/access-logs/flush")["keys"]
    got = lines_of(client(ep, "s3"), "logs", key)
    fixed, redirect, empty, failed = [parse(x) for x in got]
    for e in (fixed, redirect):
        assert (e["target:port"], e["target_group_arn"], e["target_status_code"], e["target:port_list"]) == (
            "-", "-", "-", "-"), got
        assert all(e[t] != "-1" for t in ("request_processing_time", "target_processing_time",
                                          "response_processing_time"))
    assert (fixed["elb_status_code"], fixed["actions_executed"], fixed["matched_rule_priority"]) == (
        "418", "fixed-response", "3")
    assert (redirect["elb_status_code"], redirect["actions_executed"], redirect["matched_rule_priority"]) == (
        "302", "redirect", "4")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/new", redirect["redirect_url"]), redirect["redirect_url"]
    assert (empty["elb_status_code"], empty["target:port"], empty["target_status_code"]) == ("503", "-", "-")
    assert (empty["request_processing_time"], empty["target_processing_time"],
            empty["response_processing_time"]) == ("-1", "-1", "-1")
    assert empty["target_group_arn"] == tgs[1]
    assert (failed["elb_status_code"], failed["target:port"], failed["target_status_code"]) == (
        "502", "127.0.0.2:1", "-")
    assert failed["request_processing_time"] != "-1"
    assert (failed["target_processing_time"], failed["response_processing_time"]) == ("-1", "-1")


def test_a_target_silent_past_the_idle_timeout_gets_a_504(env):
    ep, elb, lb, tgs = env
    silent = socket.socket()
    silent.bind(("127.0.0.2", 0))
    silent.listen(4)  # accepts (the kernel does) and never answers
    try:
        _lst, url = serve(ep, elb, lb, tgs[0], silent.getsockname()[1])
        ctl(ep, "POST", "/_emu/target-health",
            {"target_group_arn": tgs[0], "target_id": "127.0.0.2", "state": "healthy"})
        elb.modify_load_balancer_attributes(
            LoadBalancerArn=lb, Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "1"}])
        ctl(ep, "POST", "/_emu/access-logs/enable", {"load_balancer_arn": lb, "bucket": "logs", "prefix": ""})
        assert status_of(url + "/slow") == 504
    finally:
        silent.close()
    key, = ctl(ep, "POST", "/_emu/access-logs/flush")["keys"]
    e, = [parse(x) for x in lines_of(client(ep, "s3"), "logs", key)]
    assert (e["elb_status_code"], e["target_status_code"], e["target_processing_time"]) == ("504", "-", "-1")
    assert e["target:port"].startswith("127.0.0.2:")


def test_https_listener_and_login_steps(env):
    ep, elb, lb, _tgs = env
    cert = client(ep, "acm").request_certificate(DomainName="x.example.com")["CertificateArn"]
    login = {"Type": "jwt-validation", "Order": 1, "JwtValidationConfig": {
        "JwksEndpoint": "https://idp.example.com/jwks", "Issuer": "https://idp.example.com"}}
    fixed = {"Type": "fixed-response", "Order": 2, "FixedResponseConfig": {"StatusCode": "200"}}
    lst = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, Certificates=[{"CertificateArn": cert}],
                              DefaultActions=[login, fixed])["Listeners"][0]["ListenerArn"]
    url = listener_url(ep, lst)
    ctl(ep, "POST", "/_emu/access-logs/enable", {"load_balancer_arn": lb, "bucket": "logs", "prefix": "tls"})
    assert get(url + "/a")[0] == 401
    assert get(url + "/a", {"Authorization": "Bearer h.p.s"})[0] == 200
    key, = ctl(ep, "POST", "/_emu/access-logs/flush")["keys"]
    denied, passed = [parse(x) for x in lines_of(client(ep, "s3"), "logs", key)]
    for e in (denied, passed):
        assert (e["type"], e["request"], e["chosen_cert_arn"]) == ("https", "GET https://127.0.0.1:443/a HTTP/1.1", cert)
        assert e["ssl_cipher"] != "-" and e["ssl_protocol"].startswith("TLS")
    assert (denied["elb_status_code"], denied["actions_executed"]) == ("401", "authenticate")
    assert (passed["elb_status_code"], passed["actions_executed"]) == ("200", "authenticate,fixed-response")


# ---------------------------------------------------------------- delivery

def test_raw_lines_flush_and_disabling(env):
    ep, elb, lb, tgs = env
    _lst, url = serve(ep, elb, lb, tgs[0], 1)
    s3 = client(ep, "s3")
    with pytest.raises(urllib.error.HTTPError) as e:  # not enabled yet
        ctl(ep, "POST", "/_emu/access-logs/lines", {"load_balancer_arn": lb, "lines": ["x"]})
    assert e.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as e:  # a name S3 refuses
        ctl(ep, "POST", "/_emu/access-logs/enable", {"load_balancer_arn": lb, "bucket": "b", "prefix": ""})
    assert e.value.code == 400 and b"refused" in e.value.read()
    get(url + "/before")
    assert ctl(ep, "POST", "/_emu/access-logs/flush")["keys"] == []
    ctl(ep, "POST", "/_emu/access-logs/enable", {"load_balancer_arn": lb, "bucket": "logs", "prefix": "p"})
    raw = ['http 2020-01-01T00:00:00.000000Z "unterminated', "", 'x "a b" - -1']
    assert ctl(ep, "POST", "/_emu/access-logs/lines", {"load_balancer_arn": lb, "lines": raw})["buffered"] == 3
    key, = ctl(ep, "POST", "/_emu/access-logs/flush")["keys"]
    assert lines_of(s3, "logs", key) == raw
    assert ctl(ep, "POST", "/_emu/access-logs/flush")["keys"] == []
    enable(elb, lb, "logs", "p", on="false")
    get(url + "/after")
    assert ctl(ep, "POST", "/_emu/access-logs/flush")["keys"] == []
    assert len(keys(s3, "logs")) == 2  # the test file and the one delivery


def test_entries_are_delivered_at_the_end_of_each_interval():
    gen = spawn_emulator("--propagation-delay", "0", "--access-log-interval", "1")
    ep = next(gen)
    elb, lb, tgs = stack(ep, 1)
    _lst, url = serve(ep, elb, lb, tgs[0], 1)
    ctl(ep, "POST", "/_emu/access-logs/enable", {"load_balancer_arn": lb, "bucket": "logs", "prefix": "i"})
    assert get(url + "/")[0] == 503  # its one target never passed a check
    s3 = client(ep, "s3")
    deadline = time.time() + 5
    while time.time() < deadline and len(keys(s3, "logs")) < 2:
        time.sleep(0.2)
    delivered = [k for k in keys(s3, "logs") if k.endswith(".log.gz")]
    assert len(delivered) == 1 and len(lines_of(s3, "logs", delivered[0])) == 1
    next(gen, None)  # stops the emulator


# ---------------------------------------------------------------- S3 wire

def signed_get(ep: str, path: str) -> tuple[int, bytes]:
    req = botocore.awsrequest.AWSRequest(method="GET", url=ep + path)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDTEST", "x"), "s3", "us-east-1").add_auth(req)
    r = urllib.request.Request(ep + path, headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_s3_answers_raw_sigv4_path_style_requests(env):
    ep, _elb, _lb, _tgs = env
    s3 = client(ep, "s3")
    s3.create_bucket(Bucket="raw")
    for i in range(3):
        s3.put_object(Bucket="raw", Key=f"a/{i}.log.gz", Body=gzip.compress(b"x"))
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    status, body = signed_get(ep, "/raw?list-type=2&prefix=a%2F&max-keys=2")
    assert status == 200, body
    doc = ET.fromstring(body)
    assert [c.find(ns + "Key").text for c in doc.findall(ns + "Contents")] == ["a/0.log.gz", "a/1.log.gz"]
    assert doc.find(ns + "IsTruncated").text == "true"
    assert all(c.find(ns + t) is not None for c in doc.findall(ns + "Contents") for t in ("LastModified", "Size"))
    token = doc.find(ns + "NextContinuationToken").text
    status, body = signed_get(ep, "/raw?list-type=2&prefix=a%2F&continuation-token="
                              + urllib.parse.quote(token, safe=""))
    doc = ET.fromstring(body)
    assert [c.find(ns + "Key").text for c in doc.findall(ns + "Contents")] == ["a/2.log.gz"]
    assert doc.find(ns + "IsTruncated").text == "false"
    status, body = signed_get(ep, "/raw/a/0.log.gz")
    assert status == 200 and gzip.decompress(body) == b"x"
    assert signed_get(ep, "/raw/missing")[0] == 404
