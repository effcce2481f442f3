"""Propagation delay between the ELBv2 API and the emulated data plane.

Owns: the history of routing configuration the data plane may use. On AWS a
ModifyListener / ModifyRule / CreateRule / DeleteRule / SetRulePriorities /
RegisterTargets / DeregisterTargets call returns as soon as the control plane
has stored it; the load balancer's nodes apply it some seconds later, so NEW
requests keep following the old rules, weights and target set for a while
(the API, Describe*, shows the new state at once). This module keeps
timestamped snapshots of every listener's rules/default actions and of every
target group's registered (Id, Port) set, and hands the data plane the newest
snapshot that is at least `delay` seconds old.

Snapshots are taken right after every mutating ELBv2 call (middleware.py) and
by the data plane's 0.3 s poll (which catches anything else, e.g. /moto-api).
A listener (or target group) younger than the delay is served from its first
snapshot: the emulator does not lag listener creation itself.

Health is NOT delayed: each ALB node runs its own health checks, so a target
that fails them stops getting traffic as soon as it is seen unhealthy
(dataplane.py reads live health). Deregistration IS delayed: a deregistered
target keeps receiving new requests until the change has propagated, which is
why deployment tools must wait before treating a deregistered target as idle.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from common import BACKEND_LOCK, iter_elbv2_backends

DEFAULT_DELAY = 3.0
MAX_DELAY = 60.0
# History older than this (beyond the newest entry older than it) is pruned, so
# the delay can be raised at runtime up to MAX_DELAY without losing state.
KEEP_SECONDS = MAX_DELAY + 5


def parse_delay(value: Any) -> float:
    try:
        delay = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"propagation delay must be a number of seconds, got {value!r}") from None
    if not 0 <= delay <= MAX_DELAY:
        raise ValueError(f"propagation delay must be between 0 and {MAX_DELAY:g} seconds, got {delay:g}")
    return delay


def _data(action: Any) -> dict[str, Any]:
    return copy.deepcopy(action.data if hasattr(action, "data") else action)


def listener_view(listener: Any) -> dict[str, Any]:
    """Plain, immutable-by-convention copy of what routing needs from a moto listener."""
    rules = sorted(listener._non_default_rules.values(), key=lambda r: int(r.priority))
    return {
        "port": listener.port,
        "rules": [{"priority": int(r.priority), "conditions": copy.deepcopy(r.conditions or []),
                   "actions": [_data(a) for a in r.actions or []]} for r in rules],
        "default": [_data(a) for a in listener.default_actions or []],
    }


class Propagation:
    def __init__(self, delay: float = DEFAULT_DELAY) -> None:
        self.delay = delay
        self.startup_delay = delay
        self._lock = threading.Lock()
        # key -> [(monotonic time seen, value or None when gone)], oldest first
        self._listeners: dict[str, list[tuple[float, Any]]] = {}
        self._targets: dict[str, list[tuple[float, Any]]] = {}

    def configure(self, delay: Any = None, startup: bool = False) -> dict[str, Any]:
        if delay is not None:
            self.delay = parse_delay(delay)
            if startup:
                self.startup_delay = self.delay
        return self.config()

    def reset(self) -> None:
        with self._lock:
            self._listeners.clear()
            self._targets.clear()
            self.delay = self.startup_delay

    # ------------------------------------------------------------ capture
    def capture(self) -> None:
        """Snapshot moto's current listeners and target sets (takes BACKEND_LOCK)."""
        listeners: dict[str, Any] = {}
        targets: dict[str, Any] = {}
        with BACKEND_LOCK:
            now = time.monotonic()
            for _a, _r, backend in iter_elbv2_backends():
                for lb in list(backend.load_balancers.values()):
                    for arn, lst in list(lb.listeners.items()):
                        listeners[arn] = listener_view(lst)
                for arn, tg in list(backend.target_groups.items()):
                    targets[arn] = frozenset((str(t["Id"]), int(t.get("Port") or tg.port or 80))
                                             for t in tg.targets.values())
        with self._lock:
            self._append(self._listeners, listeners, now)
            self._append(self._targets, targets, now)

    @staticmethod
    def _append(store: dict[str, list[tuple[float, Any]]], current: dict[str, Any], now: float) -> None:
        for key in set(store) | set(current):
            hist = store.setdefault(key, [])
            value = current.get(key)
            if not hist or hist[-1][1] != value:
                hist.append((now, value))
            # prune: keep the newest entry older than KEEP_SECONDS and all newer ones
            cut = 0
            while cut + 1 < len(hist) and hist[cut + 1][0] <= now - KEEP_SECONDS:
                cut += 1
            if cut:
                del hist[:cut]
            if len(hist) == 1 and hist[0][1] is None and hist[0][0] <= now - KEEP_SECONDS:
                del store[key]

    # ------------------------------------------------------------ lookup
    def _effective(self, hist: list[tuple[float, Any]] | None, now: float) -> Any:
        if not hist:
            return None
        chosen = hist[0][1]
        for seen, value in hist:
            if seen <= now - self.delay:
                chosen = value
            else:
                break
        return chosen

    def listener(self, arn: str) -> dict[str, Any] | None:
        """The listener config the data plane applies now (None: unknown or gone)."""
        with self._lock:
            return self._effective(self._listeners.get(arn), time.monotonic())

    def targets(self, tg_arn: str) -> frozenset | None:
        """The (Id, Port) set the data plane routes to now (None: unknown or gone)."""
        with self._lock:
            return self._effective(self._targets.get(tg_arn), time.monotonic())

    def used_groups(self) -> set[str]:
        """Target groups the listener configs the data plane applies now forward
        to: a node that has not yet seen a ModifyListener still uses (and so
        still health-checks) the group the change took out."""
        from tg_usage import referenced_in_view

        now = time.monotonic()
        with self._lock:
            views = [self._effective(h, now) for h in self._listeners.values()]
        out: set[str] = set()
        for v in views:
            if v:
                out |= referenced_in_view(v)
        return out

    def config(self) -> dict[str, Any]:
        """The delay, and when each change not yet applied will be (wall-clock epoch)."""
        mono, wall = time.monotonic(), time.time()
        pending = []
        with self._lock:
            for kind, store in (("listener", self._listeners), ("target_group", self._targets)):
                for arn, hist in store.items():
                    for seen, _v in hist[1:]:
                        if seen > mono - self.delay:
                            pending.append({"kind": kind, "arn": arn,
                                            "applies_at": wall + (seen + self.delay - mono)})
        pending.sort(key=lambda p: p["applies_at"])
        return {"delay": self.delay, "now": wall, "pending": pending,
                "settled_at": max([p["applies_at"] for p in pending], default=wall)}


PROPAGATION = Propagation()
