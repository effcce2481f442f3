"""The login steps of an emulated ALB route (authenticate-oidc,
authenticate-cognito, jwt-validation): what ALB answers a request that has
not passed them, so a rule that skips the route's login shows up as a
request reaching its target without logging in."""
from __future__ import annotations

from typing import Any


LOGIN_TYPES = ("authenticate-oidc", "authenticate-cognito", "jwt-validation")


def login_gate(actions: list[Any], req: dict[str, Any]) -> dict[str, Any] | None:
    """What ALB answers a request that has not passed the route's login steps
    (None: it passed them all). ALB runs the actions by Order; the emulator
    cannot verify an IdP's session cookie or a token's signature, so a
    session cookie of the configured name (``NAME`` or a ``NAME-0`` shard) is
    a logged-in browser and any ``Authorization: Bearer`` token of three
    dot-separated parts a valid JWT. Without them: OnUnauthenticatedRequest
    ``authenticate`` (the default) redirects to the IdP (302), ``deny``
    answers 401, ``allow`` passes; a missing or malformed JWT is a 401."""
    datas = [a.data if hasattr(a, "data") else a for a in actions or []]
    datas.sort(key=lambda d: int(d.get("Order") or 0))
    for d in datas:
        kind = str(d.get("Type", "")).lower()
        if kind not in LOGIN_TYPES:
            continue
        if kind == "jwt-validation":
            auth = req["headers"].get("authorization") or ""
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or token.count(".") != 2:
                return {"kind": "fixed", "status": 401, "ctype": "text/html",
                        "body": "<html><body><h1>401 Authorization Required</h1></body></html>"}
            continue
        cfg = d.get("AuthenticateOidcConfig") or d.get("AuthenticateCognitoConfig") or {}
        name = cfg.get("SessionCookieName") or "AWSELBAuthSessionCookie"
        if name in req["cookies"] or f"{name}-0" in req["cookies"]:
            continue
        mode = str(cfg.get("OnUnauthenticatedRequest") or "authenticate").lower()
        if mode == "allow":
            continue
        if mode == "deny":
            return {"kind": "fixed", "status": 401, "ctype": "text/html",
                    "body": "<html><body><h1>401 Authorization Required</h1></body></html>"}
        idp = cfg.get("AuthorizationEndpoint") or f"https://{cfg.get('UserPoolDomain', 'auth')}/oauth2/authorize"
        return {"kind": "redirect", "status": 302, "location": idp}
    return None
