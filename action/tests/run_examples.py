#!/usr/bin/env python3
"""Run every example workflow's alb-rollout steps against the emulator.

Each scenario takes one example of examples/, gives it an emulator of its
own with the demo stack it deploys to, and runs the steps of its jobs that
use the alb-rollout action, in order, through action.yml's step and
action/run.sh exactly as GitHub would (action/tests/workflow_step.py), with
the binary cargo built. `${{ }}` expressions come from a fixture map: the
stack's ARNs for `env.*`, the workflow_dispatch `inputs.*`, the outputs of
steps that do not use the action (configure-aws-credentials'
`aws-expiration`), and the outputs of earlier action steps. Each step's
exit code and `result` output must be what the example expects, and the
stack is read back afterwards (route, targets, rules).

Recovery: the `*-kill` scenarios SIGKILL the deploy step mid-run (the
runner lost), then run the example's `if: cancelled()` step, then its
`recover` job, and check that the route or group is what it was before.
The killed run's heartbeat is fresh then, so this runs `rollback --wait`.

Durations are shortened (OVERRIDES below): every hold in `steps` becomes
1m (CloudWatch judges whole minutes, so shorter holds are no shorter),
`bake`, `keep-blue` and `duration` become 1m, `interval` becomes 10s. One
bound is widened: `max-latency-ratio` becomes 5, because a replayed
request's time includes the emulator's data plane (a Python proxy, tens of
ms a request on a loaded CI machine) that blue's logged
target_processing_time does not, where AWS's own time is about a
millisecond. Everything else runs as the example is written.

Run (in the emulator's venv, which has boto3 and PyYAML):
  tests/emulator/.venv/bin/python action/tests/run_examples.py [--bin PATH] [SCENARIO...]
The scenarios run in parallel, one process each; the last line is
`examples: N passed, M failed`.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import example_env as E  # noqa: E402
import workflow_step as W  # noqa: E402

OVERRIDES = {"bake": "1m", "keep-blue": "1m", "duration": "1m", "interval": "10s", "max-latency-ratio": "5"}
HOLD = "1m"


def override(name: str, value: str) -> str:
    if name == "steps" and value:
        return re.sub(r":[^,]+", f":{HOLD}", value)
    if name in OVERRIDES and value:
        return OVERRIDES[name]
    return value


class Run:
    """One scenario: its emulator, its fixture map, its steps."""

    def __init__(self, example: str, work: Path, binary: Path):
        self.wf = W.load(example)
        self.work, self.emu = work, E.Emulator(work / "emulator.log")
        self.elb = self.emu.elb()
        self.action = W.ActionDir(binary)
        self.ctx = {f"env.{k}": v for k, v in (self.wf.get("env") or {}).items()}
        self.n = 0
        self.override = override

    def step(self, job: str, name: str) -> dict:
        for s in W.action_steps(self.wf, job):
            if s.get("name") == name:
                return s
        raise KeyError(f"no action step {name!r} in job {job!r}")

    def start(self, job: str, name: str):  # noqa: ANN201
        self.n += 1
        return W.start(self.step(job, name), self.ctx, self.action, self.emu.env(),
                       self.work / f"{self.n:02d}-{job}", self.override)

    def run(self, job: str, name: str, code: int = 0, result: str | None = None) -> W.Outcome:
        """Run one action step; its exit code (and `result`, when given)
        must be the expected ones."""
        step = self.step(job, name)
        self.n += 1
        timeout = 60 * float(step.get("timeout-minutes", 15))
        out = W.run(step, self.ctx, self.action, self.emu.env(), self.work / f"{self.n:02d}-{job}",
                    self.override, timeout)
        print(f"  {job} / {name}: exit {out.code}, result {out.outputs.get('result', '-')} "
              f"({out.seconds:.0f}s)", flush=True)
        if "id" in step:
            self.ctx.update({f"steps.{step['id']}.outputs.{k}": v for k, v in out.outputs.items()})
        assert out.code == code, f"{name}: exit {out.code}, expected {code}\n{out.log[-4000:]}"
        if result is not None:
            assert out.outputs.get("result") == result, f"{name}: result {out.outputs}\n{out.log[-4000:]}"
        return out

    def job(self, job: str, expect: dict) -> None:
        """Every action step of the job that runs when all goes well (not
        the `if: cancelled()` ones), each with its expected (code, result)."""
        names = [s["name"] for s in W.action_steps(self.wf, job) if s.get("if") != "cancelled()"]
        assert names == list(expect), f"{job}: steps {names}, expected {list(expect)}"
        for name, (code, result) in expect.items():
            self.run(job, name, code, result)

    def close(self) -> None:
        self.emu.close()
        self.action.close()


def wait_until(what: str, fn, timeout: float = 180) -> None:  # noqa: ANN001
    deadline = time.time() + timeout
    while not fn():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def kill(proc, r: Run) -> None:  # noqa: ANN001
    """SIGKILL the step's process (the binary: both run.sh and the step
    `exec`), as when the runner dies: no revert, the record stays."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    print(f"  killed the deploy step (pid {proc.pid}) with SIGKILL", flush=True)


def expiry_in(seconds: int) -> str:
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def one(name: str, work: Path, binary: Path) -> int:
    """Run one scenario in this process; 0 when it passed."""
    from example_scenarios import SCENARIOS
    example, fn = SCENARIOS[name]
    r = Run(example, work, binary)
    try:
        fn(r)
        return 0
    except Exception:  # noqa: BLE001
        traceback.print_exc(file=sys.stdout)
        return 1
    finally:
        for t in getattr(r, "traffic", None) and (r.traffic if isinstance(r.traffic, list) else [r.traffic]) or []:
            t.stop()
        r.close()


def main() -> int:
    from example_scenarios import SCENARIOS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenarios", nargs="*", help=f"default: all ({', '.join(SCENARIOS)})")
    p.add_argument("--bin", type=Path, help="alb-rollout binary (default: $CARGO_TARGET_DIR/debug/alb-rollout)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--work", type=Path, help="where logs go (default: a temporary directory)")
    p.add_argument("--timeout", type=float, default=1080, help="seconds for all scenarios (they run at once)")
    a = p.parse_args()
    target = Path(os.environ.get("CARGO_TARGET_DIR") or W.REPO / "target")
    binary = (a.bin or target / "debug" / "alb-rollout").resolve()
    if not binary.is_file():
        p.error(f"no binary at {binary}: cargo build first, or pass --bin")
    if a.one:
        return one(a.one, a.work, binary)
    names = a.scenarios or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenarios {unknown}; known: {', '.join(SCENARIOS)}")
    work = a.work or Path(tempfile.mkdtemp(prefix="run-examples-"))
    print(f"examples: {len(names)} scenarios in parallel, logs in {work}", flush=True)
    t0, procs = time.monotonic(), {}
    for n in names:
        (work / n).mkdir(parents=True, exist_ok=True)
        log = open(work / n / "scenario.log", "wb")
        procs[n] = subprocess.Popen([sys.executable, __file__, "--one", n, "--work", str(work / n),
                                     "--bin", str(binary)], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
    failed = []
    for n, proc in procs.items():
        try:
            code = proc.wait(timeout=max(1.0, a.timeout - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            proc.kill()
            code = "timeout"
        text = (work / n / "scenario.log").read_text(errors="replace")
        print(f"{'ok  ' if code == 0 else 'FAIL'}  {n}\n    " + text.rstrip().replace("\n", "\n    "), flush=True)
        if code != 0:
            failed.append(n)
    print(f"({time.monotonic() - t0:.0f}s)")
    print(f"examples: {len(names) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
