#!/usr/bin/env python3
"""Bounded load generator for the ALB emulator's data plane (stdlib only).

Sends GET requests to --url at about --rps requests/second for --duration
seconds using --concurrency worker threads, then exits by itself. Prints one
line per second with counts by X-App-Version and HTTP status, and a JSON
summary at the end. Refuses any URL whose host is not a loopback address.

Example: scripts/traffic.py --url http://127.0.0.1:54321/ --rps 50 --duration 60
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

MAX_DURATION = 3600
MAX_RPS = 2000


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="bounded loopback-only HTTP load generator")
    p.add_argument("--url", required=True)
    p.add_argument("--rps", type=float, default=50)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--quiet", action="store_true", help="only print the final summary")
    a = p.parse_args(argv)
    u = urlsplit(a.url)
    if u.scheme != "http" or not u.hostname or not is_loopback(u.hostname):
        print(f"refusing non-loopback or non-http URL: {a.url}", file=sys.stderr)
        return 2
    if not (0 < a.rps <= MAX_RPS) or not (0 < a.duration <= MAX_DURATION) or not (1 <= a.concurrency <= 64):
        print("out of bounds: 0<rps<=2000, 0<duration<=3600, 1<=concurrency<=64", file=sys.stderr)
        return 2
    path = (u.path or "/") + (f"?{u.query}" if u.query else "")
    port = u.port or 80
    lock = threading.Lock()
    per_second: dict[int, Counter] = {}
    total: Counter = Counter()
    start = time.monotonic()
    end = start + a.duration
    interval = 1.0 / a.rps
    total_requests = int(round(a.rps * a.duration))
    next_index = [0]

    def take_slot() -> float | None:
        with lock:
            i = next_index[0]
            if i >= total_requests or time.monotonic() >= end + 1.0:  # hard stop even when behind schedule
                return None
            next_index[0] = i + 1
            return start + i * interval

    def worker() -> None:
        conn = None
        while True:
            slot = take_slot()
            if slot is None:
                break
            delay = slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, port, timeout=a.timeout)
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                key = f"{resp.getheader('X-App-Version') or '-'}/{resp.status}"
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                key = "-/ERR"
                if conn is not None:
                    conn.close()
                conn = None
            sec = int(time.monotonic() - start)
            with lock:
                per_second.setdefault(sec, Counter())[key] += 1
                total[key] += 1
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    printed = 0
    while any(t.is_alive() for t in threads):
        time.sleep(0.2)
        done_sec = int(time.monotonic() - start)
        while printed < done_sec:
            with lock:
                c = dict(per_second.get(printed, {}))
            if not a.quiet:
                print(f"t={printed:>4}s " + " ".join(f"{k}={v}" for k, v in sorted(c.items())), flush=True)
            printed += 1
    for t in threads:
        t.join(timeout=a.timeout + 1)
    with lock:
        for sec in sorted(s for s in per_second if s >= printed):
            if not a.quiet:
                print(f"t={sec:>4}s " + " ".join(f"{k}={v}" for k, v in sorted(per_second[sec].items())),
                      flush=True)
        summary = {"total": sum(total.values()), "by_key": dict(sorted(total.items()))}
    versions: Counter = Counter()
    statuses: Counter = Counter()
    for k, v in total.items():
        ver, st = k.split("/", 1)
        versions[ver] += v
        statuses[st] += v
    summary["by_version"] = dict(versions)
    summary["by_status"] = dict(statuses)
    print("SUMMARY " + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
