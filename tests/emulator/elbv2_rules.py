"""ELBv2 listener-rule limits AWS enforces that moto does not.

Owns: `check_conditions(conditions)` and `install()`, which wraps moto's
`create_rule`, `modify_rule` and `set_rule_priorities` so that the emulator
refuses what AWS refuses:

* Priority outside 1..50000 (botocore elbv2 model, shape RulePriority; the
  Coral-style ValidationError text AWS gives for a range constraint). moto
  already answers `PriorityInUse` for a taken priority.
* More than 100 rules on one load balancer, default rules excluded (ALB quotas
  page, "Rules per Application Load Balancer"; botocore's TooManyRules text).
  Counted across every listener of the load balancer, as the quota is.
* Conditions (RuleCondition API reference and the ALB quotas page): at most
  one each of host-header, http-request-method, path-pattern and source-ip;
  more than 5 condition values, or more than 5 wildcards (`*`, `?`; in a query
  string `\\*` and `\\?` are literal) in one rule; an empty value; a value,
  query key or path over 128 characters; a header name over 40 characters or
  not an RFC 7230 token, or `Host`; a source-ip value that is not a CIDR.
  botocore lists no dedicated error for these, so they are `ValidationError`;
  the message texts are the emulator's own (AWS's exact wording is not
  published).

The user guide also names 3 comparison strings per condition, while
SourceIpConditionConfig allows 5 values; that per-condition limit is not
enforced here (the per-rule 5 is).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

MIN_PRIORITY = 1
MAX_PRIORITY = 50000
RULES_PER_ALB = 100
VALUES_PER_RULE = 5
WILDCARDS_PER_RULE = 5
VALUE_MAX = 128
HEADER_NAME_MAX = 40
ONCE = ("host-header", "http-request-method", "path-pattern", "source-ip")
CONFIG = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig",
          "http-header": "HttpHeaderConfig", "query-string": "QueryStringConfig",
          "source-ip": "SourceIpConfig", "http-request-method": "HttpRequestMethodConfig"}
TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
TOO_MANY_RULES = "You've reached the limit on the number of rules per load balancer."


def _refuse(message: str) -> None:
    from moto.elbv2.exceptions import ValidationError

    raise ValidationError(message)


def _values(cond: dict[str, Any]) -> list[Any]:
    field = cond.get("Field")
    cfg = cond.get(CONFIG.get(field, ""))
    if isinstance(cfg, dict) and cfg.get("Values") is not None:
        return list(cfg["Values"])
    return list(cond.get("Values") or [])


def wildcards(text: str, escapes: bool) -> int:
    n, i = 0, 0
    while i < len(text):
        if escapes and text[i] == "\\":
            i += 2
            continue
        n += text[i] in "*?"
        i += 1
    return n


def _strings(cond: dict[str, Any]) -> list[tuple[str, bool]]:
    """(string, escapes) for every string a condition compares, keys included."""
    if cond.get("Field") == "query-string":
        out = []
        for kv in _values(cond):
            if kv.get("Key") is not None:
                out.append((str(kv["Key"]), True))
            out.append((str(kv.get("Value", "")), True))
        return out
    return [(str(v), False) for v in _values(cond)]


def check_priority(priority: Any) -> None:
    p = int(priority)
    if p < MIN_PRIORITY:
        _refuse(f"1 validation error detected: Value '{p}' at 'priority' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {MIN_PRIORITY}")
    if p > MAX_PRIORITY:
        _refuse(f"1 validation error detected: Value '{p}' at 'priority' failed to satisfy constraint: "
                f"Member must have value less than or equal to {MAX_PRIORITY}")


def _regexes(cond: dict[str, Any]) -> list[Any]:
    cfg = cond.get(CONFIG.get(cond.get("Field"), ""))
    return list((cfg or {}).get("RegexValues") or []) if isinstance(cfg, dict) else []


def _check_one(cond: dict[str, Any]) -> None:
    field = cond.get("Field")
    values = _values(cond)
    if not values and not _regexes(cond):  # RegexValues alone are a condition (elbv2_auth)
        _refuse(f"A condition value must be specified for '{field}'")
    for text, _esc in _strings(cond):
        if text == "":
            _refuse(f"A '{field}' condition value cannot be empty")
        if len(text) > VALUE_MAX:
            _refuse(f"The '{field}' value '{text}' is too long; the limit is '{VALUE_MAX}'")
    if field == "http-header":
        name = str((cond.get("HttpHeaderConfig") or {}).get("HttpHeaderName") or "")
        if not name or len(name) > HEADER_NAME_MAX or not TOKEN.match(name) or "*" in name:
            _refuse(f"The HTTP header name '{name}' is not valid: 1 to {HEADER_NAME_MAX} characters, "
                    "an RFC 7230 token, no wildcards")
        if name.lower() == "host":
            _refuse("You cannot use an HTTP header condition for the host header; use a host-header condition")
    if field == "source-ip":
        for v in values:
            try:
                ipaddress.ip_network(str(v), strict=False)
            except ValueError:
                _refuse(f"The source-ip value '{v}' is not a valid CIDR block")
            if "/" not in str(v):
                _refuse(f"The source-ip value '{v}' must be in CIDR format")


def check_conditions(conditions: list[dict[str, Any]]) -> None:
    """Refuse a rule's condition list where AWS would."""
    for field in ONCE:
        if sum(1 for c in conditions if c.get("Field") == field) > 1:
            _refuse(f"A rule can have only one '{field}' condition")
    for cond in conditions:
        _check_one(cond)
    n_values = sum(len(_values(c)) + len(_regexes(c)) for c in conditions)
    if n_values > VALUES_PER_RULE:
        _refuse(f"A rule can only have '{VALUES_PER_RULE}' condition values; this one has '{n_values}'")
    n_wild = sum(wildcards(t, esc) for c in conditions for t, esc in _strings(c))
    if n_wild > WILDCARDS_PER_RULE:
        _refuse(f"A rule can only have '{WILDCARDS_PER_RULE}' wildcards; this one has '{n_wild}'")


def _lb_rule_count(backend: Any, listener_arn: str) -> int:
    for lb in backend.load_balancers.values():
        if any(listener.arn == listener_arn for listener in lb.listeners.values()):
            return sum(len(listener._non_default_rules) for listener in lb.listeners.values())
    return 0


def install() -> None:
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2.models import ELBv2Backend

    if getattr(ELBv2Backend, "_alb_rules_installed", False):
        return
    ELBv2Backend._alb_rules_installed = True
    o_create_rule = ELBv2Backend.create_rule
    o_modify_rule = ELBv2Backend.modify_rule
    o_set_priorities = ELBv2Backend.set_rule_priorities

    def create_rule(self, listener_arn, conditions, priority, actions, tags=None):  # noqa: ANN001, ANN202
        check_priority(priority)
        check_conditions(conditions or [])
        if _lb_rule_count(self, listener_arn) >= RULES_PER_ALB:
            raise ELBClientError("TooManyRules", TOO_MANY_RULES)
        return o_create_rule(self, listener_arn, conditions, priority, actions, tags)

    def modify_rule(self, rule_arn, conditions, actions):  # noqa: ANN001, ANN202
        if conditions:
            check_conditions(conditions)
        return o_modify_rule(self, rule_arn, conditions, actions)

    def set_rule_priorities(self, rule_priorities):  # noqa: ANN001, ANN202
        for rp in rule_priorities:
            check_priority(rp["Priority"])
        return o_set_priorities(self, rule_priorities)

    ELBv2Backend.create_rule = create_rule
    ELBv2Backend.modify_rule = modify_rule
    ELBv2Backend.set_rule_priorities = set_rule_priorities
