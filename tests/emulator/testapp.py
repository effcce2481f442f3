#!/usr/bin/env python3
"""Tiny configurable HTTP app that plays one "version" of a service (stdlib only).

Every response carries `X-App-Version: <version>` and a JSON body with the
version. A fraction `error_rate` of non-health requests answer 500; `latency_ms`
delays non-health requests. The health path answers 200, or 503 when unhealthy.
Runtime reconfiguration: `POST /_app/config {"error_rate":0.5,"latency_ms":10,"healthy":false}`;
`GET /_app/config` shows the config and request counters.

CLI: `testapp.py --host 127.0.0.2 --port 0 --version v1 [--error-rate 0.0]
[--latency-ms 0] [--health-path /health] [--unhealthy]` prints
`TESTAPP_URL=http://host:port` once ready. Importable: `start_app(...)` runs it
in a background thread and returns a `TestApp` (url, host, port, config, stop()).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TestApp:
    __test__ = False  # not a pytest class

    def __init__(self, host: str, port: int, version: str, error_rate: float = 0.0, latency_ms: float = 0,
                 health_path: str = "/health", healthy: bool = True) -> None:
        self.lock = threading.Lock()
        self.config: dict[str, Any] = {"version": version, "error_rate": float(error_rate),
                                       "latency_ms": float(latency_ms), "health_path": health_path,
                                       "healthy": bool(healthy), "error_paths": []}
        self.counters = {"requests": 0, "errors": 0, "health_checks": 0}
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-App-Version", app.config["version"])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with app.lock:
                    cfg = dict(app.config)
                if path == "/_app/config":
                    if self.command == "POST":
                        try:
                            update = json.loads(data or b"{}")
                        except ValueError:
                            return self._reply(400, {"error": "invalid JSON"})
                        with app.lock:
                            for key in ("error_rate", "latency_ms"):
                                if key in update:
                                    app.config[key] = float(update[key])
                            if "healthy" in update:
                                app.config["healthy"] = bool(update["healthy"])
                            if "error_paths" in update:
                                # Paths (before any `?`) answered 500 every time.
                                app.config["error_paths"] = [str(p) for p in update["error_paths"]]
                            cfg = dict(app.config)
                    return self._reply(200, {**cfg, "counters": dict(app.counters)})
                if path == cfg["health_path"]:
                    with app.lock:
                        app.counters["health_checks"] += 1
                    ok = cfg["healthy"]
                    return self._reply(200 if ok else 503,
                                       {"version": cfg["version"], "status": "ok" if ok else "unhealthy"})
                if cfg["latency_ms"] > 0:
                    time.sleep(cfg["latency_ms"] / 1000.0)
                fail = path in cfg["error_paths"] or random.random() < cfg["error_rate"]
                with app.lock:
                    app.counters["requests"] += 1
                    app.counters["errors"] += int(fail)
                self._reply(500 if fail else 200, {
                    "version": cfg["version"], "path": self.path, "method": self.command,
                    "error": fail, "body_bytes": len(data)})

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def set(self, **kwargs: Any) -> None:
        with self.lock:
            self.config.update(kwargs)

    def start(self) -> "TestApp":
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"testapp-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_app(host: str = "127.0.0.2", port: int = 0, version: str = "v1", **kwargs: Any) -> TestApp:
    """Start a TestApp in a daemon thread and return it."""
    return TestApp(host, port, version, **kwargs).start()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.2")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--version", default="v1")
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--health-path", default="/health")
    p.add_argument("--unhealthy", action="store_true")
    a = p.parse_args(argv)
    app = TestApp(a.host, a.port, a.version, a.error_rate, a.latency_ms, a.health_path, not a.unhealthy)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"TESTAPP_URL={app.url}", flush=True)
    try:
        app.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
