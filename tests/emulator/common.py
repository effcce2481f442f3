"""Shared helpers for the ALB emulator.

Owns: the global BACKEND_LOCK that serialises every access to moto's in-memory
backends (moto API calls made through the middleware, the data plane, the
health checker and the metrics publisher all take it), iteration over moto's
ELBv2 backends across accounts/regions, ARN helpers and the loopback guard
(the emulator never opens a connection to a non-loopback address).
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import threading
from datetime import datetime, timezone
from typing import Any, Iterator

BACKEND_LOCK = threading.RLock()

log = logging.getLogger("alb-emulator")


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # werkzeug logs one line per request at INFO; keep it quieter by default.
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)


def iter_elbv2_backends() -> Iterator[tuple[str, str, Any]]:
    """Yield (account_id, region, ELBv2Backend) for every backend moto has created.

    Caller must hold BACKEND_LOCK.
    """
    from moto.elbv2.models import elbv2_backends

    for account_id in list(elbv2_backends.keys()):
        acct = dict.__getitem__(elbv2_backends, account_id)
        for region in list(acct.keys()):
            yield account_id, region, dict.__getitem__(acct, region)


def arn_account_region(arn: str) -> tuple[str, str]:
    """Return (account_id, region) parsed from an ARN."""
    parts = arn.split(":")
    return parts[4], parts[3]


def elbv2_backend_for_arn(arn: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    account, region = arn_account_region(arn)
    return elbv2_backends[account][region]


def cloudwatch_backend(account: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account][region]


def find_target_group(arn: str) -> Any | None:
    """Find a FakeTargetGroup by ARN (caller holds BACKEND_LOCK)."""
    try:
        return elbv2_backend_for_arn(arn).target_groups.get(arn)
    except Exception:
        return None


def find_listener(arn: str) -> Any | None:
    """Find a FakeListener by ARN (caller holds BACKEND_LOCK)."""
    try:
        backend = elbv2_backend_for_arn(arn)
    except Exception:
        return None
    for lb in list(backend.load_balancers.values()):
        listener = lb.listeners.get(arn)
        if listener is not None:
            return listener
    return None


def tg_dimension(tg_arn: str) -> str:
    """CloudWatch `TargetGroup` dimension value: `targetgroup/NAME/ID`."""
    return tg_arn.split(":")[-1]


def lb_dimension(lb_arn: str) -> str:
    """CloudWatch `LoadBalancer` dimension value: `app/NAME/ID`."""
    return lb_arn.split(":loadbalancer/", 1)[-1]


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def to_epoch(value: Any) -> float:
    """Convert a datetime (naive = UTC), ISO string or number to epoch seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return to_epoch(datetime.fromisoformat(value.replace("Z", "+00:00")))
    raise ValueError(f"cannot convert {value!r} to a timestamp")


def naive_utc(epoch: float) -> datetime:
    """Epoch seconds -> naive UTC datetime (the form moto stores)."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).replace(tzinfo=None)
