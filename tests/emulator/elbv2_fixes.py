"""Small corrections to moto's ELBv2 model.

Owns: `install()`, which patches `ELBv2Backend.describe_target_groups` so a
target group's `LoadBalancerArns` is recomputed from the CURRENT listener
default actions and rules (TargetGroupArn and ForwardConfig.TargetGroups) on
every call. Moto only appends ARNs at CreateListener/CreateRule time, so
ModifyListener/ModifyRule/DeleteListener left them stale.
"""

from __future__ import annotations

from typing import Any


def referenced_tgs(actions: list[Any]) -> set[str]:
    out: set[str] = set()
    for a in actions or []:
        d = a.data if hasattr(a, "data") else a
        if d.get("TargetGroupArn"):
            out.add(d["TargetGroupArn"])
        for g in (d.get("ForwardConfig") or {}).get("TargetGroups") or []:
            if g.get("TargetGroupArn"):
                out.add(g["TargetGroupArn"])
    return out


def recompute_lb_arns(backend: Any) -> None:
    usage: dict[str, list[str]] = {arn: [] for arn in backend.target_groups}
    for lb in backend.load_balancers.values():
        for listener in lb.listeners.values():
            tgs = referenced_tgs(listener.default_actions)
            for rule in listener._non_default_rules.values():
                tgs |= referenced_tgs(rule.actions)
            for arn in tgs:
                if arn in usage and lb.arn not in usage[arn]:
                    usage[arn].append(lb.arn)
    for arn, lbs in usage.items():
        backend.target_groups[arn].load_balancer_arns = lbs


def install() -> None:
    from moto.elbv2.models import ELBv2Backend

    orig = ELBv2Backend.describe_target_groups

    def describe_target_groups(self, load_balancer_arn, target_group_arns, names):  # noqa: ANN001
        recompute_lb_arns(self)
        return orig(self, load_balancer_arn, target_group_arns, names)

    ELBv2Backend.describe_target_groups = describe_target_groups
