#!/usr/bin/env python3
"""ALB emulator entry point.

Owns: process lifecycle. Starts ONE process that serves, on 127.0.0.1:PORT,
moto's AWS APIs (ELBv2, EC2, STS, CloudWatch incl. RPC v2 CBOR) plus the
`/_emu/...` control API (middleware.py), and runs the health checker
(health.py), the metrics publisher (metrics.py) and the data plane
(dataplane.py) as threads in the same process so they can read/patch moto's
in-memory backends directly.

When ready it prints exactly one line `ALB_EMULATOR_ENDPOINT=http://HOST:PORT`
to stdout; logs go to stderr. Exits on SIGTERM/SIGINT, and with
`--exit-on-stdin-eof` also when stdin closes or the parent process dies.
`--metrics-mode aws|fast` and `--metrics-delay SECONDS` (env
ALB_EMU_METRICS_MODE / ALB_EMU_METRICS_DELAY) choose how data-plane metrics
reach CloudWatch (metrics.py). `--propagation-delay SECONDS` (env
ALB_EMU_PROPAGATION_DELAY, default 3) is how long the data plane keeps
routing by the old config after an ELBv2 change (propagation.py).
`--access-log-interval SECONDS` (env ALB_EMU_ACCESS_LOG_INTERVAL, default 300)
is how often access logs are delivered to S3 (access_logs.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import is_loopback, log, setup_logging  # noqa: E402


def build_app():  # noqa: ANN201
    """Install moto patches and return the wrapped WSGI app (no threads started)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    import cw
    from access_logs import ACCESS_LOGS
    import elbv2_actions
    import elbv2_auth
    import elbv2_fixes
    import elbv2_limits
    import elbv2_rules
    import elbv2_zones
    from health import HEALTH
    from middleware import EmulatorApp

    cw.install()
    elbv2_fixes.install()
    elbv2_actions.install()
    elbv2_auth.install()
    elbv2_limits.install()  # after elbv2_actions: wraps its patched methods
    elbv2_rules.install()
    HEALTH.install()
    elbv2_zones.install()  # after health.py: wraps its register and health_for
    ACCESS_LOGS.install()
    moto_app = DomainDispatcherApplication(create_backend_app)
    return EmulatorApp(moto_app)


def start_background(host: str = "127.0.0.1", health_interval: float = 1.0,
                     metrics_mode: str = "aws", metrics_delay: float = 90.0,
                     propagation_delay: float | None = None,
                     access_log_interval: float | None = None) -> None:
    from access_logs import ACCESS_LOGS
    from dataplane import PLANE
    from health import HEALTH
    from metrics import METRICS
    from propagation import PROPAGATION

    if propagation_delay is not None:
        PROPAGATION.configure(propagation_delay, startup=True)

    HEALTH.interval = health_interval
    PLANE.host = host
    METRICS.configure(metrics_mode, metrics_delay, startup=True)
    if access_log_interval is not None:
        ACCESS_LOGS.interval = access_log_interval
    HEALTH.start()
    METRICS.start()
    ACCESS_LOGS.start()
    PLANE.start()


def _watch_stdin_and_parent() -> None:
    parent = os.getppid()

    def stdin_loop() -> None:
        try:
            while sys.stdin.buffer.read1(4096) if hasattr(sys.stdin.buffer, "read1") else sys.stdin.read(1):
                pass
        except Exception:
            pass
        log.info("stdin closed: exiting")
        os._exit(0)

    def parent_loop() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                log.info("parent process gone: exiting")
                os._exit(0)

    threading.Thread(target=stdin_loop, name="stdin-watch", daemon=True).start()
    threading.Thread(target=parent_loop, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="ALB emulator (moto + control API + data plane)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--exit-on-stdin-eof", action="store_true",
                   default=os.environ.get("ALB_EMULATOR_EXIT_ON_STDIN_EOF") == "1")
    p.add_argument("--health-interval", type=float, default=1.0,
                   help="health-check scheduler's longest sleep; each target group is checked "
                        "at its own HealthCheckIntervalSeconds")
    p.add_argument("--metrics-mode", default=os.environ.get("ALB_EMU_METRICS_MODE") or "aws",
                   help="aws (default: 60 s buckets, published DELAY s after the minute ends, like AWS) "
                        "or fast (per-second, immediate); env ALB_EMU_METRICS_MODE")
    p.add_argument("--metrics-delay", default=os.environ.get("ALB_EMU_METRICS_DELAY") or "90",
                   help="aws mode: seconds after a bucket's end before it is visible (default 90); "
                        "env ALB_EMU_METRICS_DELAY")
    p.add_argument("--propagation-delay", default=os.environ.get("ALB_EMU_PROPAGATION_DELAY") or "3",
                   help="seconds before the data plane applies a listener/rule/target change the API "
                        "already shows (default 3, like ALB nodes); env ALB_EMU_PROPAGATION_DELAY")
    p.add_argument("--access-log-interval", default=os.environ.get("ALB_EMU_ACCESS_LOG_INTERVAL") or "300",
                   help="seconds between access log deliveries to S3 (default 300, like ALB); "
                        "env ALB_EMU_ACCESS_LOG_INTERVAL")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    if not is_loopback(args.host):
        p.error("--host must be a loopback address")
    from metrics import parse_delay, parse_mode
    from access_logs import parse_interval
    from propagation import parse_delay as parse_propagation

    try:
        args.metrics_mode, args.metrics_delay = parse_mode(args.metrics_mode), parse_delay(args.metrics_delay)
        args.propagation_delay = parse_propagation(args.propagation_delay)
        args.access_log_interval = parse_interval(args.access_log_interval)
    except ValueError as e:
        p.error(str(e))
    setup_logging(args.verbose)

    def on_signal(signum, frame):  # noqa: ANN001
        log.info("signal %s: exiting", signum)
        os._exit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.exit_on_stdin_eof:
        _watch_stdin_and_parent()

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    app = build_app()
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_port
    os.environ["MOTO_PORT"] = str(port)
    start_background(args.host, args.health_interval, args.metrics_mode, args.metrics_delay,
                     args.propagation_delay, args.access_log_interval)
    endpoint = f"http://{args.host}:{port}"
    log.info("ALB emulator listening on %s (metrics mode %s, delay %gs; propagation delay %gs)", endpoint,
             args.metrics_mode, args.metrics_delay, args.propagation_delay)
    sys.stdout.write(f"ALB_EMULATOR_ENDPOINT={endpoint}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
