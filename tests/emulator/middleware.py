"""WSGI middleware in front of moto's server app.

Owns: request classification (service from the SigV4 credential scope or Host,
action from `Action=` / X-Amz-Target / the RPC v2 CBOR path), the call log
(with the ARNs each ELBv2 call named),
fault injection (latency and/or errors in the service's wire format), routing
of CloudWatch RPC v2 CBOR calls to cw.py, serialisation of moto calls under
BACKEND_LOCK, snapshots for the data plane's propagation delay after every
mutating ELBv2 call, and the `/_emu/...` control API (JSON), including the
metrics mode hooks (`/_emu/metrics`, `/_emu/metrics/flush`), the propagation
delay (`/_emu/propagation`), the served-request counters (`/_emu/served`) and
the access log hooks (`/_emu/access-logs/...`, access_logs.py).
"""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import get_input_stream

import cw
import elbv2_limits
from access_logs import ACCESS_LOGS
from common import BACKEND_LOCK, log, to_epoch
from dataplane import PLANE
from faults import CallLog, FaultRegistry, call_detail, render_error
from health import HEALTH
from metrics import METRICS
from propagation import PROPAGATION
from served import SERVED

CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
HOST_RE = re.compile(r"^([a-z0-9-]+)\.([a-z0-9-]+)\.amazonaws\.com")

CALLS = CallLog()
FAULTS = FaultRegistry()


def classify(environ: dict[str, Any], body: bytes) -> dict[str, str]:
    """Work out service, action, wire protocol, region and access key of an AWS call."""
    path = environ.get("PATH_INFO", "")
    auth = environ.get("HTTP_AUTHORIZATION", "")
    access_key, region, service = "", "us-east-1", ""
    m = CREDENTIAL_RE.search(auth)
    if m:
        access_key, region, service = m.group(1), m.group(2), m.group(3)
    else:
        hm = HOST_RE.match(environ.get("HTTP_HOST", ""))
        if hm:
            service, region = hm.group(1), hm.group(2)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    ctype = environ.get("CONTENT_TYPE", "")
    action = ""
    if path.startswith(cw.CBOR_PREFIX):
        protocol, action = "cbor", path[len(cw.CBOR_PREFIX):].strip("/")
        service = service or "monitoring"
    elif target:
        protocol, action = "json", target.rsplit(".", 1)[-1]
    else:
        protocol = "ec2" if service == "ec2" else "query"
        params = parse_qs(environ.get("QUERY_STRING", ""))
        if "x-www-form-urlencoded" in ctype or (body and b"Action=" in body[:4096]):
            try:
                params.update(parse_qs(body.decode("utf-8", "replace")))
            except Exception:
                pass
        action = (params.get("Action") or [""])[0]
    if "amz-json" in ctype and protocol != "cbor":
        protocol = "json"
    return {"service": service or "unknown", "action": action or "unknown", "protocol": protocol,
            "region": region, "access_key": access_key}


def _account_for(environ: dict[str, Any], access_key: str) -> str:
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


class EmulatorApp:
    def __init__(self, moto_app: Callable) -> None:
        self.moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_emu" or path.startswith("/_emu/"):
            return control(environ, start_response)
        body = get_input_stream(environ).read()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        if path.startswith("/moto-api"):
            return self._call_moto(environ, start_response)[2]
        info = classify(environ, body)
        params = _elbv2_params(info, body)
        named = (_detail(info, params, None) or {}).get("resources")
        fault = FAULTS.match(info["service"], info["action"], named)
        if fault and fault.get("latency_ms"):
            time.sleep(fault["latency_ms"] / 1000.0)
        if fault and "status" in fault:
            status, headers, out = render_error(info["protocol"], fault["status"], fault["code"], fault["message"])
            CALLS.add(info["service"], info["action"], status, faulted=True,
                      detail=_detail(info, params, None))
            start_response(f"{status} {_reason(status)}", headers + [("Content-Length", str(len(out)))])
            return [out]
        refused = _elbv2_refusal(info, params)
        if refused:
            status, headers, out = render_error(info["protocol"], 400, *refused)
            CALLS.add(info["service"], info["action"], status, detail=_detail(info, params, None))
            start_response(f"{status} {_reason(status)}", headers + [("Content-Length", str(len(out)))])
            return [out]
        if info["protocol"] == "cbor":
            status, headers, out = cw.handle_cbor(info["action"], body,
                                                  _account_for(environ, info["access_key"]), info["region"])
            CALLS.add(info["service"], info["action"], status, detail=cw.call_detail(info["action"], body))
            start_response(f"{status} {_reason(status)}", headers + [("Content-Length", str(len(out)))])
            return [out]
        status, _hdrs, chunks = self._call_moto(environ, start_response)
        created = b"".join(chunks) if status < 300 else None
        CALLS.add(info["service"], info["action"], status, detail=_detail(info, params, created))
        if info["service"] == "elasticloadbalancing" and not info["action"].startswith("Describe"):
            # stamp the change now: the data plane applies it PROPAGATION.delay later
            PROPAGATION.capture()
        return chunks

    def _call_moto(self, environ: dict[str, Any], start_response: Callable) -> tuple[int, list, list[bytes]]:
        captured: dict[str, Any] = {}

        def sr(status: str, headers: list, exc_info: Any = None) -> Callable:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        with BACKEND_LOCK:
            result = self.moto_app(environ, sr)
            try:
                chunks = [bytes(c) for c in result]
            finally:
                if hasattr(result, "close"):
                    result.close()
        start_response(captured["status"], captured["headers"])
        return int(captured["status"].split()[0]), captured["headers"], chunks


def _elbv2_params(info: dict[str, str], body: bytes) -> dict[str, str] | None:
    """The awsQuery parameters of an ELBv2 call; None for any other call."""
    if info["service"] != "elasticloadbalancing" or info["protocol"] != "query":
        return None
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _detail(info: dict[str, str], params: dict[str, str] | None, response: bytes | None) -> dict[str, Any] | None:
    """What the call log records beyond service, action and status (faults.call_detail)."""
    return None if params is None else call_detail(params, response, info["action"])


def _elbv2_refusal(info: dict[str, str], params: dict[str, str] | None) -> tuple[str, str] | None:
    """(code, message) when AWS would refuse this ELBv2 call's parameters (elbv2_limits.py)."""
    if params is None or info["action"] not in elbv2_limits.CHECKED_ACTIONS:
        return None
    return elbv2_limits.check_request(info["action"], params)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# ---------------------------------------------------------------- control API

def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str), status=status, mimetype="application/json")


def reset_all() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    with BACKEND_LOCK:
        moto_api_backend.reset()
        FAULTS.clear()
        CALLS.clear()
        HEALTH.reset()
        PLANE.reset()
        METRICS.reset()
        PROPAGATION.reset()
        SERVED.reset()
        ACCESS_LOGS.reset()


def raw_metrics(namespace: str | None) -> list[dict[str, Any]]:
    from moto.cloudwatch.models import cloudwatch_backends

    out = []
    with BACKEND_LOCK:
        for acct, region, backend in cloudwatch_backends.iter_backends():
            for md in list(backend.metric_data):
                if namespace and md.namespace != namespace:
                    continue
                out.append({"account": acct, "region": region, "namespace": md.namespace, "name": md.name,
                            "dimensions": {d.name: d.value for d in md.dimensions},
                            "timestamp": to_epoch(md.timestamp), "unit": md.unit,
                            "value": getattr(md, "value", None)})
    return out


def control(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    req = Request(environ)
    route = req.path.rstrip("/")
    method = req.method
    try:
        body = req.get_json(force=True, silent=True) if method in ("POST", "PUT") else None
        if method in ("POST", "PUT") and body is None and req.get_data():
            raise ValueError("body is not valid JSON")
        body = body or {}
        if route == "/_emu/health":
            resp = _json({"ok": True})
        elif route == "/_emu/reset" and method == "POST":
            reset_all()
            resp = _json({"ok": True})
        elif route == "/_emu/calls":
            if method == "DELETE":
                CALLS.clear()
                resp = _json({"ok": True})
            else:
                resp = _json({"calls": CALLS.list()})
        elif route == "/_emu/faults":
            if method == "POST":
                items = body if isinstance(body, list) else [body]
                added = [FAULTS.add(f) for f in items]
                resp = _json({"ok": True, "faults": added})
            elif method == "DELETE":
                FAULTS.clear()
                resp = _json({"ok": True})
            else:
                resp = _json({"faults": FAULTS.list()})
        elif route == "/_emu/target-health":
            if method == "POST":
                resp = _json({"ok": True, "forced": HEALTH.force(body)})
            elif method == "DELETE":
                HEALTH.clear_forced()
                resp = _json({"ok": True})
            else:
                resp = _json({"forced": HEALTH.list_forced()})
        elif route == "/_emu/dataplane":
            PLANE.sync()
            resp = _json({"listeners": PLANE.describe()})
        elif route == "/_emu/propagation":
            if method == "POST":
                if not isinstance(body, dict):
                    raise ValueError("body must be a JSON object like {\"delay\": 3}")
                resp = _json({"ok": True, **PROPAGATION.configure(body.get("delay"))})
            else:
                resp = _json(PROPAGATION.config())
        elif route == "/_emu/served":
            since = req.args.get("since")
            resp = _json(SERVED.snapshot(float(since) if since is not None else None))
        elif route == "/_emu/metrics/raw":
            resp = _json({"metrics": raw_metrics(req.args.get("namespace"))})
        elif route == "/_emu/metrics":
            if method == "POST" and not isinstance(body, dict):
                raise ValueError("body must be a JSON object like {\"mode\": \"fast\", \"delay\": 90}")
            if method == "POST":
                resp = _json({"ok": True, **METRICS.configure(body.get("mode"), body.get("delay"))})
            else:
                resp = _json(METRICS.config())
        elif route == "/_emu/metrics/flush" and method == "POST":
            if not isinstance(body, dict):
                raise ValueError("body must be empty or a JSON object like {\"now\": 1800000000}")
            # Test-only. No body: publish everything pending now, the current
            # partial bucket included. {"now": EPOCH}: publish what would be
            # visible at that instant (lets a test step time without waiting).
            if "now" in body:
                resp = _json({"ok": True, "published": METRICS.flush(now=float(body["now"]))})
            else:
                resp = _json({"ok": True, "published": METRICS.flush(all_=True)})
        elif (logs := ACCESS_LOGS.control(route, method, body)) is not None:
            resp = _json(logs)
        else:
            resp = _json({"error": f"no such control endpoint: {method} {req.path}"}, 404)
    except (ValueError, TypeError, KeyError) as e:
        resp = _json({"error": str(e)}, 400)
    except Exception as e:  # pragma: no cover
        log.exception("control endpoint failed")
        resp = _json({"error": repr(e)}, 500)
    return resp(environ, start_response)
