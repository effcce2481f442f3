"""Emulated ALB data plane.

Owns: one real HTTP server (127.0.0.1, ephemeral port) per HTTP/HTTPS listener
found in moto's ELBv2 backends (discovered by polling every 0.3s), and the
per-request routing that reads the listener's CURRENT rules from moto:
rules by priority then the default action; conditions path-pattern,
host-header, http-header (Cookie too), query-string, source-ip (client is
127.0.0.1 unless the `X-Emu-Source-Ip` header says otherwise) and
http-request-method; actions forward (single TG or weighted ForwardConfig with
TG stickiness via the `AWSALBTG` cookie), fixed-response and redirect.
Rules, actions and each TG's target set are read from the snapshot that has
propagated (propagation.py: `--propagation-delay`, default 3 s, like ALB
nodes applying a change seconds after the API returned). Within a TG, targets
are picked round-robin among those targets whose LIVE health (health.py) is
healthy (not initial/unhealthy/draining/unused/unavailable; a target whose
deregistration has not propagated yet still counts); the request is proxied
over HTTP to IP:port (loopback targets only) and counted in served.py. No
eligible target -> 503, target connection failure (or non-loopback target)
-> 502, no answer within the idle timeout (60 s) -> 504. HTTPS listeners are served as plain HTTP. Conditions are matched by
rule_match.py. On a load balancer with access logs on, every answer also
gives an access log entry (access_logs.py), buffered before it is sent.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import access_log_format
from access_logs import ACCESS_LOGS
from common import (BACKEND_LOCK, elbv2_backend_for_arn, find_listener, find_target_group, is_loopback,
                    iter_elbv2_backends, log, tg_dimension)
from health import HEALTH, NOT_ROUTABLE
from login_gate import LOGIN_TYPES, login_gate
from metrics import METRICS
from propagation import PROPAGATION
from rule_match import condition_matches, glob_match  # noqa: F401 (re-exported)
from served import SERVED

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "trailers", "transfer-encoding", "upgrade", "content-length"}
DROP_FROM_TARGET = HOP_BY_HOP | {"server", "date"}  # the emulated ALB sends its own
STICKY_COOKIE = "AWSALBTG"
CACHE_SECONDS = 0.2


def _terminal_action(actions: list[Any]) -> dict[str, Any] | None:
    datas = [a.data if hasattr(a, "data") else a for a in actions or []]
    datas.sort(key=lambda d: int(d.get("Order") or 0))
    for d in datas:
        if str(d.get("Type", "")).lower() in ("forward", "fixed-response", "redirect"):
            return d
    return None


class DataPlane:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._lock = threading.Lock()
        self.servers: dict[str, dict[str, Any]] = {}  # listener_arn -> info
        self._rr: dict[str, int] = {}
        self._eligible_cache: dict[str, tuple[Any, float, list[tuple[str, int]]]] = {}

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        def loop() -> None:
            while True:
                try:
                    self.sync()
                    PROPAGATION.capture()
                except Exception:  # pragma: no cover
                    log.exception("data plane sync failed")
                time.sleep(0.3)

        threading.Thread(target=loop, name="dataplane-sync", daemon=True).start()

    def sync(self) -> None:
        wanted: dict[str, tuple[str, Any]] = {}
        with BACKEND_LOCK:
            for _a, _r, backend in iter_elbv2_backends():
                for lb in list(backend.load_balancers.values()):
                    for arn, lst in list(lb.listeners.items()):
                        if (lst.protocol or "").upper() in ("HTTP", "HTTPS"):
                            wanted[arn] = (lb.arn, lst.port)
        with self._lock:
            for arn in [a for a in self.servers if a not in wanted]:
                self._stop(arn)
            for arn, (lb_arn, port) in wanted.items():
                if arn in self.servers:
                    self.servers[arn]["port"] = port
                else:
                    self._open(arn, lb_arn, port)

    def _open(self, arn: str, lb_arn: str, port: Any) -> None:
        handler = type("ListenerHandler", (_Handler,), {"plane": self, "listener_arn": arn, "lb_arn": lb_arn})
        server = ThreadingHTTPServer((self.host, 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name=f"listener-{port}", daemon=True).start()
        url = f"http://{self.host}:{server.server_address[1]}"
        self.servers[arn] = {"server": server, "lb_arn": lb_arn, "port": port, "url": url}
        log.info("data plane: listener %s (port %s) -> %s", arn.split("/")[-1], port, url)

    def _stop(self, arn: str) -> None:
        info = self.servers.pop(arn)
        threading.Thread(target=lambda: (info["server"].shutdown(), info["server"].server_close()),
                         daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            for arn in list(self.servers):
                self._stop(arn)
            self._rr.clear()
            self._eligible_cache.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"listener_arn": arn, "load_balancer_arn": i["lb_arn"], "port": int(i["port"]),
                     "url": i["url"]} for arn, i in self.servers.items()]

    # ------------------------------------------------------------ routing
    def route(self, listener_arn: str, req: dict[str, Any]) -> dict[str, Any]:
        """Decide what to do with a request, by the config that has propagated (propagation.py)."""
        view = PROPAGATION.listener(listener_arn)
        if view is None:
            PROPAGATION.capture()  # a listener opened by sync() before any snapshot had it
            view = PROPAGATION.listener(listener_arn)
        if view is None:
            return {"kind": "fixed", "status": 503, "ctype": "text/plain", "body": "listener gone"}
        actions, priority = view["default"], 0
        for rule in view["rules"]:
            if all(condition_matches(c, req) for c in rule["conditions"]):
                actions, priority = rule["actions"], rule["priority"]
                break
        out = self._decide(actions, req, view)
        # what an access log entry needs (access_logs.py); cheap enough to always set
        out["priority"], out["listener_port"] = priority, view["port"]
        return out

    def _decide(self, actions: list[Any], req: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
        logins = sum(1 for a in actions if str((a.data if hasattr(a, "data") else a).get("Type", "")).lower()
                     in LOGIN_TYPES)
        gate = login_gate(actions, req)
        if gate is not None:
            gate["executed"] = "authenticate"
            return gate
        action = _terminal_action(actions)
        if action is None:
            return {"kind": "fixed", "status": 503, "ctype": "text/plain", "body": "no action"}
        kind = str(action.get("Type")).lower()
        executed = ",".join(["authenticate"] * logins + [kind])
        if kind == "fixed-response":
            cfg = action.get("FixedResponseConfig") or {}
            return {"kind": "fixed", "status": int(cfg.get("StatusCode") or 200), "executed": executed,
                    "ctype": cfg.get("ContentType") or "text/plain", "body": cfg.get("MessageBody") or ""}
        if kind == "redirect":
            out = self._redirect(action.get("RedirectConfig") or {}, req, view["port"])
            out["executed"], out["redirect_url"] = executed, out["location"]
            return out
        with BACKEND_LOCK:  # live target health is read from moto
            out = self._forward(action, req)
        out["executed"] = executed
        return out

    @staticmethod
    def _redirect(cfg: dict[str, Any], req: dict[str, Any], listener_port: Any) -> dict[str, Any]:
        host = req["headers"].get("host", "localhost")
        bare, _, cur_port = host.partition(":")
        proto = cfg.get("Protocol") or "#{protocol}"
        port = cfg.get("Port") or "#{port}"
        subs = {"#{protocol}": "http", "#{host}": bare, "#{port}": cur_port or str(listener_port),
                "#{path}": req["path"].lstrip("/"), "#{query}": req["raw_query"]}

        def sub(s: str) -> str:
            for k, v in subs.items():
                s = s.replace(k, v)
            return s

        proto = sub(proto).lower()
        path = "/" + sub(cfg.get("Path") or "/#{path}").lstrip("/")
        query = sub(cfg.get("Query") or "#{query}")
        loc = f"{proto}://{sub(cfg.get('Host') or '#{host}')}:{sub(port)}{path}"
        if query:
            loc += "?" + query
        status = 301 if str(cfg.get("StatusCode", "HTTP_301")).endswith("301") else 302
        return {"kind": "redirect", "status": status, "location": loc}

    def _forward(self, action: dict[str, Any], req: dict[str, Any]) -> dict[str, Any]:
        fc = action.get("ForwardConfig") or {}
        groups = [(g["TargetGroupArn"], float(g.get("Weight", 1) if g.get("Weight") is not None else 1))
                  for g in fc.get("TargetGroups") or []]
        if not groups and action.get("TargetGroupArn"):
            groups = [(action["TargetGroupArn"], 1.0)]
        sticky = fc.get("TargetGroupStickinessConfig") or {}
        sticky_on = str(sticky.get("Enabled")).lower() == "true" and len(groups) > 1
        live = [(arn, w) for arn, w in groups if w > 0]
        if not live:
            return {"kind": "nolb", "status": 503}
        chosen = None
        if sticky_on:
            want = req["cookies"].get(STICKY_COOKIE)
            chosen = next((arn for arn, _w in live if tg_dimension(arn) == want), None)
        if chosen is None:
            pick = random.uniform(0, sum(w for _a, w in live))
            for arn, w in live:
                chosen = arn
                pick -= w
                if pick < 0:
                    break
        out: dict[str, Any] = {"kind": "forward", "tg_arn": chosen, "target": None}
        if sticky_on:
            out["set_cookie"] = (f"{STICKY_COOKIE}={tg_dimension(chosen)}; "
                                 f"Max-Age={int(sticky.get('DurationSeconds') or 3600)}; Path=/")
        tg = find_target_group(chosen)
        if tg is None:
            return out
        eligible = self._eligible(chosen, tg)
        if eligible:
            n = self._rr.get(chosen, 0)
            self._rr[chosen] = n + 1
            out["target"] = eligible[n % len(eligible)]
        return out


    def _eligible(self, tg_arn: str, tg: Any) -> list[tuple[str, int]]:
        """Routable (IP, port)s of a TG; caller holds BACKEND_LOCK.

        The target SET is the propagated one (a deregistered target keeps
        getting new requests until the change reaches the nodes; a new one
        gets none before); its HEALTH is live, and like AWS a target gets
        traffic only once it has passed a health check (not while `initial`).
        Cached until the set or any health verdict changes (HEALTH.version),
        and for at most CACHE_SECONDS because forced state sequences and
        draining expiry move with time alone: with 1,000 targets this turns
        ~18 ms of health lookups per request into a dict hit.
        """
        targets = PROPAGATION.targets(tg_arn) or frozenset()
        key = (HEALTH.version, targets)
        now = time.monotonic()
        hit = self._eligible_cache.get(tg_arn)
        if hit and hit[0] == key and hit[1] > now:
            return hit[2]
        live_targets = tg.targets
        eligible = []
        for tid, port in sorted(targets):
            # as a node sees it: its config forwards to this group, so it checks it
            node = HEALTH.evaluate(tg, tid, port, node=True)
            st = node[0] if node else tg.health_for({"Id": tid, "Port": port}, tg.ec2_backend).status
            if tid not in live_targets and st in ("draining", "unused"):
                eligible.append((tid, port))  # deregistration not propagated yet
            elif st not in NOT_ROUTABLE and st != "initial":
                eligible.append((tid, port))
        self._eligible_cache[tg_arn] = (key, now + CACHE_SECONDS, eligible)
        return eligible


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "awselb/2.0"
    sys_version = ""
    plane: DataPlane
    listener_arn: str
    lb_arn: str

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, entry: tuple | None = None) -> None:
        """`entry`: (req, decision, out) of an access log entry, buffered before
        anything is sent so a client that has the response finds it there."""
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if entry is not None:
            # sent_bytes: status line, headers, the blank line and the body
            self._emu_sent = sum(len(b) for b in self._headers_buffer) + 2 + (
                len(body) if self.command != "HEAD" else 0)
            self._access_log(*entry)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _access_log(self, req: dict[str, Any], decision: dict[str, Any], out: dict[str, Any]) -> None:
        """One access log entry (only called when the load balancer has them on)."""
        proto, cert = ACCESS_LOGS.listener_tls(self.listener_arn)
        out.setdefault("trace_id", getattr(self, "_emu_trace", None) or _trace_id())
        ACCESS_LOGS.append(self.lb_arn, access_log_format.entry(self, req, decision, out, proto, cert))

    def _request(self, split: Any, body: bytes) -> dict[str, Any]:
        """What routing (and an access log entry) reads of the request."""
        headers = {k.lower(): v for k, v in self.headers.items()}
        header_lists: dict[str, list[str]] = {}
        for k, v in self.headers.items():
            header_lists.setdefault(k.lower(), []).append(v)
        cookies = {}
        for part in (headers.get("cookie") or "").split(";"):
            if "=" in part:
                k, v = part.strip().split("=", 1)
                cookies[k] = v
        req = {"method": self.command, "path": split.path or "/", "raw_query": split.query,
               "query": parse_qsl(split.query, keep_blank_values=True), "headers": headers,
               "header_lists": header_lists, "cookies": cookies,
               "source_ip": headers.get("x-emu-source-ip") or self.client_address[0], "body_len": len(body)}
        return req

    def _handle(self) -> None:
        body = self._read_body()
        received = time.time()
        self._emu_trace = self.headers.get("X-Amzn-Trace-Id")
        split = urlsplit(self.path)
        req = self._request(split, body)
        decision = self.plane.route(self.listener_arn, req)
        kind = decision["kind"]
        logged = self.lb_arn in ACCESS_LOGS.enabled  # off: nothing more is done for the logs
        if kind in ("fixed", "redirect"):
            METRICS.record_lb(self.lb_arn, decision["status"])
            decided = time.time()
            entry = (req, decision, {"status": decision["status"], "received": received, "dispatched": decided,
                                     "answered": decided}) if logged else None
            if kind == "fixed":
                return self._send(decision["status"], [("Content-Type", decision["ctype"])],
                                  decision["body"].encode(), entry)
            return self._send(decision["status"], [("Location", decision["location"])], b"", entry)
        extra = [("Set-Cookie", decision["set_cookie"])] if decision.get("set_cookie") else []
        if kind == "nolb" or decision.get("target") is None:
            METRICS.record_lb(self.lb_arn, 503)
            return self._send(503, [("Content-Type", "text/html")] + extra,
                              b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
                              (req, decision, {"status": 503, "received": received}) if logged else None)
        ip, port = decision["target"]
        SERVED.record(decision["tg_arn"], ip, port)
        started, dispatched = time.monotonic(), time.time()
        out = {"received": received, "dispatched": dispatched, "target": (ip, port)}
        try:
            if not is_loopback(ip):
                raise OSError(f"target {ip} is not a loopback address; the emulator only proxies to 127.0.0.0/8")
            status, resp_headers, resp_body = self._proxy(ip, port, body, split)
        except TimeoutError as e:
            # No answer within the idle timeout: AWS answers 504 itself (an
            # ELB 5XX, not a connection error) and logs the target time -1.
            log.debug("target %s:%s timed out: %s", ip, port, e)
            METRICS.record_lb(self.lb_arn, 504)
            return self._send(504, [("Content-Type", "text/html")] + extra,
                              b"<html><body><h1>504 Gateway Time-out</h1></body></html>",
                              (req, decision, {**out, "status": 504}) if logged else None)
        except OSError as e:
            log.debug("target %s:%s failed: %s", ip, port, e)
            METRICS.record_connection_error(self.lb_arn, decision["tg_arn"])
            return self._send(502, [("Content-Type", "text/html")] + extra,
                              b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                              (req, decision, {**out, "status": 502}) if logged else None)
        elapsed = time.monotonic() - started
        METRICS.record_target(self.lb_arn, decision["tg_arn"], status, elapsed)
        self._send(status, resp_headers + extra, resp_body, (req, decision, {
            **out, "status": status, "target_status": status, "answered": dispatched + elapsed}) if logged else None)

    def _proxy(self, ip: str, port: int, body: bytes, split: Any) -> tuple[int, list, bytes]:
        conn = http.client.HTTPConnection(ip, port, timeout=_idle_timeout(self.lb_arn))
        try:
            fwd = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            prior = self.headers.get("X-Forwarded-For")
            fwd["X-Forwarded-For"] = f"{prior}, {self.client_address[0]}" if prior else self.client_address[0]
            fwd["X-Forwarded-Proto"] = "http"
            fwd["X-Forwarded-Port"] = str(self.server.server_address[1])
            fwd.setdefault("X-Amzn-Trace-Id", _trace_id())
            self._emu_trace = fwd["X-Amzn-Trace-Id"]
            if body or self.command in ("POST", "PUT", "PATCH"):
                fwd["Content-Length"] = str(len(body))
            path = split.path or "/"
            if split.query:
                path += "?" + split.query
            conn.request(self.command, path, body=body or None, headers=fwd)
            resp = conn.getresponse()
            data = resp.read()
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in DROP_FROM_TARGET]
            return resp.status, headers, data
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


def _idle_timeout(lb_arn: str) -> float:
    """The load balancer's `idle_timeout.timeout_seconds` (AWS's default 60)."""
    try:
        lb = elbv2_backend_for_arn(lb_arn).load_balancers.get(lb_arn)
        return float((lb.attrs if lb else {}).get("idle_timeout.timeout_seconds") or 60)
    except (KeyError, ValueError):
        return 60.0


PLANE = DataPlane()
