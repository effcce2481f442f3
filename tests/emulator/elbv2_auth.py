"""ELBv2 login steps and regex conditions moto 5.2.5 does not know.

Owns: `check_jwt(action)`, `check_regex(cond)` and `install()`, which makes
moto's rule and listener writes accept, validate and return

* a `jwt-validation` action (ALB, 2025; HTTPS listeners only, before the
  terminal action, like the authenticate steps: elbv2_actions.check_list).
  Validated per botocore's elbv2 model (`JwtValidationActionConfig`):
  `JwksEndpoint` and `Issuer` required, each at most 256 characters, the
  endpoint a full `https://` URL; at most 10 `AdditionalClaims`, each with
  `Format` in single-string | string-array | space-separated-values, a
  `Name` that is not exp/iss/nbf/iat (validated by default), and 1..10
  `Values` of at most 256 characters, without spaces for
  space-separated-values. Stored and echoed byte for byte.
* `RegexValues` in the host-header, path-pattern and http-header configs
  (ALB regex matching, 2025): at most 128 characters each (the model's
  documentation), a regex that compiles; a condition may then have no
  wildcard `Values` at all (moto requires them).

moto's serializer works from botocore's model (1.44.8 has both shapes), so
once stored they are returned by DescribeRules/DescribeListeners as AWS does.
"""

from __future__ import annotations

import re
from typing import Any

JWT = "jwt-validation"
FORMATS = ("single-string", "string-array", "space-separated-values")
DEFAULT_CLAIMS = ("exp", "iss", "nbf", "iat")
MAX_URL = 256
MAX_CLAIMS = 10
MAX_REGEX = 128
REGEX_CONFIGS = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig",
                 "http-header": "HttpHeaderConfig"}


def _refuse(message: str) -> None:
    from moto.elbv2.exceptions import ValidationError

    raise ValidationError(message)


def check_jwt(action: dict[str, Any]) -> None:
    cfg = action.get("JwtValidationConfig")
    if not isinstance(cfg, dict):
        _refuse("JwtValidationConfig is required for a jwt-validation action")
    for key in ("JwksEndpoint", "Issuer"):
        v = cfg.get(key)
        if not v:
            _refuse(f"JwtValidationConfig.{key} is required")
        if len(v) > MAX_URL:
            _refuse(f"JwtValidationConfig.{key} must be at most {MAX_URL} characters")
    if not str(cfg["JwksEndpoint"]).startswith("https://"):
        _refuse("JwtValidationConfig.JwksEndpoint must be a full URL with the HTTPS protocol")
    claims = cfg.get("AdditionalClaims") or []
    if len(claims) > MAX_CLAIMS:
        _refuse(f"At most {MAX_CLAIMS} additional claims can be specified")
    for c in claims:
        if c.get("Format") not in FORMATS:
            _refuse(f"Claim format must be one of {', '.join(FORMATS)}")
        if not c.get("Name") or c["Name"] in DEFAULT_CLAIMS:
            _refuse(f"Claim name is required and cannot be one of {', '.join(DEFAULT_CLAIMS)}")
        values = c.get("Values") or []
        if not 1 <= len(values) <= MAX_CLAIMS or any(len(v) > MAX_URL for v in values):
            _refuse(f"A claim needs 1 to {MAX_CLAIMS} values of at most {MAX_URL} characters")
        if c["Format"] == "space-separated-values" and any(" " in v for v in values):
            _refuse("space-separated-values claim values cannot include spaces")


def check_regex(cond: dict[str, Any]) -> None:
    key = REGEX_CONFIGS.get(str(cond.get("Field")))
    cfg = cond.get(key) if key else None
    for r in (cfg or {}).get("RegexValues") or []:
        if not r or len(r) > MAX_REGEX:
            _refuse(f"A regex value must be 1 to {MAX_REGEX} characters")
        try:
            re.compile(r)
        except re.error as e:
            _refuse(f"Invalid regex value '{r}': {e}")


def _has_regex(cond: dict[str, Any]) -> bool:
    key = REGEX_CONFIGS.get(str(cond.get("Field")))
    return bool(key and (cond.get(key) or {}).get("RegexValues"))


def install() -> None:
    from moto.elbv2 import models

    B = models.ELBv2Backend
    if getattr(B, "_alb_auth_installed", False):
        return
    B._alb_auth_installed = True
    if JWT not in models.ALLOWED_ACTIONS:
        models.ALLOWED_ACTIONS.append(JWT)
    o_actions = B._validate_actions

    def _validate_actions(self, actions):  # noqa: ANN001, ANN202
        # Checked in elbv2_actions.normalize, on every write path.
        return o_actions(self, [a for a in actions if a.type != JWT])

    B._validate_actions = _validate_actions
    for field, name in (("host-header", "_validate_host_header_condition"),
                        ("path-pattern", "_validate_path_pattern_condition"),
                        ("http-header", "_validate_http_header_condition")):
        original = getattr(B, name)

        def checked(self, condition, _o=original):  # noqa: ANN001, ANN202
            check_regex(condition)
            if _has_regex(condition):
                key = REGEX_CONFIGS[condition["Field"]]
                if not condition[key].get("Values") and not condition.get("Values"):
                    return None  # regexes alone are a complete condition
            return _o(self, condition)

        setattr(B, name, checked)
