"""The S3 side of ALB access logs.

Owns: finding a bucket in moto's S3 backends, deciding whether a bucket policy
lets Elastic Load Balancing deliver an object (the ELB account of the region
as principal for Regions available before August 2022, or the
`logdelivery.elasticloadbalancing.amazonaws.com` service principal), the
delivery policy the emulator's convenience hook puts, and writing an object
(the log delivery itself, which bypasses the S3 API and its call log).
Caller holds BACKEND_LOCK for everything here.
"""

from __future__ import annotations

import json
import re
from typing import Any

SERVICE_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"

# ALB user guide, "Enable access logs", Regions available before August 2022:
# the Elastic Load Balancing account ID to name as principal.
ELB_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378", "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127",
    "eu-west-3": "009996457667", "eu-north-1": "897822967062", "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}


def find_bucket(name: str) -> tuple[Any, Any] | None:
    """(S3 backend, FakeBucket) of an existing bucket, any account; None if none."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        return None
    partition, account = owner
    backend = s3_backends[account][partition]
    bucket = backend.buckets.get(name)
    return (backend, bucket) if bucket is not None else None


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [] if v is None else [v]


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _principal_matches(stmt: dict[str, Any], region: str) -> bool:
    if "NotPrincipal" in stmt:
        return False  # not evaluated: such a statement never grants delivery here
    principal = stmt.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if SERVICE_PRINCIPAL in _list(principal.get("Service")) or "*" in _list(principal.get("AWS")):
        return True
    elb = ELB_ACCOUNTS.get(region)
    return elb is not None and any(p in (elb, f"arn:aws:iam::{elb}:root") for p in _list(principal.get("AWS")))


def _condition_holds(cond: Any, context: dict[str, str]) -> bool:
    """The condition operators a delivery policy uses; anything else never holds."""
    if not cond:
        return True
    if not isinstance(cond, dict):
        return False
    for op, tests in cond.items():
        like = op in ("StringLike", "ArnLike")
        if op not in ("StringEquals", "StringLike", "ArnEquals", "ArnLike") or not isinstance(tests, dict):
            return False
        for key, values in tests.items():
            got = context.get(key.lower())
            if got is None or not any(_glob(v, got) if like else v == got for v in _list(values)):
                return False
    return True


def delivery_allowed(policy: bytes | str | None, bucket: str, key: str, region: str,
                     context: dict[str, str]) -> bool:
    """Whether ELB's s3:PutObject of `key` is allowed: an Allow statement for
    the ELB principal, action and object ARN whose conditions hold, and no such
    Deny. `context` holds the condition keys (lower case) ELB's request carries."""
    if not policy:
        return False
    try:
        doc = json.loads(policy)
    except ValueError:
        return False
    arn = f"arn:aws:s3:::{bucket}/{key}"
    allowed = False
    for stmt in _list(doc.get("Statement") if isinstance(doc, dict) else None):
        if not isinstance(stmt, dict) or not _principal_matches(stmt, region):
            continue
        if not any(_glob(a, "s3:PutObject", ignore_case=True) for a in _list(stmt.get("Action"))):
            continue
        if not any(_glob(r, arn) for r in _list(stmt.get("Resource"))):
            continue
        if not _condition_holds(stmt.get("Condition"), context):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        allowed = allowed or stmt.get("Effect") == "Allow"
    return allowed


def delivery_policy(bucket: str, prefix: str, account: str, region: str) -> str:
    """The bucket policy the ALB guide gives for the region: the ELB account as
    principal where there is one, else the log delivery service principal."""
    base = f"{prefix}/AWSLogs" if prefix else "AWSLogs"
    elb = ELB_ACCOUNTS.get(region)
    principal = {"AWS": f"arn:aws:iam::{elb}:root"} if elb else {"Service": SERVICE_PRINCIPAL}
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/{base}/{account}/*"}]})


def ensure_bucket(name: str, account: str, region: str) -> Any:
    """The bucket, created in `account`/`region` (as CreateBucket would) if missing."""
    found = find_bucket(name)
    if found:
        return found[1]
    from moto.s3.models import s3_backends

    return s3_backends[account]["aws"].create_bucket(name, region)


def put_object(bucket: str, key: str, data: bytes) -> bool:
    found = find_bucket(bucket)
    if found is None:
        return False
    found[0].put_object(bucket, key, data)
    return True
