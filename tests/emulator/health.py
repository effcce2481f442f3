"""Target health for the ALB emulator.

Owns: forced target health (`/_emu/target-health`), real HTTP health checks of
loopback targets, deregistration-delay draining, and the moto patches that
expose all of that through DescribeTargetHealth:

* `FakeTargetGroup.health_for` -> precedence: forced state > draining (after
  DeregisterTargets, for the TG's `deregistration_delay.timeout_seconds`) >
  real health-check result > moto's default (`healthy`).
* `FakeTargetGroup.register` / `deregister` -> track draining and reset checks.
* `ELBv2Backend.describe_target_health` -> also lists draining targets.

Health checks: every ~1s (and right after a registration) each registered
target whose Id is a loopback IP (127.0.0.0/8) is probed with HTTP GET on its
TG's HealthCheckPath/port; the TG's Matcher (default 200) decides success.
Before the first result the state is `initial`. 1 success -> `healthy`;
2 consecutive failures -> `unhealthy`. A target that has never answered HTTP
at all (connection refused/timeout from the start) falls back to moto's
default (`healthy`), so moto-only tests with fake IPs keep working. Targets that
are instance IDs or non-loopback IPs are never probed (moto default).
"""

from __future__ import annotations

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import BACKEND_LOCK, is_loopback, iter_elbv2_backends, log

REASONS = {
    "initial": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "unhealthy": ("Target.FailedHealthChecks", "Health checks failed"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
    "unused": ("Target.NotRegistered", "Target is not registered to the target group"),
    "unavailable": ("Target.HealthCheckDisabled", "Health checks are disabled"),
    "healthy": (None, None),
}
VALID_STATES = set(REASONS)
NOT_ROUTABLE = {"unhealthy", "draining", "unused", "unavailable"}


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


class HealthManager:
    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self.forced: dict[tuple, dict[str, Any]] = {}
        self.checks: dict[tuple, dict[str, Any]] = {}
        self.draining: dict[tuple, dict[str, Any]] = {}
        # Bumped on every change that can alter a verdict, so the data plane can
        # cache a target group's routable targets (dataplane.py) between changes.
        self.version = 0
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hc")
        self._thread: threading.Thread | None = None

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

    def evaluate(self, tg: Any, tid: str, port: Any) -> tuple[str, str | None, str | None] | None:
        """Emulator's view of a target's health, or None for moto's default."""
        try:
            port_i = int(port)
        except (TypeError, ValueError):
            port_i = None
        now = time.monotonic()
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
            if not is_loopback(tid) or not tg.health_check_enabled:
                return None
            chk = self.checks.get((tg.arn, tid, port_i))
            if chk is None or chk["state"] is None:
                if chk is not None and not chk["http_seen"] and chk["conn_failures"] > 0:
                    return None  # never reachable over HTTP: moto default
                return ("initial",) + REASONS["initial"]
            if not chk["http_seen"]:
                return None
            state = chk["state"]
            return (state, chk.get("reason") or REASONS[state][0], REASONS[state][1])

    def draining_port(self, tg_arn: str, tid: str) -> Any:
        with self._lock:
            d = self.draining.get((tg_arn, tid))
            if d and d["until"] > time.monotonic():
                return d["port"]
        return None

    # ------------------------------------------------------------ checker
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="health-checker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.run_once()
            except Exception:  # pragma: no cover - keep the thread alive
                log.exception("health check round failed")

    def run_once(self) -> None:
        jobs = []
        with BACKEND_LOCK:
            for _acct, _region, backend in iter_elbv2_backends():
                for tg in list(backend.target_groups.values()):
                    if not tg.health_check_enabled:
                        continue
                    for t in list(tg.targets.values()):
                        tid = str(t["Id"])
                        if not is_loopback(tid):
                            continue
                        port = int(t.get("Port") or tg.port or 80)
                        hc_port = tg.health_check_port
                        hc_port = port if hc_port in (None, "traffic-port") else int(hc_port)
                        jobs.append(((tg.arn, tid, port), tid, hc_port, tg.health_check_path or "/",
                                     getattr(tg, "matcher", None), tg.health_check_protocol or "HTTP",
                                     min(float(tg.health_check_timeout_seconds or 2), 2.0)))
        live = {j[0] for j in jobs}
        with self._lock:
            for key in list(self.checks):
                if key not in live:
                    self.checks.pop(key)
                    self.version += 1
        futures = [(j[0], self._pool.submit(self._probe, *j[1:])) for j in jobs]
        for key, fut in futures:
            try:
                outcome = fut.result(timeout=5)
            except Exception:
                outcome = ("conn", None)
            self._record(key, outcome)

    @staticmethod
    def _probe(ip: str, port: int, path: str, matcher: Any, protocol: str, timeout: float) -> tuple[str, Any]:
        if protocol not in ("HTTP", "HTTPS"):
            import socket
            try:
                socket.create_connection((ip, port), timeout=timeout).close()
                return ("ok", None)
            except OSError:
                return ("conn", None)
        conn = http.client.HTTPConnection(ip, port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"User-Agent": "ELB-HealthChecker/2.0"})
            resp = conn.getresponse()
            resp.read()
            return ("ok", None) if _matches(resp.status, matcher) else ("bad", resp.status)
        except OSError:
            return ("conn", None)
        finally:
            conn.close()

    def _record(self, key: tuple, outcome: tuple[str, Any]) -> None:
        kind, _code = outcome
        with self._lock:
            chk = self.checks.setdefault(key, {"state": None, "http_seen": False, "fails": 0,
                                               "conn_failures": 0, "reason": None})
            before = (chk["state"], chk["http_seen"], chk["reason"], chk["conn_failures"] > 0)
            try:
                self._apply(chk, kind)
            finally:
                if before != (chk["state"], chk["http_seen"], chk["reason"], chk["conn_failures"] > 0):
                    self.version += 1

    @staticmethod
    def _apply(chk: dict[str, Any], kind: str) -> None:
        """One probe outcome: 1 success -> healthy; 2 consecutive failures -> unhealthy."""
        if kind == "ok":
            chk.update(state="healthy", http_seen=True, fails=0, reason=None)
            return
        if kind == "bad":
            chk["http_seen"] = True
            reason = "Target.ResponseCodeMismatch"
        else:
            chk["conn_failures"] += 1
            reason = "Target.FailedHealthChecks"
            if not chk["http_seen"]:
                return
        chk["fails"] += 1
        if chk["fails"] >= 2:
            chk.update(state="unhealthy", reason=reason)

    # ------------------------------------------------------------ moto patches
    def install(self) -> None:
        from moto.elbv2 import models as m

        mgr = self
        orig_health_for = m.FakeTargetGroup.health_for
        orig_register = m.FakeTargetGroup.register
        orig_deregister = m.FakeTargetGroup.deregister

        def health_for(tg, target, ec2_backend):  # noqa: ANN001
            tid = str(target["Id"])
            reg = tg.targets.get(tid)
            port = reg["Port"] if reg else target.get("Port") or mgr.draining_port(tg.arn, tid) or tg.port
            verdict = mgr.evaluate(tg, tid, port)
            if verdict is None:
                return orig_health_for(tg, target, ec2_backend)
            state, reason, desc = verdict
            return m.FakeHealthStatus(tid, port, tg.health_check_port, state, reason, desc)

        def register(tg, targets):  # noqa: ANN001
            fresh = [str(t["Id"]) for t in targets if str(t["Id"]) not in tg.targets]
            orig_register(tg, targets)
            with mgr._lock:
                for t in targets:
                    mgr.draining.pop((tg.arn, str(t["Id"])), None)
                for key in [k for k in mgr.checks if k[0] == tg.arn and k[1] in fresh]:
                    mgr.checks.pop(key)
                mgr.version += 1
            mgr.wake()

        def deregister(tg, targets):  # noqa: ANN001
            before = {tid: dict(t) for tid, t in tg.targets.items()}
            orig_deregister(tg, targets)
            delay = int(tg.attributes.get("deregistration_delay.timeout_seconds", 300) or 0)
            with mgr._lock:
                for t in targets:
                    tid = str(t["Id"])
                    if tid in before and delay > 0:
                        mgr.draining[(tg.arn, tid)] = {"port": before[tid]["Port"],
                                                       "until": time.monotonic() + delay}
                mgr.version += 1

        def describe_target_health(backend, target_group_arn, targets):  # noqa: ANN001
            tg = backend.target_groups.get(target_group_arn)
            if tg is None:
                raise m.TargetGroupNotFoundError()
            if not targets:
                targets = list(tg.targets.values())
                with mgr._lock:
                    now = time.monotonic()
                    for (arn, tid), d in list(mgr.draining.items()):
                        if arn == tg.arn and tid not in tg.targets and d["until"] > now:
                            targets.append({"Id": tid, "Port": d["port"]})
            return [tg.health_for(t, backend.ec2_backend) for t in targets]

        m.FakeTargetGroup.health_for = health_for
        m.FakeTargetGroup.register = register
        m.FakeTargetGroup.deregister = deregister
        m.ELBv2Backend.describe_target_health = describe_target_health


HEALTH = HealthManager()
