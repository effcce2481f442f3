"""ELBv2 limits AWS enforces that moto does not (or enforces differently).

Owns:
* `check_request(action, params)`: validation of ELBv2 tag parameters before
  moto sees the call (middleware.py turns a refusal into an awsQuery error):
  key 1..128 and value 0..256 characters, both matching
  `^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$` (botocore elbv2 model, shapes TagKey /
  TagValue), refused with AWS's Coral-style `ValidationError` text; keys
  starting with `aws:` refused (`ValidationError: Tag key '..' cannot start
  with 'aws:'`, as ELBv2 answers); a key given twice -> `DuplicateTagKeys`;
  more than 50 tags on a Create* call -> `TooManyTags`. Create/ModifyTargetGroup
  health-check settings outside the model's ranges (interval 5..300 s,
  timeout 2..120 s, thresholds 2..10) -> `ValidationError`. DescribeTags
  with more than 20 ARNs -> `ValidationError` ("You can specify up to 20
  resources in a single call", API reference; moto reads any number).
* `install()`: moto patches for the counts that need the backend:
  AddTags beyond 50 user tags on a resource -> `TooManyTags` (moto used the
  Classic ELB limit of 10, with the Classic ELB message); more than 1,000
  targets in a target group, or more than 1,000 targets in all the target
  groups an ALB's listeners and rules forward to (RegisterTargets,
  Create/ModifyListener, Create/ModifyRule: the calls whose botocore error
  lists hold TooManyTargetsException) -> `TooManyTargets`. A target in two
  groups of one ALB counts twice (registrations are counted, as the public
  reports of this error show). A target group forwarded to by one load
  balancer named in a forward of another (Create/ModifyListener,
  Create/ModifyRule) -> `TargetGroupAssociationLimit`: an ALB target group
  belongs to one load balancer (ALB quota "Load balancers per target
  group" = 1, not adjustable).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from elbv2_fixes import referenced_tgs

TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAGS_PER_RESOURCE = 50
TARGETS_PER_TARGET_GROUP = 1000
TARGETS_PER_ALB = 1000
TAG_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
TOO_MANY_TAGS = "You've reached the limit on the number of tags for this resource."
TOO_MANY_TARGETS = "You've reached the limit on the number of targets."  # botocore's doc text
TG_ASSOCIATION = "You've reached the limit on the number of load balancers per target group."  # botocore's doc text
# AWS's wording for the per-load-balancer limit, as quoted in public bug reports
# (kubernetes/ingress-nginx#4847, kubernetes-sigs/aws-load-balancer-controller#2302).
TOO_MANY_LB_TARGETS = "The maximum number of targets per load balancer '{max}' has been reached on load balancer '{arn}'"
# Calls whose request carries a Tags list (botocore elbv2 model).
TAG_ACTIONS = {"AddTags", "CreateLoadBalancer", "CreateTargetGroup", "CreateListener", "CreateRule",
               "CreateTrustStore"}
# ARNs one DescribeTags takes (ELBv2 API reference, DescribeTags).
DESCRIBE_TAGS_MAX = 20
# Every call check_request looks at.
CHECKED_ACTIONS = TAG_ACTIONS | {"RemoveTags", "ModifyTargetGroup", "DescribeTags"}


def _char_ok(ch: str) -> bool:
    # Python's re has no \p{..}: L = letters, Z = separators (spaces), N = numbers.
    return unicodedata.category(ch)[0] in "LZN" or ch in "_.:/=+-@"


def _field_errors(value: str, where: str, lo: int, hi: int) -> list[str]:
    errs = []
    if len(value) > hi:
        errs.append(f"Value '{value}' at '{where}' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {hi}")
    if len(value) < lo:
        errs.append(f"Value '{value}' at '{where}' failed to satisfy constraint: "
                    f"Member must have length greater than or equal to {lo}")
    if not all(_char_ok(c) for c in value):
        errs.append(f"Value '{value}' at '{where}' failed to satisfy constraint: "
                    f"Member must satisfy regular expression pattern: {TAG_PATTERN}")
    return errs


def _indexed(params: dict[str, str], prefix: str, suffix: str = "") -> list[tuple[int, str]]:
    out = []
    for k, v in params.items():
        if k.startswith(prefix) and k.endswith(suffix):
            idx = k[len(prefix):len(k) - len(suffix)] if suffix else k[len(prefix):]
            if idx.isdigit():
                out.append((int(idx), v))
    return sorted(out)


# Health-check settings and their ranges (botocore elbv2 model: shapes
# HealthCheckIntervalSeconds 5..300, HealthCheckTimeoutSeconds 2..120,
# HealthCheckThresholdCount 2..10); moto checks none of them.
HEALTH_CHECK_RANGES = {
    "HealthCheckIntervalSeconds": ("healthCheckIntervalSeconds", 5, 300),
    "HealthCheckTimeoutSeconds": ("healthCheckTimeoutSeconds", 2, 120),
    "HealthyThresholdCount": ("healthyThresholdCount", 2, 10),
    "UnhealthyThresholdCount": ("unhealthyThresholdCount", 2, 10),
}


def _health_check_errors(params: dict[str, str]) -> list[str]:
    errs = []
    for name, (where, lo, hi) in HEALTH_CHECK_RANGES.items():
        raw = params.get(name)
        if raw is None:
            continue
        try:
            value = int(raw)
        except ValueError:
            errs.append(f"Value '{raw}' at '{where}' failed to satisfy constraint: Member must be an integer")
            continue
        if value < lo:
            errs.append(f"Value '{value}' at '{where}' failed to satisfy constraint: "
                        f"Member must have value greater than or equal to {lo}")
        elif value > hi:
            errs.append(f"Value '{value}' at '{where}' failed to satisfy constraint: "
                        f"Member must have value less than or equal to {hi}")
    return errs


def check_request(action: str, params: dict[str, str]) -> tuple[str, str] | None:
    """(code, message) when AWS would refuse this ELBv2 call's tags or
    health-check ranges, else None."""
    if action in ("CreateTargetGroup", "ModifyTargetGroup"):
        refused = _validation(_health_check_errors(params))
        if refused:
            return refused
    if action == "DescribeTags":
        arns = [a for _, a in _indexed(params, "ResourceArns.member.")]
        if len(arns) > DESCRIBE_TAGS_MAX:
            return _validation([f"Value '[{', '.join(arns)}]' at 'resourceArns' failed to satisfy constraint: "
                                f"Member must have length less than or equal to {DESCRIBE_TAGS_MAX}"])
        return None
    if action == "RemoveTags":
        errs = []
        for n, key in _indexed(params, "TagKeys.member."):
            errs += _field_errors(key, f"tagKeys.{n}.member", 1, TAG_KEY_MAX)
        return _validation(errs)
    if action not in TAG_ACTIONS:
        return None
    keys = dict(_indexed(params, "Tags.member.", ".Key"))
    values = dict(_indexed(params, "Tags.member.", ".Value"))
    errs = []
    for n in sorted(set(keys) | set(values)):
        if n in keys:
            errs += _field_errors(keys[n], f"tags.{n}.member.key", 1, TAG_KEY_MAX)
        if n in values:
            errs += _field_errors(values[n], f"tags.{n}.member.value", 0, TAG_VALUE_MAX)
    refused = _validation(errs)
    if refused:
        return refused
    seen: set[str] = set()
    for _n, key in sorted(keys.items()):
        if key.lower().startswith("aws:"):
            return "ValidationError", f"Tag key '{key}' cannot start with 'aws:'"
        if key in seen:
            return "DuplicateTagKeys", f"Tag key was specified more than once: {key}"
        seen.add(key)
    if action != "AddTags" and len(keys) > TAGS_PER_RESOURCE:
        return "TooManyTags", TOO_MANY_TAGS
    return None


def _validation(errs: list[str]) -> tuple[str, str] | None:
    if not errs:
        return None
    n = len(errs)
    return "ValidationError", f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(errs)


# ---------------------------------------------------------------- backend counts

def _lb_tgs(backend: Any, lb: Any, skip: Any = None) -> set[str]:
    """TGs an LB's listeners and rules forward to, leaving out `skip` (a listener
    whose default actions, or a rule whose actions, are being replaced)."""
    tgs: set[str] = set()
    for listener in lb.listeners.values():
        if listener is not skip:
            tgs |= referenced_tgs(listener.default_actions)
        for rule in listener._non_default_rules.values():
            if rule is not skip:
                tgs |= referenced_tgs(rule.actions)
    return tgs


def _count(backend: Any, tgs: set[str], extra: dict[str, int] | None = None) -> int:
    extra = extra or {}
    return sum(len(backend.target_groups[a].targets) + extra.get(a, 0) for a in tgs if a in backend.target_groups)


def _check_lb(backend: Any, lb: Any, skip: Any, new_actions: list[Any] | None) -> None:
    from moto.elbv2.exceptions import ELBClientError

    if lb is None or not new_actions:
        return
    wanted = referenced_tgs(new_actions)
    for other in backend.load_balancers.values():
        if other is not lb and wanted & _lb_tgs(backend, other):
            raise ELBClientError("TargetGroupAssociationLimit", TG_ASSOCIATION)
    tgs = _lb_tgs(backend, lb, skip) | wanted
    if _count(backend, tgs) > TARGETS_PER_ALB:
        raise ELBClientError("TooManyTargets", TOO_MANY_LB_TARGETS.format(max=TARGETS_PER_ALB, arn=lb.arn))


def _owner(backend: Any, listener_arn: str | None = None, rule_arn: str | None = None) -> tuple[Any, Any]:
    """(load balancer, listener or rule object) for an ARN, or (None, None)."""
    for lb in backend.load_balancers.values():
        for listener in lb.listeners.values():
            if listener.arn == listener_arn:
                return lb, listener
            for rule in listener._non_default_rules.values():
                if rule.arn == rule_arn:
                    return lb, rule
    return None, None


def install() -> None:
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2.models import ELBv2Backend

    if getattr(ELBv2Backend, "_alb_limits_installed", False):
        return
    ELBv2Backend._alb_limits_installed = True
    o_add_tags = ELBv2Backend.add_tags
    o_register = ELBv2Backend.register_targets
    o_create_listener = ELBv2Backend.create_listener
    o_modify_listener = ELBv2Backend.modify_listener
    o_create_rule = ELBv2Backend.create_rule
    o_modify_rule = ELBv2Backend.modify_rule

    def add_tags(self, resource_arns, tags):  # noqa: ANN001, ANN202
        new = {t["Key"] for t in tags}
        for arn in resource_arns:
            self._get_resource_by_arn(arn)
            existing = {k for k in self.tagging_service.get_tag_dict_for_resource(arn) if not k.startswith("aws:")}
            if len(existing | new) > TAGS_PER_RESOURCE:  # aws: tags do not count (ELB user guide)
                raise ELBClientError("TooManyTags", TOO_MANY_TAGS)
            self.tagging_service.tag_resource(arn, tags)

    def register_targets(self, target_group_arn, instances):  # noqa: ANN001, ANN202
        tg = self.target_groups.get(target_group_arn)
        if tg is not None:
            fresh = len({str(t["Id"]) for t in instances} - set(tg.targets))
            if len(tg.targets) + fresh > TARGETS_PER_TARGET_GROUP:
                raise ELBClientError("TooManyTargets", TOO_MANY_TARGETS)
            for lb in self.load_balancers.values():
                tgs = _lb_tgs(self, lb)
                if target_group_arn in tgs and _count(self, tgs, {target_group_arn: fresh}) > TARGETS_PER_ALB:
                    raise ELBClientError("TooManyTargets", TOO_MANY_LB_TARGETS.format(max=TARGETS_PER_ALB, arn=lb.arn))
        return o_register(self, target_group_arn, instances)

    def create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions,  # noqa: ANN001, ANN202
                        alpn_policy=None, tags=None):
        _check_lb(self, self.load_balancers.get(load_balancer_arn), None, actions)
        return o_create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions,
                                 alpn_policy, tags)

    def modify_listener(self, arn, port=None, protocol=None, ssl_policy=None, certificates=None,  # noqa: ANN001, ANN202
                        actions=None):
        lb, listener = _owner(self, listener_arn=arn)
        _check_lb(self, lb, listener, actions)
        return o_modify_listener(self, arn, port, protocol, ssl_policy, certificates, actions)

    def create_rule(self, listener_arn, conditions, priority, actions, tags=None):  # noqa: ANN001, ANN202
        lb, _listener = _owner(self, listener_arn=listener_arn)
        _check_lb(self, lb, None, actions)
        return o_create_rule(self, listener_arn, conditions, priority, actions, tags)

    def modify_rule(self, rule_arn, conditions, actions):  # noqa: ANN001, ANN202
        lb, rule = _owner(self, rule_arn=rule_arn)
        _check_lb(self, lb, rule, actions)
        return o_modify_rule(self, rule_arn, conditions, actions)

    ELBv2Backend.add_tags = add_tags
    ELBv2Backend.register_targets = register_targets
    ELBv2Backend.create_listener = create_listener
    ELBv2Backend.modify_listener = modify_listener
    ELBv2Backend.create_rule = create_rule
    ELBv2Backend.modify_rule = modify_rule
