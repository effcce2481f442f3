"""Ground truth of which target group and target the data plane sent requests to.

Owns: per target group and per target (`IP:port`) counters of requests the
data plane forwarded, each with the wall-clock time of its first and last
request, plus a bounded list of recent request times so `/_emu/served?since=`
can count what was forwarded after a given instant. A deployment test uses it
to prove "no NEW request reached blue after time T" before blue is
deregistered (the tool itself can only infer that from probes and version
headers). Counters only grow; `reset` (POST /_emu/reset) clears them.

A request is counted when the data plane picks a target for it (before the
proxy call), so a target that then fails with 502 is still counted: it was
sent the request, which is what "reached" means here. Requests answered by
the emulated ALB itself (503 no target, fixed-response, redirect) are not
counted for any group.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from typing import Any

# Recent request times kept per target: enough for minutes of test traffic at
# hundreds of rps, bounded so a long soak cannot grow memory without limit.
RECENT_PER_TARGET = 100_000


class Served:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._tgs: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        with self._lock:
            self._tgs.clear()
            self._seq = 0

    def record(self, tg_arn: str, ip: str, port: int, when: float | None = None) -> None:
        key = f"{ip}:{port}"
        with self._lock:
            # stamped under the lock so every target's `recent` stays sorted for bisect
            when = time.time() if when is None else when
            self._seq += 1
            tg = self._tgs.setdefault(tg_arn, {"requests": 0, "first_at": when, "last_at": when, "targets": {}})
            tg["requests"] += 1
            tg["last_at"] = when
            t = tg["targets"].get(key)
            if t is None:
                t = tg["targets"][key] = {"requests": 0, "first_at": when, "last_at": when,
                                          "recent": deque(maxlen=RECENT_PER_TARGET)}
            t["requests"] += 1
            t["last_at"] = when
            t["recent"].append(when)

    def snapshot(self, since: float | None = None) -> dict[str, Any]:
        """All counters; with `since`, also how many requests each got at or after it."""
        out: dict[str, Any] = {"now": time.time(), "seq": self._seq, "target_groups": {}}
        if since is not None:
            out["since"] = since
        with self._lock:
            out["seq"] = self._seq
            for arn, tg in self._tgs.items():
                tgo: dict[str, Any] = {"requests": tg["requests"], "first_at": tg["first_at"],
                                       "last_at": tg["last_at"], "targets": {}}
                total_since, exact = 0, True
                for key, t in tg["targets"].items():
                    to = {"requests": t["requests"], "first_at": t["first_at"], "last_at": t["last_at"]}
                    if since is not None:
                        recent = t["recent"]
                        n = len(recent) - bisect.bisect_left(recent, since)
                        # the deque forgot older entries: n is a lower bound unless it kept them all
                        if n == len(recent) and len(recent) < t["requests"]:
                            exact = False
                        to["requests_since"] = n
                        total_since += n
                    tgo["targets"][key] = to
                if since is not None:
                    tgo["requests_since"] = total_since
                    tgo["since_exact"] = exact
                out["target_groups"][arn] = tgo
        return out


SERVED = Served()
