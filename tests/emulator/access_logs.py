"""ALB access logs, as Elastic Load Balancing writes them to S3.

Owns: validating the `access_logs.s3.*` attributes of ModifyLoadBalancerAttributes
as AWS does (patched over moto's backend: empty bucket, prefix rules, missing
bucket, a bucket policy that does not let ELB deliver) and writing
`PREFIX/AWSLogs/ACCOUNT/ELBAccessLogTestFile` once enabled; one entry per
request the data plane answers on a load balancer with logs on, in the
documented field order (access_log_format.py); per-load-balancer buffers
delivered as gzip objects at AWS's key layout at the end of every interval
(`--access-log-interval`, default 300 s like AWS) and on demand; and the
`/_emu/access-logs/...` hooks (enable, flush, raw lines).
Nothing is built or buffered for a load balancer with access logs off: the
data plane checks `lb_arn in ACCESS_LOGS.enabled` (a dict lookup) first.
"""

from __future__ import annotations

import gzip
import random
import string
import threading
import time
from datetime import datetime, timezone
from typing import Any

import s3_logs
from common import BACKEND_LOCK, arn_account_region, elbv2_backend_for_arn, lb_dimension, log

DEFAULT_INTERVAL = 300.0
TEST_FILE = "ELBAccessLogTestFile"
NODE_IP = "127.0.0.1"  # the emulated load balancer node that writes every file


def parse_interval(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"access log interval must be a number of seconds, got {value!r}") from None
    if not 0 < seconds <= 3600:
        raise ValueError(f"access log interval must be above 0 and at most 3600 seconds, got {seconds:g}")
    return seconds


def _error(code: str, message: str) -> Exception:
    from moto.elbv2.exceptions import ELBClientError

    return ELBClientError(code, message)


def log_base(prefix: str, account: str) -> str:
    return f"{prefix}/AWSLogs/{account}" if prefix else f"AWSLogs/{account}"


def object_key(lb_arn: str, prefix: str, end: float, rand: str) -> str:
    """`PREFIX/AWSLogs/ACCOUNT/elasticloadbalancing/REGION/YYYY/MM/DD/ACCOUNT_elasticloadbalancing_REGION_
    app.NAME.ID_END_IP_RANDOM.log.gz` (ALB guide, "Access log files"; '/' in the
    resource ID become '.')."""
    account, region = arn_account_region(lb_arn)
    t = datetime.fromtimestamp(end, tz=timezone.utc)
    name = (f"{account}_elasticloadbalancing_{region}_{lb_dimension(lb_arn).replace('/', '.')}_"
            f"{t:%Y%m%dT%H%MZ}_{NODE_IP}_{rand}.log.gz")
    return f"{log_base(prefix, account)}/elasticloadbalancing/{region}/{t:%Y/%m/%d}/{name}"


def _check_attributes(attrs: dict[str, Any]) -> None:
    """botocore's LoadBalancerAttribute shapes, in the Coral message form."""
    errors = []
    if len(attrs) > 20:
        errors.append(f"Value '{list(attrs.items())}' at 'attributes' failed to satisfy constraint: "
                      "Member must have length less than or equal to 20")
    for i, (k, v) in enumerate(attrs.items(), 1):
        if len(k) > 256 or not k or any(not (c.isascii() and (c.isalnum() or c in "._")) for c in k):
            errors.append(f"Value '{k}' at 'attributes.{i}.member.key' failed to satisfy constraint: "
                          "Member must satisfy regular expression pattern: ^[a-zA-Z0-9._]+$")
        if v is not None and len(str(v)) > 1024:
            errors.append(f"Value '{v}' at 'attributes.{i}.member.value' failed to satisfy constraint: "
                          "Member must have length less than or equal to 1024")
    if errors:
        n = len(errors)
        raise _error("ValidationError", f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(errors))


def validate(lb: Any, merged: dict[str, Any]) -> tuple[str, str] | None:
    """(bucket, prefix) when the merged attributes turn logs on (raising AWS's
    error when it would refuse them), None when they are off."""
    enabled = str(merged.get("access_logs.s3.enabled", "false")).lower()
    if enabled not in ("true", "false"):
        raise _error("ValidationError", f"The value of 'access_logs.s3.enabled' must be 'true' or 'false', "
                                        f"got '{merged.get('access_logs.s3.enabled')}'")
    if enabled == "false":
        return None
    bucket, prefix = merged.get("access_logs.s3.bucket") or "", merged.get("access_logs.s3.prefix") or ""
    if not bucket:
        raise _error("ValidationError", "The value of 'access_logs.s3.bucket' cannot be empty")
    if prefix.startswith("/") or prefix.endswith("/"):
        raise _error("ValidationError", "The value of 'access_logs.s3.prefix' cannot start or end with '/'")
    if "AWSLogs" in prefix:
        raise _error("ValidationError", "The value of 'access_logs.s3.prefix' cannot contain 'AWSLogs'")
    found = s3_logs.find_bucket(bucket)
    if found is None:
        raise _error("InvalidConfigurationRequest", f"The specified bucket does not exist: {bucket}")
    account, region = arn_account_region(lb.arn)
    key = f"{log_base(prefix, account)}/{TEST_FILE}"
    if (getattr(found[1], "region_name", region) != region
            or not s3_logs.delivery_allowed(found[1].policy, bucket, key, region, _context(lb.arn))):
        raise _error("InvalidConfigurationRequest", f"Access Denied for bucket: {bucket}. Please check S3bucket permission")
    return bucket, prefix


def _context(lb_arn: str) -> dict[str, str]:
    account, _region = arn_account_region(lb_arn)
    return {"aws:sourceaccount": account, "aws:sourcearn": lb_arn}


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AccessLogs:
    def __init__(self, interval: float = DEFAULT_INTERVAL) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        # lb_arn -> (bucket, prefix); read without the lock on the hot path
        self.enabled: dict[str, tuple[str, str]] = {}
        self._lines: dict[str, list[str]] = {}
        self._listeners: dict[str, tuple[str, str]] = {}  # listener_arn -> (protocol, cert arn)
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ config
    def install(self) -> None:
        from moto.elbv2.models import ELBv2Backend

        orig_modify = ELBv2Backend.modify_load_balancer_attributes
        orig_describe = ELBv2Backend.describe_load_balancer_attributes
        plane = self

        def modify_load_balancer_attributes(self, arn, attrs):  # noqa: ANN001
            _check_attributes(attrs)
            lb = self.load_balancers.get(arn)
            target = None
            if lb is not None and any(k.startswith("access_logs.s3.") for k in attrs):
                target = validate(lb, {**lb.attrs, **attrs})
            out = orig_modify(self, arn, attrs)
            if lb is not None and any(k.startswith("access_logs.s3.") for k in attrs):
                plane._configured(lb, target)
            return out

        def describe_load_balancer_attributes(self, arn):  # noqa: ANN001
            attrs = orig_describe(self, arn)
            attrs.setdefault("access_logs.s3.enabled", "false")  # AWS always lists it
            return attrs

        ELBv2Backend.modify_load_balancer_attributes = modify_load_balancer_attributes
        ELBv2Backend.describe_load_balancer_attributes = describe_load_balancer_attributes

    def _configured(self, lb: Any, target: tuple[str, str] | None) -> None:
        """After a successful modify (BACKEND_LOCK held): AWS writes the test file
        on enabling; a disabled load balancer stops logging (its buffer is dropped)."""
        if target is None:
            with self._lock:
                self.enabled.pop(lb.arn, None)
                self._lines.pop(lb.arn, None)
            return
        bucket, prefix = target
        account, _region = arn_account_region(lb.arn)
        now = time.time()
        body = f"Enable AccessLog for ELB: {lb_dimension(lb.arn)} at {_stamp(now)}\n".encode()
        s3_logs.put_object(bucket, f"{log_base(prefix, account)}/{TEST_FILE}", body)
        with self._lock:
            self.enabled[lb.arn] = target
            self._lines.setdefault(lb.arn, [])

    def enable(self, body: dict[str, Any]) -> dict[str, Any]:
        """Test hook: CreateBucket (if missing) + PutBucketPolicy + ModifyLoadBalancerAttributes."""
        lb_arn, bucket, prefix = body.get("load_balancer_arn"), body.get("bucket"), body.get("prefix") or ""
        if not isinstance(lb_arn, str) or not isinstance(bucket, str) or not bucket or not isinstance(prefix, str):
            raise ValueError('body must be {"load_balancer_arn": ARN, "bucket": NAME, "prefix": PREFIX}')
        account, region = arn_account_region(lb_arn)
        with BACKEND_LOCK:
            backend = elbv2_backend_for_arn(lb_arn)
            if lb_arn not in backend.load_balancers:
                raise ValueError(f"no such load balancer: {lb_arn}")
            try:
                created = s3_logs.ensure_bucket(bucket, account, region)
            except Exception as e:  # moto's S3 refusal, e.g. InvalidBucketName
                raise ValueError(f"CreateBucket {bucket!r} refused: {getattr(e, 'message', e)}") from None
            created.policy = s3_logs.delivery_policy(bucket, prefix, account, region).encode()
            try:
                backend.modify_load_balancer_attributes(lb_arn, {
                    "access_logs.s3.enabled": "true", "access_logs.s3.bucket": bucket,
                    "access_logs.s3.prefix": prefix})
            except Exception as e:
                raise ValueError(f"ModifyLoadBalancerAttributes refused: {getattr(e, 'message', e)}") from None
        return {"bucket": bucket, "prefix": prefix}

    def reset(self) -> None:
        with self._lock:
            self.enabled.clear()
            self._lines.clear()
            self._listeners.clear()

    # ------------------------------------------------------------ entries
    def listener_tls(self, listener_arn: str) -> tuple[str, str]:
        """(protocol, default certificate ARN or '-') of a listener, cached."""
        hit = self._listeners.get(listener_arn)
        if hit is None:
            from common import find_listener

            with BACKEND_LOCK:
                lst = find_listener(listener_arn)
                proto = (getattr(lst, "protocol", None) or "HTTP").upper()
                certs = getattr(lst, "certificates", None) or []
            first = certs[0] if certs else None
            cert = (first.get("CertificateArn") if isinstance(first, dict) else first) or "-"
            hit = self._listeners[listener_arn] = (proto, cert)
        return hit

    def append(self, lb_arn: str, line: str) -> None:
        with self._lock:
            if lb_arn in self.enabled:
                self._lines.setdefault(lb_arn, []).append(line)

    def add_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        lb_arn, lines = body.get("load_balancer_arn"), body.get("lines")
        if not isinstance(lb_arn, str) or not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise ValueError('body must be {"load_balancer_arn": ARN, "lines": ["raw line", ...]}')
        if any("\n" in x for x in lines):
            raise ValueError("a raw line must not contain a newline")
        with self._lock:
            if lb_arn not in self.enabled:
                raise ValueError(f"access logs are not enabled on {lb_arn}")
            self._lines.setdefault(lb_arn, []).extend(lines)
            return {"ok": True, "buffered": len(self._lines[lb_arn])}

    # ------------------------------------------------------------ delivery
    def flush(self, lb_arn: str | None = None, now: float | None = None) -> list[str]:
        """Deliver the buffered entries (of one load balancer, or all) as one
        gzip object each, named by the end of the interval `now` falls in."""
        now = time.time() if now is None else now
        end = (int(now // self.interval) + 1) * self.interval
        with self._lock:
            arns = [lb_arn] if lb_arn else list(self._lines)
            batches = {a: self._lines.pop(a) for a in arns if self._lines.get(a)}
            targets = {a: self.enabled[a] for a in batches if a in self.enabled}
            for a in targets:
                self._lines[a] = []
        keys = []
        for arn, lines in batches.items():
            if arn not in targets:
                continue
            bucket, prefix = targets[arn]
            rand = "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
            key = object_key(arn, prefix, end, rand)
            data = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"))
            if self._deliver(arn, bucket, key, data):
                keys.append(key)
        return keys

    def _deliver(self, lb_arn: str, bucket: str, key: str, data: bytes) -> bool:
        """AWS drops a delivery the bucket no longer allows (deleted bucket, policy changed)."""
        _account, region = arn_account_region(lb_arn)
        with BACKEND_LOCK:
            found = s3_logs.find_bucket(bucket)
            if found is None or not s3_logs.delivery_allowed(found[1].policy, bucket, key, region,
                                                             _context(lb_arn)):
                log.warning("access logs of %s: delivery to s3://%s/%s not allowed, dropped", lb_arn, bucket, key)
                return False
            return s3_logs.put_object(bucket, key, data)

    def start(self) -> None:
        def loop() -> None:
            while True:
                now = time.time()
                time.sleep(max(0.05, (int(now // self.interval) + 1) * self.interval - now))
                try:
                    self.flush(now=time.time() - 0.001)  # the interval that just ended
                except Exception:  # pragma: no cover
                    log.exception("access log delivery failed")

        if self._thread is None:
            self._thread = threading.Thread(target=loop, name="access-log-delivery", daemon=True)
            self._thread.start()

    def control(self, route: str, method: str, body: Any) -> dict[str, Any] | None:
        """The `/_emu/access-logs/...` hooks; None for another route."""
        if method != "POST" or not route.startswith("/_emu/access-logs/"):
            return None
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        what = route[len("/_emu/access-logs/"):]
        if what == "enable":
            return self.enable(body)
        if what == "flush":
            arn = body.get("load_balancer_arn")
            if arn is not None and not isinstance(arn, str):
                raise ValueError("load_balancer_arn must be a string")
            return {"keys": self.flush(arn)}
        if what == "lines":
            return self.add_raw(body)
        return None


ACCESS_LOGS = AccessLogs()
