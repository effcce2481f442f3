"""The moto patches that route target health through the HealthManager.

Owns: `install(mgr)`, which replaces `FakeTargetGroup.health_for` / `register`
/ `deregister` and `ELBv2Backend.modify_target_group` /
`describe_target_health` (see health.py's docstring for what each does and
the AWS rules behind them).
"""

from __future__ import annotations

import time
from typing import Any

from health import _int


def install(mgr: Any) -> None:
    from moto.elbv2 import models as m
    from moto.elbv2.exceptions import ValidationError

    orig_health_for = m.FakeTargetGroup.health_for
    orig_register = m.FakeTargetGroup.register
    orig_deregister = m.FakeTargetGroup.deregister
    orig_modify_tg = m.ELBv2Backend.modify_target_group

    def health_for(tg, target, ec2_backend):  # noqa: ANN001
        tid = str(target["Id"])
        reg = tg.targets.get(tid)
        port = reg["Port"] if reg else target.get("Port") or mgr.draining_port(tg.arn, tid) or tg.port
        verdict = mgr.evaluate(tg, tid, port)
        if verdict is None:
            return orig_health_for(tg, target, ec2_backend)
        state, reason, desc = verdict
        return m.FakeHealthStatus(tid, port, tg.health_check_port, state, reason, desc)

    def register(tg, targets):  # noqa: ANN001
        fresh = [str(t["Id"]) for t in targets if str(t["Id"]) not in tg.targets]
        orig_register(tg, targets)
        mgr.registered(tg, targets, fresh)

    def deregister(tg, targets):  # noqa: ANN001
        before = {tid: dict(t) for tid, t in tg.targets.items()}
        orig_deregister(tg, targets)
        delay = int(tg.attributes.get("deregistration_delay.timeout_seconds", 300) or 0)
        with mgr._lock:
            for t in targets:
                tid = str(t["Id"])
                if tid in before and delay > 0:
                    mgr.draining[(tg.arn, tid)] = {"port": before[tid]["Port"],
                                                   "until": time.monotonic() + delay}
            mgr.version += 1

    def modify_target_group(backend, arn, *args, **kwargs):  # noqa: ANN001
        names = ("health_check_proto", "health_check_port", "health_check_path",
                 "health_check_interval", "health_check_timeout")
        given = dict(zip(names, args), **kwargs)
        tg = backend.target_groups.get(arn)
        if tg is not None:
            interval = _int(given.get("health_check_interval") or tg.health_check_interval_seconds, 30)
            timeout = _int(given.get("health_check_timeout") or tg.health_check_timeout_seconds, 5)
            # moto's CreateTargetGroup rule (timeout above the interval, or
            # equal to it when both are given), which moto's Modify skips.
            both = given.get("health_check_interval") and given.get("health_check_timeout")
            http = (tg.health_check_protocol or tg.protocol) in ("HTTP", "HTTPS")
            if timeout > interval or (both and http and timeout == interval):
                raise ValidationError(
                    f"Health check timeout '{timeout}' must be smaller than the interval '{interval}'")
        out = orig_modify_tg(backend, arn, *args, **kwargs)
        mgr.wake()
        return out

    def describe_target_health(backend, target_group_arn, targets):  # noqa: ANN001
        tg = backend.target_groups.get(target_group_arn)
        if tg is None:
            raise m.TargetGroupNotFoundError()
        if not targets:
            targets = list(tg.targets.values())
            with mgr._lock:
                now = time.monotonic()
                for (arn, tid), d in list(mgr.draining.items()):
                    if arn == tg.arn and tid not in tg.targets and d["until"] > now:
                        targets.append({"Id": tid, "Port": d["port"]})
        return [tg.health_for(t, backend.ec2_backend) for t in targets]

    m.FakeTargetGroup.health_for = health_for
    m.FakeTargetGroup.register = register
    m.FakeTargetGroup.deregister = deregister
    m.ELBv2Backend.modify_target_group = modify_target_group
    m.ELBv2Backend.describe_target_health = describe_target_health
