"""Call log and fault injection for AWS API calls.

Owns: the ordered log of every AWS API call the emulator received (not
`/_emu` hooks), with the ELBv2 resources each one named (what IAM would
authorize it on: `resources`, and for CreateRule the `created` rule and
whether it carried `tags`), the registry of injected faults, and rendering of error
responses in each protocol's wire format (awsQuery XML, EC2 XML, AWS JSON,
Smithy RPC v2 CBOR).
"""

from __future__ import annotations

import json
import random
import re
import threading
import uuid
from typing import Any
from xml.sax.saxutils import escape

import cbor2

# Fault "service" aliases: a fault for either name matches calls of the other.
SERVICE_ALIASES = {
    "cloudwatch": "monitoring",
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
}


def canonical_service(name: str) -> str:
    name = (name or "").strip().lower()
    return SERVICE_ALIASES.get(name, name)


class CallLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[dict[str, Any]] = []
        self._seq = 0

    def add(self, service: str, action: str, status: int, faulted: bool = False,
            detail: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, "service": service, "action": action, "status": status}
            if faulted:
                entry["faulted"] = True
            entry.update(detail or {})
            self._calls.append(entry)

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._calls]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._seq = 0


# The awsQuery parameters of ELBv2 calls that name a resource by ARN: the
# single ones, and the lists (`ResourceArns.member.1`, ...).
ARN_PARAMS = ("ListenerArn", "RuleArn", "TargetGroupArn", "LoadBalancerArn")
ARN_LISTS = ("ResourceArns", "ListenerArns", "RuleArns", "TargetGroupArns", "LoadBalancerArns")
CREATED_RE = re.compile(rb"<RuleArn>([^<]+)</RuleArn>")


def call_detail(params: dict[str, str], response: bytes | None, action: str) -> dict[str, Any]:
    """The resources an ELBv2 call named (`resources`, in request order); for
    a successful CreateRule the rule it created (`created`) and whether the
    request carried tags (`tags`: IAM then also authorizes AddTags on it)."""
    resources = [params[k] for k in ARN_PARAMS if params.get(k)]
    for key in ARN_LISTS:
        n = 1
        while params.get(f"{key}.member.{n}"):
            resources.append(params[f"{key}.member.{n}"])
            n += 1
    detail: dict[str, Any] = {"resources": resources}
    if action == "CreateRule":
        detail["tags"] = bool(params.get("Tags.member.1.Key"))
        if response:
            detail["created"] = [m.decode() for m in CREATED_RE.findall(response)][:1]
    return detail


class FaultRegistry:
    """Faults are checked in insertion order; the first matching one applies.

    A fault with `count` is consumed once per matching call and removed when it
    reaches 0. A fault with `probability` applies with that chance (never
    consumed). A fault with neither applies to every matching call. A fault
    with `resource` (an ARN) matches only ELBv2 calls that name it (the call
    log's `resources`: a CreateRule on that listener, a ModifyRule of that rule).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[dict[str, Any]] = []
        self._next_id = 0

    def add(self, spec: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise ValueError("fault must be a JSON object")
        fault = {
            "service": str(spec.get("service", "*")),
            "action": str(spec.get("action", "*")),
        }
        if "status" in spec or "code" in spec:
            fault["status"] = int(spec.get("status", 400))
            fault["code"] = str(spec.get("code", "Throttling"))
            fault["message"] = str(spec.get("message", "Injected fault"))
        if "latency_ms" in spec:
            fault["latency_ms"] = int(spec["latency_ms"])
        if "status" not in fault and "latency_ms" not in fault:
            raise ValueError("fault needs status/code and/or latency_ms")
        if "count" in spec and spec["count"] is not None:
            fault["count"] = int(spec["count"])
            if fault["count"] <= 0:
                raise ValueError("count must be > 0")
        if "probability" in spec and spec["probability"] is not None:
            fault["probability"] = float(spec["probability"])
        if spec.get("resource") is not None:
            fault["resource"] = str(spec["resource"])
        with self._lock:
            self._next_id += 1
            fault["id"] = self._next_id
            self._faults.append(fault)
        return dict(fault)

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(f) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def match(self, service: str, action: str, resources: list[str] | None = None) -> dict[str, Any] | None:
        svc = canonical_service(service)
        with self._lock:
            for fault in self._faults:
                fsvc = fault["service"]
                if fsvc != "*" and canonical_service(fsvc) != svc:
                    continue
                if fault["action"] != "*" and fault["action"].lower() != action.lower():
                    continue
                if "resource" in fault and fault["resource"] not in (resources or []):
                    continue
                if "probability" in fault and random.random() >= fault["probability"]:
                    continue
                if "count" in fault:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self._faults.remove(fault)
                return dict(fault)
        return None


def render_error(protocol: str, status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Render an AWS error response. protocol: query | ec2 | json | cbor."""
    request_id = str(uuid.uuid4())
    fault_type = "Sender" if status < 500 else "Receiver"
    if protocol == "cbor":
        body = cbor2.dumps({"__type": f"com.amazonaws.cloudwatch#{code}", "message": message})
        headers = [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("x-amzn-query-error", f"{code};{fault_type}"),
            ("x-amzn-RequestId", request_id),
        ]
        return status, headers, body
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", code),
            ("x-amzn-query-error", f"{code};{fault_type}"),
            ("x-amzn-RequestId", request_id),
        ]
        return status, headers, body
    if protocol == "ec2":
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode()
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<ErrorResponse><Error>"
        f"<Type>{fault_type}</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode()
