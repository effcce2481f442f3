"""Target health for the ALB emulator.

Owns: forced target health (`/_emu/target-health`), real HTTP health checks of
loopback targets on each target group's own schedule and thresholds,
deregistration-delay draining, and the moto patches that expose all of that
through DescribeTargetHealth:

* `FakeTargetGroup.health_for` -> precedence: forced state > draining (after
  DeregisterTargets, for the TG's `deregistration_delay.timeout_seconds`) >
  `unused` / `Target.NotInUse` for a group no listener or rule forwards to >
  real health-check result > moto's default (`healthy`).
* `FakeTargetGroup.register` / `deregister` -> track draining and reset checks.
* `ELBv2Backend.modify_target_group` -> refuse a timeout not below the
  interval (as CreateTargetGroup does), and apply new check settings at once.
* `ELBv2Backend.describe_target_health` -> also lists draining targets.

Only groups in use are checked (ALB guide, "Target groups": "Health checks
are performed on all targets registered to a target group that is specified
in a listener rule for your load balancer"): a group that no listener's
default action or rule of its load balancer forwards to, at any weight (0
included), reads `unused`, `Target.NotInUse`, "Target group is not configured
to receive traffic from the load balancer", whatever its targets would
answer, instance IDs and non-loopback IPs included. Once a listener or rule
forwards to it, its targets start over from `initial`
(`Elb.RegistrationInProgress`); once nothing does, they are `unused` again and
their checks are dropped.

Health checks, as AWS documents them (ALB user guide, "Health checks for
Application Load Balancer target groups"; ECS developer guide, "Optimize load
balancer health check parameters"; botocore elbv2 model, TargetHealth):

* Every registered target whose Id is a loopback IP (127.0.0.0/8) is probed
  with HTTP GET on its TG's HealthCheckPath/port every
  HealthCheckIntervalSeconds (moto's default 30 s = AWS's), the first check at
  once after registration; the schedule does not depend on how long a target
  takes to answer. No answer within HealthCheckTimeoutSeconds = a failed check
  (`Target.Timeout`); a refused or broken connection = `Target.FailedHealthChecks`;
  a status outside the Matcher (default 200) = `Target.ResponseCodeMismatch`.
* A new target is `initial` (`Elb.RegistrationInProgress` until its first
  check, then `Elb.InitialHealthChecking`). ONE passing check makes it
  `healthy` ("For newly registered targets, only one successful health check
  is required ... regardless of the healthy threshold count"); after
  UnhealthyThresholdCount consecutive failures (default 2) it is `unhealthy`.
  So a target whose server never answers becomes unhealthy, not healthy.
* `healthy` -> `unhealthy` after UnhealthyThresholdCount consecutive failures
  (it stays healthy, and routable, in between); `unhealthy` -> `healthy` only
  after HealthyThresholdCount consecutive successes (default 5: "the healthy
  threshold count only applies when a target recovers").
* ModifyTargetGroup changes (interval, timeout, thresholds, path, port,
  matcher) apply from the next check; a shorter interval reschedules at once.

`--health-interval` (HealthManager.interval) is only the scheduler's longest
sleep: how often it looks for new targets and setting changes; checks run
when due. Targets that are instance IDs or non-loopback IPs are never probed
and keep moto's default (`healthy`), so moto-only tests with fake IDs work.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from common import BACKEND_LOCK, is_loopback, iter_elbv2_backends, log
from propagation import PROPAGATION
from tg_usage import in_use, used_groups

REASONS = {
    "initial": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "unhealthy": ("Target.FailedHealthChecks", "Health checks failed"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
    "unused": ("Target.NotRegistered", "Target is not registered to the target group"),
    "not_in_use": ("Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"),
    "unavailable": ("Target.HealthCheckDisabled", "Health checks are disabled"),
    "healthy": (None, None),
}
# A failed check's reason code and description (ALB user guide, "Health check
# reason codes").
FAILURES = {
    "conn": ("Target.FailedHealthChecks", "Health checks failed"),
    "timeout": ("Target.Timeout", "Request timed out"),
    "bad": ("Target.ResponseCodeMismatch", "Health checks failed with these codes: [{code}]"),
}
INITIAL_CHECKING = ("Elb.InitialHealthChecking", "Initial health checks in progress")
VALID_STATES = set(REASONS) - {"not_in_use"}
NOT_ROUTABLE = {"unhealthy", "draining", "unused", "unavailable"}
MIN_SLEEP = 0.02  # the scheduler never spins faster than this


def _matches(code: int, matcher: dict[str, Any] | None) -> bool:
    spec = str((matcher or {}).get("HttpCode") or "200")
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            if int(lo) <= code <= int(hi):
                return True
        elif part and int(part) == code:
            return True
    return False


def probe(ip: str, port: int, path: str, matcher: Any, protocol: str, timeout: float) -> tuple[str, Any]:
    """One health check: ("ok"|"bad"|"timeout"|"conn", status code or None)."""
    if protocol not in ("HTTP", "HTTPS"):
        try:
            socket.create_connection((ip, port), timeout=timeout).close()
            return ("ok", None)
        except TimeoutError:
            return ("timeout", None)
        except OSError:
            return ("conn", None)
    conn = http.client.HTTPConnection(ip, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "ELB-HealthChecker/2.0"})
        resp = conn.getresponse()
        resp.read()
        return ("ok", None) if _matches(resp.status, matcher) else ("bad", resp.status)
    except TimeoutError:
        return ("timeout", None)
    except (OSError, http.client.HTTPException):
        return ("conn", None)
    finally:
        conn.close()


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class Check:
    """One target's health-check state machine (per TG, Id and port)."""

    __slots__ = ("state", "oks", "fails", "reason", "description", "next_due", "last_start",
                 "interval", "in_flight")

    def __init__(self, now: float, interval: float) -> None:
        self.state = "initial"
        self.oks = 0  # consecutive successes
        self.fails = 0  # consecutive failures
        self.reason, self.description = REASONS["initial"]
        self.next_due = now  # AWS starts checking a new target at once
        self.last_start: float | None = None
        self.interval = interval
        self.in_flight = False

    def verdict(self) -> tuple[str, str | None, str | None]:
        return (self.state, self.reason, self.description)

    def apply(self, kind: str, code: Any, healthy_th: int, unhealthy_th: int) -> None:
        """One check's outcome, by AWS's rules (see the module docstring)."""
        if kind == "ok":
            self.oks += 1
            self.fails = 0
            if self.state == "initial" or (self.state == "unhealthy" and self.oks >= healthy_th):
                self.state = "healthy"
            if self.state == "healthy":
                self.reason = self.description = None
            return
        self.oks = 0
        self.fails += 1
        reason, desc = FAILURES[kind]
        desc = desc.format(code=code)
        if self.state == "unhealthy" or self.fails >= unhealthy_th:
            self.state, self.reason, self.description = "unhealthy", reason, desc
        elif self.state == "initial":
            self.reason, self.description = INITIAL_CHECKING


class HealthManager:
    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 prober: Callable[..., tuple[str, Any]] = probe) -> None:
        self.interval = interval  # scheduler tick: the longest sleep between scans
        self.clock = clock
        self.prober = prober
        self._lock = threading.Lock()
        self.forced: dict[tuple, dict[str, Any]] = {}
        self.checks: dict[tuple, Check] = {}
        self.draining: dict[tuple, dict[str, Any]] = {}
        # Bumped on every change that can alter a verdict, so the data plane can
        # cache a target group's routable targets (dataplane.py) between changes.
        self.version = 0
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="hc")
        self._thread: threading.Thread | None = None
        self.backends = iter_elbv2_backends  # what the scheduler scans (tests narrow it)

    # ------------------------------------------------------------ control
    def reset(self) -> None:
        with self._lock:
            self.forced.clear()
            self.checks.clear()
            self.version += 1
            self.draining.clear()

    def force(self, spec: dict[str, Any]) -> dict[str, Any]:
        tg = spec.get("target_group_arn")
        tid = spec.get("target_id")
        if not tg or not tid:
            raise ValueError("target_group_arn and target_id are required")
        if "states" in spec:
            states = list(spec["states"])
            seconds = [float(s) for s in spec.get("seconds", [])]
        elif "state" in spec:
            states, seconds = [spec["state"]], []
        else:
            raise ValueError("need 'state' or 'states'")
        if not states or any(s not in VALID_STATES for s in states):
            raise ValueError(f"states must be a non-empty list of {sorted(VALID_STATES)}")
        port = int(spec["port"]) if spec.get("port") is not None else None
        entry = {"states": states, "seconds": seconds, "start": time.monotonic(),
                 "reason": spec.get("reason"), "description": spec.get("description")}
        with self._lock:
            self.forced[(tg, str(tid), port)] = entry
            self.version += 1
        return {"target_group_arn": tg, "target_id": tid, "port": port, "states": states, "seconds": seconds}

    def clear_forced(self) -> None:
        with self._lock:
            self.forced.clear()
            self.version += 1

    def list_forced(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"target_group_arn": k[0], "target_id": k[1], "port": k[2], "states": v["states"],
                     "seconds": v["seconds"], "current": self._forced_state(v)[0]}
                    for k, v in self.forced.items()]

    # ------------------------------------------------------------ state
    @staticmethod
    def _forced_state(entry: dict[str, Any]) -> tuple[str, str | None, str | None]:
        elapsed = time.monotonic() - entry["start"]
        states, seconds = entry["states"], entry["seconds"]
        idx = len(states) - 1
        acc = 0.0
        for i in range(len(states) - 1):
            if i >= len(seconds):
                idx = i  # no duration given: this state sticks
                break
            acc += seconds[i]
            if elapsed < acc:
                idx = i
                break
        state = states[idx]
        reason, desc = REASONS[state]
        if idx == len(states) - 1 or len(states) == 1:
            reason = entry.get("reason") or reason
            desc = entry.get("description") or desc
        return state, reason, desc

    def evaluate(self, tg: Any, tid: str, port: Any,
                 node: bool = False) -> tuple[str, str | None, str | None] | None:
        """Emulator's view of a target's health, or None for moto's default.

        `node=True`: as a load balancer node sees it, for routing: a node only
        routes to a group its (propagated) config forwards to, so the API's
        `Target.NotInUse` does not apply; a target not checked yet is `initial`."""
        try:
            port_i = int(port)
        except (TypeError, ValueError):
            port_i = None
        now = time.monotonic()
        used = node or in_use(tg)
        with self._lock:
            entry = self.forced.get((tg.arn, tid, port_i)) or self.forced.get((tg.arn, tid, None))
            if entry is not None:
                return self._forced_state(entry)
            registered = tid in tg.targets
            drain = self.draining.get((tg.arn, tid))
            if drain is not None and drain["until"] <= now:
                self.draining.pop((tg.arn, tid), None)
                self.version += 1
                drain = None
            if not registered:
                return ("draining",) + REASONS["draining"] if drain else None
            if not used:
                return ("unused",) + REASONS["not_in_use"]
            if not is_loopback(tid) or not tg.health_check_enabled:
                return None
            chk = self.checks.get((tg.arn, tid, port_i))
            if chk is None:  # registered, not yet seen by the scheduler
                return ("initial",) + REASONS["initial"]
            return chk.verdict()

    def draining_port(self, tg_arn: str, tid: str) -> Any:
        with self._lock:
            d = self.draining.get((tg_arn, tid))
            if d and d["until"] > time.monotonic():
                return d["port"]
        return None

    # ------------------------------------------------------------ scheduler
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="health-checker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        sleep = 0.0
        while True:
            self._wake.wait(sleep)
            self._wake.clear()
            try:
                next_due = self.tick()
            except Exception:  # pragma: no cover - keep the thread alive
                log.exception("health check round failed")
                next_due = None
            now = self.clock()
            sleep = self.interval if next_due is None else min(self.interval, next_due - now)
            sleep = max(MIN_SLEEP, sleep)

    def _jobs(self) -> list[dict[str, Any]]:
        """Every probed target with its TG's current check settings (from moto)."""
        jobs = []
        with BACKEND_LOCK:
            for _acct, _region, backend in self.backends():
                used = used_groups(backend) | PROPAGATION.used_groups()
                for tg in list(backend.target_groups.values()):
                    # AWS checks only groups a listener or rule forwards to;
                    # dropping the others' checks makes a group attached
                    # again start over from `initial`.
                    if not tg.health_check_enabled or tg.arn not in used:
                        continue
                    settings = {
                        "path": tg.health_check_path or "/",
                        "matcher": getattr(tg, "matcher", None),
                        "protocol": tg.health_check_protocol or "HTTP",
                        "timeout": float(_int(tg.health_check_timeout_seconds, 5)),
                        "interval": float(_int(tg.health_check_interval_seconds, 30)),
                        "healthy": _int(tg.healthy_threshold_count, 5),
                        "unhealthy": _int(tg.unhealthy_threshold_count, 2),
                    }
                    hc_port = tg.health_check_port
                    for t in list(tg.targets.values()):
                        tid = str(t["Id"])
                        if not is_loopback(tid):
                            continue
                        port = int(t.get("Port") or tg.port or 80)
                        hp = port if hc_port in (None, "traffic-port") else int(hc_port)
                        jobs.append(dict(settings, key=(tg.arn, tid, port), ip=tid, hc_port=hp))
        return jobs

    def tick(self, wait: bool = False) -> float | None:
        """Start every due check; returns when the next one is due (None: none).

        `wait=True` runs the probes inline (tests on a fake clock)."""
        jobs = self._jobs()
        now = self.clock()
        due = []
        with self._lock:
            live = {j["key"] for j in jobs}
            for key in [k for k in self.checks if k not in live]:
                self.checks.pop(key)
                self.version += 1
            for j in jobs:
                chk = self.checks.get(j["key"])
                if chk is None:
                    chk = self.checks[j["key"]] = Check(now, j["interval"])
                elif chk.interval != j["interval"]:  # ModifyTargetGroup
                    chk.interval = j["interval"]
                    if chk.last_start is not None:
                        chk.next_due = min(chk.next_due, chk.last_start + chk.interval)
                if chk.next_due <= now and not chk.in_flight:
                    chk.in_flight = True
                    chk.last_start = now
                    # The next check is due one interval after this one started,
                    # however long this one takes (AWS: "The time that it takes
                    # for the target to respond does not affect the interval").
                    chk.next_due = now + chk.interval
                    due.append((chk, j))
            next_due = min((c.next_due for c in self.checks.values()), default=None)
        for chk, j in due:
            if wait:
                self._finish(chk, j, self._run_probe(j))
            else:
                fut = self._pool.submit(self._run_probe, j)
                fut.add_done_callback(lambda f, c=chk, jj=j: self._finish(c, jj, f.result()))
        return next_due

    def _run_probe(self, j: dict[str, Any]) -> tuple[str, Any]:
        try:
            return self.prober(j["ip"], j["hc_port"], j["path"], j["matcher"], j["protocol"], j["timeout"])
        except Exception:  # pragma: no cover - a probe bug counts as a failed check
            log.exception("health probe failed")
            return ("conn", None)

    def _finish(self, chk: Check, j: dict[str, Any], outcome: tuple[str, Any]) -> None:
        kind, code = outcome
        with self._lock:
            chk.in_flight = False
            if self.checks.get(j["key"]) is not chk:
                return  # deregistered, re-registered or reset meanwhile
            before = chk.verdict()
            chk.apply(kind, code, j["healthy"], j["unhealthy"])
            if chk.verdict() != before:
                self.version += 1

    # ------------------------------------------------------------ moto patches
    def registered(self, tg: Any, targets: list[dict[str, Any]], fresh: list[str]) -> None:
        """After RegisterTargets: cancel draining; a new registration starts over."""
        with self._lock:
            for t in targets:
                self.draining.pop((tg.arn, str(t["Id"])), None)
            for key in [k for k in self.checks if k[0] == tg.arn and k[1] in fresh]:
                self.checks.pop(key)
            self.version += 1
        self.wake()

    def install(self) -> None:
        """Patch moto so DescribeTargetHealth and (de)registration go through
        this manager (`health_moto.install`)."""
        from health_moto import install

        install(self)

HEALTH = HealthManager()
