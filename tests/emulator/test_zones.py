"""Self-test of elbv2_zones.py (run: tests/emulator/.venv/bin/python -m pytest tests/emulator).

Owns: proof that RegisterTargets keeps and DescribeTargetHealth returns a
target's Availability Zone as AWS does, and refuses the zones AWS refuses.
Drives moto's ELBv2 backend in-process (a fresh account each).
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import elbv2_zones  # noqa: E402
from common import BACKEND_LOCK  # noqa: E402

_accounts = iter(range(230000000000, 230000001000))


def _group(target_type: str):  # noqa: ANN202
    from moto.elbv2.models import elbv2_backends

    backend = elbv2_backends[str(next(_accounts))]["us-east-1"]
    vpc = backend.ec2_backend.create_vpc("10.0.0.0/16").id
    backend.ec2_backend.create_subnet(vpc_id=vpc, cidr_block="10.0.1.0/24", availability_zone="us-east-1a")
    with BACKEND_LOCK:
        tg = backend.create_target_group(name=f"z-{target_type}", protocol="HTTP", port="80",
                                         vpc_id=vpc, target_type=target_type)
    return backend, tg


def _zones(backend, tg) -> dict:  # noqa: ANN001
    return {d.target["Id"]: d.target.get("AvailabilityZone") for d in backend.describe_target_health(tg.arn, [])}


def test_an_ip_outside_the_vpc_needs_its_zone_and_keeps_it() -> None:
    from moto.elbv2.exceptions import ELBClientError

    elbv2_zones.install()
    backend, tg = _group("ip")
    with pytest.raises(ELBClientError, match="outside the VPC"):
        backend.register_targets(tg.arn, [{"Id": "192.168.9.4", "Port": 8080}])
    backend.register_targets(tg.arn, [{"Id": "192.168.9.4", "Port": 8080, "AvailabilityZone": "all"},
                                      {"Id": "10.0.1.7", "Port": 80}, {"Id": "127.0.0.9", "Port": 80}])
    assert _zones(backend, tg) == {"192.168.9.4": "all", "10.0.1.7": "us-east-1a", "127.0.0.9": None}


def test_instance_targets_take_no_zone() -> None:
    from moto.elbv2.exceptions import ELBClientError

    elbv2_zones.install()
    backend, tg = _group("instance")
    with pytest.raises(ELBClientError, match="cannot specify an Availability Zone"):
        backend.register_targets(tg.arn, [{"Id": "i-0123456789abcdef0", "AvailabilityZone": "us-east-1a"}])
