"""Rule conditions of an emulated ALB listener.

Owns: matching one rule condition against a request as ALB does (path-pattern,
host-header, http-header, http-request-method, query-string, source-ip, and
the RegexValues of the path, host and header configs), with AWS's wildcards
(`*`, `?`, and `\\*` / `\\?` literals in query strings). Split out of
dataplane.py, which re-exports `condition_matches` and `glob_match`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any


def glob_match(pattern: str, value: str, ignore_case: bool, escapes: bool = False) -> bool:
    """AWS's rule wildcards: `*` any run, `?` exactly one character, over the
    whole value. `escapes`: `\\*` and `\\?` are literal (query strings only,
    QueryStringConditionConfig)."""
    parts, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if escapes and ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    flags = re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL
    return re.fullmatch("".join(parts), value, flags) is not None


def _values(cond: dict[str, Any], config_key: str) -> list[Any]:
    cfg = cond.get(config_key)
    if isinstance(cfg, dict) and cfg.get("Values") is not None:
        return list(cfg["Values"])
    return list(cond.get("Values") or [])


def _regex_match(cond: dict[str, Any], config_key: str, values: list[str], ignore_case: bool) -> bool:
    """`RegexValues` of the field's config: any regex found in any value."""
    flags = re.IGNORECASE if ignore_case else 0
    regexes = (cond.get(config_key) or {}).get("RegexValues") or []
    return any(re.search(r, v, flags) for r in regexes for v in values)


def condition_matches(cond: dict[str, Any], req: dict[str, Any]) -> bool:
    if _regex_only_match(cond, req):
        return True
    field = (cond.get("Field") or "").lower()
    if field == "path-pattern":
        return any(glob_match(v, req["path"], False) for v in _values(cond, "PathPatternConfig"))
    if field == "host-header":
        host = req["headers"].get("host", "")
        bare = host.rsplit(":", 1)[0] if ":" in host and not host.endswith("]") else host
        return any(glob_match(v, host, True) or glob_match(v, bare, True)
                   for v in _values(cond, "HostHeaderConfig"))
    if field == "http-header":
        cfg = cond.get("HttpHeaderConfig") or {}
        name = (cfg.get("HttpHeaderName") or "").lower()
        # AWS searches every occurrence of a repeated header, in order.
        got = (req.get("header_lists") or {}).get(name)
        if got is None:
            got = [req["headers"][name]] if name in req["headers"] else []
        return any(glob_match(v, h, True) for h in got for v in cfg.get("Values") or [])
    if field == "http-request-method":
        return req["method"].upper() in [str(v).upper() for v in _values(cond, "HttpRequestMethodConfig")]
    if field == "query-string":
        pairs = req["query"]
        for kv in _values(cond, "QueryStringConfig"):
            key, val = kv.get("Key"), kv.get("Value", "*")
            for k, v in pairs:
                if (key is None or glob_match(key, k, True, True)) and glob_match(val, v, True, True):
                    return True
        return False
    if field == "source-ip":
        try:
            ip = ipaddress.ip_address(req["source_ip"])
        except ValueError:
            return False
        for cidr in _values(cond, "SourceIpConfig"):
            try:
                if ip in ipaddress.ip_network(cidr, strict=False):
                    return True
            except ValueError:
                continue
        return False
    return False  # unknown condition type never matches


def _regex_only_match(cond: dict[str, Any], req: dict[str, Any]) -> bool:
    field = (cond.get("Field") or "").lower()
    if field == "path-pattern":
        return _regex_match(cond, "PathPatternConfig", [req["path"]], False)
    if field == "host-header":
        return _regex_match(cond, "HostHeaderConfig", [req["headers"].get("host", "")], True)
    if field == "http-header":
        name = ((cond.get("HttpHeaderConfig") or {}).get("HttpHeaderName") or "").lower()
        got = (req.get("header_lists") or {}).get(name)
        if got is None:
            got = [req["headers"][name]] if name in req["headers"] else []
        return _regex_match(cond, "HttpHeaderConfig", got, False)
    return False
