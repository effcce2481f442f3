#!/usr/bin/env python3
"""Run every cargo test target, the emulator-backed integration tests each in
a process of its own, the longest first.

Why not plain `cargo test`: libtest starts tests in name order, so the ones
that wait longest for CloudWatch's minutes (rolling::, status::) start last
and the suite ends minutes after most of the machine went idle. Here the
integration tests are scheduled longest-first (LPT) from the durations of
the last recorded run (tests/integration/durations.txt; a test not in it
counts as the longest, so a new test is never started last), JOBS at a time.
Every other test target (unit, component, the live-AWS suite's ignored
tests) runs as cargo would run it. At the end: the slowest tests and the
sum of their times, so a change that makes the suite slower shows.

Usage: scripts/run-tests.py [--jobs N] [--record] [-- FILTER...]
  --jobs     integration tests at once (default $RUST_TEST_THREADS or 16)
  --record   rewrite tests/integration/durations.txt from this run
  FILTER     only integration tests whose name contains one of these
Exit status: 0 when every test passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATIONS = ROOT / "tests" / "integration" / "durations.txt"
INTEGRATION = "integration"


def build() -> dict[str, str]:
    """Build every test target; name -> executable."""
    cmd = ["cargo", "test", "--locked", "--all-targets", "--no-run", "--message-format=json"]
    out = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, check=True, text=True).stdout
    exes: dict[str, str] = {}
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if msg["profile"]["test"]:
            kind = msg["target"]["kind"][0]
            exes[f"{kind}:{msg['target']['name']}"] = msg["executable"]
    return exes


def listed(exe: str, ignored: bool = False) -> list[str]:
    args = [exe, "--list", "--format", "terse"] + (["--ignored"] if ignored else [])
    out = subprocess.run(args, cwd=ROOT, stdout=subprocess.PIPE, check=True, text=True).stdout
    return [line[: -len(": test")] for line in out.splitlines() if line.endswith(": test")]


def known_durations() -> dict[str, float]:
    found: dict[str, float] = {}
    if DURATIONS.exists():
        for line in DURATIONS.read_text().splitlines():
            if line and not line.startswith("#"):
                secs, name = line.split(None, 1)
                found[name] = float(secs)
    return found


class Runner:
    def __init__(self, exe: str, total: int) -> None:
        self.exe, self.total = exe, total
        self.lock = threading.Lock()
        self.done: list[tuple[str, float, bool]] = []

    def run(self, name: str) -> None:
        start = time.monotonic()
        proc = subprocess.run(
            [self.exe, "--exact", name, "--test-threads", "1"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "CARGO_MANIFEST_DIR": str(ROOT)},
        )
        secs = time.monotonic() - start
        ok = proc.returncode == 0 and "1 passed" in proc.stdout
        with self.lock:
            self.done.append((name, secs, ok))
            print(f"test {name} ... {'ok' if ok else 'FAILED'} ({secs:.1f} s) "
                  f"[{len(self.done)}/{self.total}]", flush=True)
            if not ok:
                print(proc.stdout, flush=True)


def run_integration(exe: str, jobs: int, filters: list[str]) -> Runner:
    ignored = set(listed(exe, ignored=True))
    names = [n for n in listed(exe) if n not in ignored and (not filters or any(f in n for f in filters))]
    past = known_durations()
    longest = max(past.values(), default=0.0) + 1.0
    names.sort(key=lambda n: -past.get(n, longest))
    runner = Runner(exe, len(names))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(runner.run, names))
    return runner


def record(runner: Runner) -> None:
    lines = ["# seconds test (scripts/run-tests.py --record; used to start the longest first)"]
    lines += [f"{secs:.1f} {name}" for name, secs, _ in sorted(runner.done, key=lambda d: -d[1])]
    DURATIONS.write_text("\n".join(lines) + "\n")


def summary(runner: Runner, wall: float) -> None:
    slowest = sorted(runner.done, key=lambda d: -d[1])[:10]
    total = sum(d[1] for d in runner.done)
    print(f"integration: {len(runner.done)} tests, {total:.0f} s of test time in {wall:.0f} s; slowest:")
    for name, secs, _ in slowest:
        print(f"  {secs:6.1f} s  {name}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("RUST_TEST_THREADS", "16")))
    ap.add_argument("--record", action="store_true")
    ap.add_argument("filters", nargs="*")
    args = ap.parse_args()
    exes = build()
    code = 0
    for key, exe in sorted(exes.items()):
        if key != f"test:{INTEGRATION}":
            print(f"== {key}", flush=True)
            code |= subprocess.run([exe], cwd=ROOT).returncode
    exe = exes.get(f"test:{INTEGRATION}")
    if exe is None:
        print("no integration test target was built", file=sys.stderr)
        return 1
    print(f"== test:{INTEGRATION}, {args.jobs} at a time, longest first", flush=True)
    start = time.monotonic()
    runner = run_integration(exe, args.jobs, args.filters)
    summary(runner, time.monotonic() - start)
    if args.record:
        record(runner)
    failed = [name for name, _, ok in runner.done if not ok]
    for name in failed:
        print(f"FAILED: {name}")
    if not runner.done:
        print("no integration test matched", file=sys.stderr)
        return 1
    return 1 if failed or code else 0


if __name__ == "__main__":
    sys.exit(main())
