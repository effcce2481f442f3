"""One ALB access log entry, in the documented format.

Owns: the field list and order of the ALB user guide's "Access log entries"
(every field, quoted where AWS quotes, `-` for a missing value, `-1` for a
time that has none), the escaping of the quoted fields, and building an entry
from what the data plane saw of a request (dataplane.py calls `entry` only for
load balancers with access logs on).
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone
from typing import Any

from common import lb_dimension

# ALB user guide, "Access log entries", in order; "quoted" = enclosed in double quotes.
FIELDS = [
    ("type", False), ("time", False), ("elb", False), ("client:port", False), ("target:port", False),
    ("request_processing_time", False), ("target_processing_time", False), ("response_processing_time", False),
    ("elb_status_code", False), ("target_status_code", False), ("received_bytes", False), ("sent_bytes", False),
    ("request", True), ("user_agent", True), ("ssl_cipher", False), ("ssl_protocol", False),
    ("target_group_arn", False), ("trace_id", True), ("domain_name", True), ("chosen_cert_arn", True),
    ("matched_rule_priority", False), ("request_creation_time", False), ("actions_executed", True),
    ("redirect_url", True), ("error_reason", True), ("target:port_list", True), ("target_status_code_list", True),
    ("classification", True), ("classification_reason", True), ("conn_trace_id", False),
    ("transformed_host", True), ("transformed_uri", True), ("request_transform_status", True),
]
USER_AGENT_MAX = 8192  # "If the string is longer than 8 KB, it is truncated"
# What the emulator reports for an HTTPS listener (it serves them as plain HTTP).
HTTPS_CIPHER, HTTPS_PROTOCOL = "ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2"


def escape(value: str) -> str:
    """A quoted field's content: `"` as `\\x22` (what ALB writes for a quote in
    the request line), and, as nginx does, `\\`, control characters and
    non-ASCII bytes as `\\xHH`, so a field never holds a bare quote or newline."""
    out = []
    for b in value.encode("utf-8", "surrogateescape"):
        out.append(f"\\x{b:02X}" if b in (0x22, 0x5C) or b < 0x20 or b >= 0x7F else chr(b))
    return "".join(out)


def format_line(values: dict[str, str]) -> str:
    """The entry: every field in order, `-` when missing, quoted ones in quotes."""
    parts = []
    for name, quoted in FIELDS:
        v = values.get(name)
        v = "-" if v is None or v == "" else str(v)
        parts.append(f'"{v if v == "-" else escape(v)}"' if quoted else v)
    return " ".join(parts)


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seconds(value: float | None) -> str:
    return "-1" if value is None else f"{max(value, 0.0):.3f}"


def conn_trace_id(handler: Any) -> str:
    """One traceability ID per client connection (a handler serves one)."""
    tid = getattr(handler, "_emu_tid", None)
    if tid is None:
        tid = handler._emu_tid = "TID_" + secrets.token_hex(16)
    return tid


def received_bytes(handler: Any, body_len: int) -> int:
    """Request line, headers and body as the client sent them."""
    head = sum(len(k) + len(v) + 4 for k, v in handler.headers.items()) + 2
    return len(handler.raw_requestline) + head + body_len


def entry(handler: Any, req: dict[str, Any], decision: dict[str, Any], out: dict[str, Any],
          proto: str, cert: str) -> str:
    """The entry for one answered request. `out`: `status` (what the client got),
    `received`, `dispatched`, `answered` (epoch seconds: request read, sent to
    the target, target's response read; for an answer of the load balancer's
    own, dispatched = answered = when it decided; absent = -1: no target to
    send it to, or no answer), `target` (ip, port), `target_status`, `trace_id`."""
    now = time.time()
    https = proto == "HTTPS"
    host = (req["headers"].get("host") or handler.server.server_address[0]).rsplit(":", 1)[0]
    url = f"{'https' if https else 'http'}://{host}:{decision.get('listener_port')}{req['path']}"
    if req["raw_query"]:
        url += "?" + req["raw_query"]
    target = out.get("target")
    tstatus = out.get("target_status")
    rcv, disp, ans = out["received"], out.get("dispatched"), out.get("answered")
    return format_line({
        "type": "https" if https else "http", "time": stamp(now), "elb": lb_dimension(handler.lb_arn),
        "client:port": f"{handler.client_address[0]}:{handler.client_address[1]}",
        "target:port": f"{target[0]}:{target[1]}" if target else None,
        "request_processing_time": seconds(disp - rcv if disp is not None else None),
        "target_processing_time": seconds(ans - disp if ans is not None and disp is not None else None),
        "response_processing_time": seconds(now - ans if ans is not None else None),
        "elb_status_code": str(out["status"]), "target_status_code": str(tstatus) if tstatus else None,
        "received_bytes": str(received_bytes(handler, req.get("body_len", 0))),
        "sent_bytes": str(getattr(handler, "_emu_sent", 0)),
        "request": f"{handler.command} {url} {handler.request_version}",
        "user_agent": (req["headers"].get("user-agent") or "")[:USER_AGENT_MAX] or None,
        "ssl_cipher": HTTPS_CIPHER if https else None, "ssl_protocol": HTTPS_PROTOCOL if https else None,
        "target_group_arn": decision.get("tg_arn"), "trace_id": out.get("trace_id"),
        "chosen_cert_arn": cert if https else None,
        "matched_rule_priority": str(decision.get("priority", 0)), "request_creation_time": stamp(rcv),
        "actions_executed": decision.get("executed"), "redirect_url": decision.get("redirect_url"),
        "target:port_list": f"{target[0]}:{target[1]}" if target else None,
        "target_status_code_list": str(tstatus) if tstatus else None,
        "conn_trace_id": conn_trace_id(handler),
    })
