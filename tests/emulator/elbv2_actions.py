"""ELBv2 action lists the way AWS checks and echoes them.

Owns: `install()`, which wraps moto's `create_listener`, `modify_listener`,
`create_rule` and `modify_rule` so that

1. every action list is refused where AWS refuses it (moto accepts weights
   over 999, six groups, duplicate groups, a stickiness duration of 0, a
   `TargetGroupArn` that disagrees with `ForwardConfig`, unknown target
   groups on ModifyListener, authenticate actions on HTTP listeners, an
   HTTPS listener whose certificate does not exist, ...);
2. the stored list is what AWS echoes, so DescribeListeners/DescribeRules and
   the Create/Modify answers all match AWS: a forward always carries
   `ForwardConfig` with a weight on every group (default 1) and a
   `TargetGroupStickinessConfig` (default `Enabled: false`), and a one-group
   forward carries `TargetGroupArn` as well (moto echoes what was sent);
3. an OIDC `ClientSecret` is kept but never echoed, a create must send one
   (CreateRule/CreateListener have no existing secret to use), and a modify
   must send one or say `UseExistingClientSecret` (moto echoes the secret
   back). `jwt-validation` is a login step like the authenticate ones
   (its config is checked by elbv2_auth.py).

Sources for each rule are in the module comment of `src/alb/route_sdk.rs`.
"""

from __future__ import annotations

import copy
from typing import Any

TERMINAL = ("forward", "redirect", "fixed-response")
AUTH = ("authenticate-oidc", "authenticate-cognito", "jwt-validation")
MAX_GROUPS = 5
MAX_WEIGHT = 999
MAX_STICKY = 604800
MAX_ORDER = 50000
# Private key for the stored secret: moto's serializer emits model members only.
SECRET = "_ClientSecret"


def _refuse(message: str) -> None:
    from moto.elbv2.exceptions import ValidationError

    raise ValidationError(message)


def _order(a: dict[str, Any]) -> int:
    return int(a.get("Order") or 0)


def check_list(actions: list[dict[str, Any]], protocol: str | None) -> None:
    """Refuse a list AWS would refuse: one terminal action, last, orders set."""
    if not actions:
        _refuse("At least one action must be specified")
    if len(actions) > 1:
        orders = [a.get("Order") for a in actions]
        if any(o is None for o in orders):
            _refuse("Order is required for every action when a rule has more than one action")
        if len(set(orders)) != len(orders):
            _refuse("Action orders must be unique")
    for a in actions:
        if a.get("Order") is not None and not 1 <= int(a["Order"]) <= MAX_ORDER:
            _refuse(f"Action order must be between 1 and {MAX_ORDER}")
    ordered = sorted(actions, key=_order)
    terminal = [a for a in ordered if a.get("Type") in TERMINAL]
    if len(terminal) != 1 or ordered[-1] is not terminal[0]:
        _refuse("Exactly one forward, redirect or fixed-response action is required, and it must be the last action")
    for a in ordered[:-1]:
        if a.get("Type") not in AUTH:
            _refuse(f"Action type '{a.get('Type')}' cannot come before the last action")
        if protocol != "HTTPS":
            _refuse(f"Action type '{a.get('Type')}' is only supported on HTTPS listeners")


def check_forward(backend: Any, a: dict[str, Any]) -> None:
    from moto.elbv2.exceptions import ActionTargetGroupNotFoundError

    tga = a.get("TargetGroupArn")
    groups = (a.get("ForwardConfig") or {}).get("TargetGroups") or []
    if not tga and not groups:
        _refuse("A target group ARN or a forward config must be specified for a forward action")
    if tga and groups and (len(groups) != 1 or groups[0].get("TargetGroupArn") != tga):
        _refuse("If you specify both TargetGroupArn and ForwardConfig, ForwardConfig must name only that target group")
    if len(groups) > MAX_GROUPS:
        _refuse(f"A forward action can have at most {MAX_GROUPS} target groups")
    arns = [g.get("TargetGroupArn") for g in groups]
    if len(set(arns)) != len(arns):
        _refuse("A target group can appear only once in a forward action")
    for g in groups:
        w = g.get("Weight")
        if w is not None and not 0 <= int(w) <= MAX_WEIGHT:
            _refuse(f"Target group weight must be between 0 and {MAX_WEIGHT}")
    for arn in ([tga] if tga else []) + arns:
        if arn not in backend.target_groups:
            raise ActionTargetGroupNotFoundError(arn)
    sticky = (a.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig") or {}
    duration = sticky.get("DurationSeconds")
    if duration is not None and not 1 <= int(duration) <= MAX_STICKY:
        _refuse(f"Target group stickiness duration must be between 1 and {MAX_STICKY} seconds")
    if sticky.get("Enabled") and duration is None:
        _refuse("Target group stickiness duration must be specified when stickiness is enabled")


def echo_forward(a: dict[str, Any]) -> dict[str, Any]:
    """The forward as AWS stores and echoes it."""
    fc = a.get("ForwardConfig") or {}
    groups = [{"TargetGroupArn": g["TargetGroupArn"], "Weight": int(1 if g.get("Weight") is None else g["Weight"])}
              for g in fc.get("TargetGroups") or []]
    if not groups:
        groups = [{"TargetGroupArn": a["TargetGroupArn"], "Weight": 1}]
    sticky = dict(fc.get("TargetGroupStickinessConfig") or {})
    sticky["Enabled"] = bool(sticky.get("Enabled", False))
    out: dict[str, Any] = {"Type": "forward"}
    if a.get("Order") is not None:
        out["Order"] = int(a["Order"])
    if len(groups) == 1:
        out["TargetGroupArn"] = groups[0]["TargetGroupArn"]
    out["ForwardConfig"] = {"TargetGroups": groups, "TargetGroupStickinessConfig": sticky}
    return out


def echo_oidc(a: dict[str, Any], existing: list[Any]) -> dict[str, Any]:
    """Keep the secret out of the echo; resolve UseExistingClientSecret."""
    out = copy.deepcopy(a)
    cfg = out.get("AuthenticateOidcConfig") or {}
    secret = cfg.pop("ClientSecret", None)
    use_existing = cfg.pop("UseExistingClientSecret", False)
    if secret is None and use_existing:
        secret = next((d.get("AuthenticateOidcConfig", {}).get(SECRET) for d in _datas(existing)
                       if d.get("Type") == "authenticate-oidc"), None)
        if secret is None:
            _refuse("UseExistingClientSecret is set but the rule has no existing client secret")
    if secret is None:
        _refuse("ClientSecret is required for an authenticate-oidc action")
    cfg[SECRET] = secret
    out["AuthenticateOidcConfig"] = cfg
    return out


def _datas(actions: list[Any]) -> list[dict[str, Any]]:
    return [a.data if hasattr(a, "data") else a for a in actions or []]


def normalize(backend: Any, actions: list[dict[str, Any]], protocol: str | None,
              existing: list[Any]) -> list[dict[str, Any]]:
    """Validate like AWS and return the list AWS would echo."""
    check_list(actions, protocol)
    out = []
    for a in actions:
        if a.get("Type") == "forward":
            check_forward(backend, a)
            out.append(echo_forward(a))
        elif a.get("Type") == "authenticate-oidc":
            out.append(echo_oidc(a, existing))
        elif a.get("Type") == "jwt-validation":
            import elbv2_auth

            elbv2_auth.check_jwt(a)
            out.append(copy.deepcopy(a))
        else:
            out.append(copy.deepcopy(a))
    return out


def _listener(backend: Any, arn: str) -> Any:
    return backend.describe_listeners(load_balancer_arn=None, listener_arns=[arn])[0]


def _check_certificate(backend: Any, protocol: str | None, certificate: str | None) -> None:
    if protocol != "HTTPS":
        return
    if not certificate:
        _refuse("A certificate must be specified for HTTPS listeners")
    if not backend._certificate_exists(certificate_arn=certificate):
        from moto.elbv2.exceptions import ELBClientError

        raise ELBClientError("CertificateNotFound", f"Certificate '{certificate}' not found")


def install() -> None:
    from moto.elbv2.models import ELBv2Backend

    if getattr(ELBv2Backend, "_alb_actions_installed", False):
        return
    ELBv2Backend._alb_actions_installed = True

    o_create_listener = ELBv2Backend.create_listener
    o_modify_listener = ELBv2Backend.modify_listener
    o_create_rule = ELBv2Backend.create_rule
    o_modify_rule = ELBv2Backend.modify_rule

    def create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions,  # noqa: ANN001, ANN202
                        alpn_policy=None, tags=None):
        _check_certificate(self, protocol, certificate)
        actions = normalize(self, actions, protocol, [])
        return o_create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions,
                                 alpn_policy, tags)

    def modify_listener(self, arn, port=None, protocol=None, ssl_policy=None, certificates=None,  # noqa: ANN001, ANN202
                        actions=None):
        if actions:
            listener = _listener(self, arn)
            actions = normalize(self, actions, protocol or listener.protocol, listener.default_actions)
        return o_modify_listener(self, arn, port, protocol, ssl_policy, certificates, actions)

    def create_rule(self, listener_arn, conditions, priority, actions, tags=None):  # noqa: ANN001, ANN202
        actions = normalize(self, actions, _listener(self, listener_arn).protocol, [])
        return o_create_rule(self, listener_arn, conditions, priority, actions, tags)

    def modify_rule(self, rule_arn, conditions, actions):  # noqa: ANN001, ANN202
        if actions:
            rules = self.describe_rules(listener_arn=None, rule_arns=[rule_arn])
            if rules:
                protocol = _listener(self, rules[0].listener_arn).protocol
                actions = normalize(self, actions, protocol, rules[0].actions)
        return o_modify_rule(self, rule_arn, conditions, actions)

    ELBv2Backend.create_listener = create_listener
    ELBv2Backend.modify_listener = modify_listener
    ELBv2Backend.create_rule = create_rule
    ELBv2Backend.modify_rule = modify_rule
