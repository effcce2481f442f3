"""Target Availability Zones as ELBv2 keeps them (moto drops them).

Owns `install()`: RegisterTargets keeps each target's `AvailabilityZone`
and DescribeTargetHealth returns it in the target's description, as AWS
does (API reference, TargetDescription):
* instance and alb targets: no zone may be given -> `ValidationError`;
* lambda targets: only `all`;
* ip targets: a zone given is kept; an IP in a subnet of the group's VPC
  without one gets that subnet's zone (AWS detects it); an IP outside the
  VPC's CIDR needs one (`all`, or a zone of the VPC) -> `ValidationError`
  without.
  Loopback IPs are the emulator's data plane (tests/emulator/README.md):
  they stand for in-VPC addresses of no subnet, so they need no zone and
  report none.
Installed after health.py: it wraps whichever register and health_for are in place.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from common import is_loopback


def _subnet_zone(tg: Any, ip: str) -> str | None:
    try:
        addr = ipaddress.ip_address(ip)
        subnets = tg.ec2_backend.describe_subnets(filters={"vpc-id": [tg.vpc_id]})
    except Exception:  # noqa: BLE001 - not an IP, or no EC2 backend: no zone
        return None
    for s in subnets:
        if addr in ipaddress.ip_network(s.cidr_block, strict=False):
            return s.availability_zone
    return None


def _in_vpc(tg: Any, ip: str) -> bool:
    try:
        vpc = tg.ec2_backend.get_vpc(tg.vpc_id)
        return ipaddress.ip_address(ip) in ipaddress.ip_network(vpc.cidr_block, strict=False)
    except Exception:  # noqa: BLE001 - no such VPC or not an IP: not in it
        return False


def _zone(tg: Any, t: dict[str, Any]) -> str | None:
    from moto.elbv2.exceptions import ELBClientError

    tid, az = str(t["Id"]), t.get("AvailabilityZone")
    kind = getattr(tg, "target_type", "instance")
    if kind in ("instance", "alb") and az is not None:
        raise ELBClientError("ValidationError",
                             f"You cannot specify an Availability Zone for target '{tid}' of type '{kind}'")
    if kind == "lambda":
        if az not in (None, "all"):
            raise ELBClientError("ValidationError", "The Availability Zone of a Lambda target can only be 'all'")
        return az
    if kind != "ip":
        return None
    if az is not None:
        return az
    detected = _subnet_zone(tg, tid)
    if detected is None and not is_loopback(tid) and not _in_vpc(tg, tid):
        raise ELBClientError("ValidationError",
                             f"The IP address '{tid}' is outside the VPC: its Availability Zone must be specified")
    return detected


def install() -> None:
    from moto.elbv2 import models as m

    if getattr(m.FakeTargetGroup, "_alb_zones_installed", False):
        return
    m.FakeTargetGroup._alb_zones_installed = True
    o_register = m.FakeTargetGroup.register
    o_health_for = m.FakeTargetGroup.health_for
    o_target = m.FakeHealthStatus.target

    def register(tg, targets):  # noqa: ANN001, ANN202
        zones = {str(t["Id"]): _zone(tg, t) for t in targets}
        o_register(tg, targets)
        for tid, az in zones.items():
            if tid in tg.targets:
                if az is None:
                    tg.targets[tid].pop("AvailabilityZone", None)
                else:
                    tg.targets[tid]["AvailabilityZone"] = az

    def health_for(tg, target, ec2_backend):  # noqa: ANN001, ANN202
        status = o_health_for(tg, target, ec2_backend)
        reg = tg.targets.get(str(target["Id"])) or {}
        status.availability_zone = reg.get("AvailabilityZone")
        return status

    def target(self):  # noqa: ANN001, ANN202
        out = dict(o_target.fget(self))
        az = getattr(self, "availability_zone", None)
        if az is not None:
            out["AvailabilityZone"] = az
        return out

    m.FakeTargetGroup.register = register
    m.FakeTargetGroup.health_for = health_for
    m.FakeHealthStatus.target = property(target)
