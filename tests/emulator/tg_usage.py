"""Which target groups a load balancer uses, as AWS decides it for health checks.

Owns: `used_groups(backend)` and `in_use(tg)`. AWS health-checks a target
group only while some listener's default action or rule of its load balancer
forwards to it, at any weight (0 included); the targets of any other group
read `unused` / `Target.NotInUse` (TargetHealth API reference; ALB guide,
"Target groups": "Health checks are performed on all targets registered to a
target group that is specified in a listener rule for your load balancer").
Computed from moto's current listeners and rules on every call, so a
ModifyListener or DeleteRule is seen at once by the API. The load balancer's
nodes apply a change seconds later (propagation.py) and keep checking, and
routing to, a group their config still forwards to: the scheduler checks the
union of both, and the data plane reads health as a node does
(`HealthManager.evaluate(..., node=True)`). Callers hold BACKEND_LOCK.
"""

from __future__ import annotations

from typing import Any

from common import elbv2_backend_for_arn
from elbv2_fixes import referenced_tgs


def used_groups(backend: Any) -> set[str]:
    """ARNs of the target groups some listener's default action or rule of a
    load balancer in `backend` forwards to, at any weight (0 included)."""
    used: set[str] = set()
    for lb in list(backend.load_balancers.values()):
        for listener in list(lb.listeners.values()):
            used |= referenced_tgs(listener.default_actions)
            for rule in list(listener._non_default_rules.values()):
                used |= referenced_tgs(rule.actions)
    return used


def referenced_in_view(view: dict[str, Any]) -> set[str]:
    """The groups one propagated listener view (propagation.listener_view) forwards to."""
    out = referenced_tgs(view.get("default") or [])
    for rule in view.get("rules") or []:
        out |= referenced_tgs(rule.get("actions") or [])
    return out


def in_use(tg: Any) -> bool:
    """Whether AWS health-checks `tg` at all (TargetHealth: `Target.NotInUse`
    = "The target group is not used by any load balancer")."""
    try:
        backend = elbv2_backend_for_arn(tg.arn)
    except Exception:  # pragma: no cover - an ARN moto itself minted
        return True
    return tg.arn in used_groups(backend)
