"""Data-plane metrics publisher.

Owns: aggregation of data-plane requests and their publication into moto's
CloudWatch backend (namespace `AWS/ApplicationELB`), the metrics mode
(`aws` or `fast`), the publication delay, and the clock the publisher reads
(injectable, so self-tests control time).

What is published (both modes):
  Dimensions {TargetGroup=targetgroup/NAME/ID, LoadBalancer=app/NAME/ID}:
    RequestCount, HTTPCode_Target_2XX/3XX/4XX/5XX_Count (unit Count -> use Sum),
    TargetResponseTime (Seconds, one datum per request -> Average/pNN exact),
    TargetConnectionErrorCount (a chosen target refused the connection; the
    request still counts in RequestCount).
  Dimensions {LoadBalancer}:
    RequestCount (all requests incl. fixed-response/redirect/ELB errors),
    HTTPCode_ELB_4XX_Count / HTTPCode_ELB_5XX_Count (answered by the ALB itself),
    HTTPCode_ELB_502_Count and TargetConnectionErrorCount (connection errors).
  A count that is zero is never published: no datapoint, not a 0.

Mode `aws` (the default): like a real ALB, data lands in 60-second buckets
aligned to the UTC minute (timestamp = minute start). A bucket is published
only once `minute end + delay` has passed (default delay 90 s, within the 1-3
minutes real ALB metrics take to reach CloudWatch). Until then nothing of it
exists in the CloudWatch store, so GetMetricData, GetMetricStatistics and
ListMetrics cannot see it, and a partial minute is never visible.
TargetResponseTime keeps one datum per request, all stamped at the minute
start and released together, so percentiles stay exact.

Mode `fast`: whole-second timestamps, each completed second published about a
second later. For tests that are about something other than CloudWatch timing.

Requests are always recorded per second; the mode in force at publication
time decides the bucket size, so switching mode at runtime (control hook
`POST /_emu/metrics`) applies to everything still pending.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any, Callable

from common import BACKEND_LOCK, arn_account_region, cloudwatch_backend, lb_dimension, log, naive_utc, tg_dimension

NAMESPACE = "AWS/ApplicationELB"
MODES = ("aws", "fast")
DEFAULT_MODE = "aws"
DEFAULT_DELAY = 90.0
BUCKET_SECONDS = 60  # ALB metrics are standard (60 s) resolution


def parse_mode(value: Any) -> str:
    mode = str(value or "").strip().lower()
    if mode not in MODES:
        raise ValueError(f"metrics mode must be one of {', '.join(MODES)}, not {value!r}")
    return mode


def parse_delay(value: Any) -> float:
    try:
        delay = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"metrics delay must be a number of seconds, not {value!r}") from None
    if not 0 <= delay <= 86400:
        raise ValueError(f"metrics delay must be between 0 and 86400 seconds, not {value!r}")
    return delay


def _new_bucket() -> dict[str, Any]:
    return {"counts": defaultdict(int), "times": []}


class MetricsPublisher:
    def __init__(self, clock: Callable[[], float] = time.time, mode: str = DEFAULT_MODE,
                 delay: float = DEFAULT_DELAY) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        # (lb_arn, tg_arn or None, whole second) -> {"counts": {name: n}, "times": [seconds]}
        self._pending: dict[tuple, dict[str, Any]] = defaultdict(_new_bucket)
        self.mode, self.delay = parse_mode(mode), parse_delay(delay)
        # What the process was started with; `reset` returns to it so one
        # test's runtime switch never leaks into the next.
        self._startup = (self.mode, self.delay)
        self._wake = threading.Event()
        self.published = 0

    # ------------------------------------------------------------ config

    def configure(self, mode: Any = None, delay: Any = None, startup: bool = False) -> dict[str, Any]:
        new_mode = parse_mode(mode) if mode is not None else self.mode
        new_delay = parse_delay(delay) if delay is not None else self.delay
        with self._lock:
            self.mode, self.delay = new_mode, new_delay
            if startup:
                self._startup = (new_mode, new_delay)
        self._wake.set()  # the loop re-plans its next wake-up
        return self.config()

    def config(self) -> dict[str, Any]:
        now = self.clock()
        pending: dict[tuple, dict[str, Any]] = {}
        with self._lock:
            mode, delay = self.mode, self.delay
            for (lb, tg, sec), b in self._pending.items():
                start = self._bucket_start(sec, mode)
                p = pending.setdefault((lb, tg, start), {
                    "load_balancer": lb_dimension(lb), "target_group": tg_dimension(tg) if tg else None,
                    "bucket": start, "visible_at": self._visible_at(start, mode, delay), "requests": 0})
                p["requests"] += b["counts"].get("RequestCount", 0)
        return {"mode": mode, "delay": delay, "now": now, "published": self.published,
                "pending": sorted(pending.values(), key=lambda p: (p["bucket"], p["load_balancer"],
                                                                   p["target_group"] or ""))}

    def reset(self) -> None:
        with self._lock:
            self._pending.clear()
            self.mode, self.delay = self._startup
        self._wake.set()

    # ------------------------------------------------------------ recording

    def record_target(self, lb_arn: str, tg_arn: str, status: int, seconds: float) -> None:
        sec = int(self.clock())
        with self._lock:
            b = self._pending[(lb_arn, tg_arn, sec)]
            b["counts"]["RequestCount"] += 1
            if status // 100 in (2, 3, 4, 5):
                b["counts"][f"HTTPCode_Target_{status // 100}XX_Count"] += 1
            b["times"].append(seconds)
            self._pending[(lb_arn, None, sec)]["counts"]["RequestCount"] += 1

    def record_connection_error(self, lb_arn: str, tg_arn: str) -> None:
        """A target was chosen but its connection failed: the client got a 502.

        As ALB counts it (CloudWatch metrics for your ALB): RequestCount
        counts every request for which a target was chosen, so it counts on
        the TargetGroup+LoadBalancer dimensions too; TargetConnectionErrorCount
        on TargetGroup+LoadBalancer and LoadBalancer; the 502 itself only in
        HTTPCode_ELB_502_Count / HTTPCode_ELB_5XX_Count, LoadBalancer only. No
        HTTPCode_Target_* and no TargetResponseTime: the target never answered.
        """
        sec = int(self.clock())
        with self._lock:
            t = self._pending[(lb_arn, tg_arn, sec)]["counts"]
            t["RequestCount"] += 1
            t["TargetConnectionErrorCount"] += 1
            lb = self._pending[(lb_arn, None, sec)]["counts"]
            lb["RequestCount"] += 1
            lb["TargetConnectionErrorCount"] += 1
            lb["HTTPCode_ELB_502_Count"] += 1
            lb["HTTPCode_ELB_5XX_Count"] += 1

    def record_lb(self, lb_arn: str, status: int | None) -> None:
        """A request answered by the ALB itself (fixed-response, redirect, 502/503/504)."""
        sec = int(self.clock())
        with self._lock:
            b = self._pending[(lb_arn, None, sec)]
            b["counts"]["RequestCount"] += 1
            if status is not None and status >= 500:
                b["counts"]["HTTPCode_ELB_5XX_Count"] += 1
            elif status is not None and 400 <= status < 500:
                b["counts"]["HTTPCode_ELB_4XX_Count"] += 1

    # ------------------------------------------------------------ publication

    @staticmethod
    def _bucket_start(sec: int, mode: str) -> int:
        return sec if mode == "fast" else sec // BUCKET_SECONDS * BUCKET_SECONDS

    @staticmethod
    def _visible_at(start: int, mode: str, delay: float) -> float:
        # fast: a second is published once it has completed (next tick).
        return start + 1 if mode == "fast" else start + BUCKET_SECONDS + delay

    def next_due(self) -> float | None:
        """When the earliest pending bucket becomes publishable (None: nothing pending)."""
        with self._lock:
            mode, delay = self.mode, self.delay
            secs = {k[2] for k in self._pending}
        if not secs:
            return None
        return self._visible_at(self._bucket_start(min(secs), mode), mode, delay)

    def flush(self, now: float | None = None, all_: bool = False) -> int:
        """Publish every pending bucket visible at `now` (default: the clock).

        `all_=True` publishes everything pending, the current partial bucket
        included (test-only: real CloudWatch never shows a partial minute).
        Returns the number of data written.
        """
        from moto.cloudwatch.models import MetricDatum

        now = self.clock() if now is None else float(now)
        with self._lock:
            mode, delay = self.mode, self.delay
            keys = [k for k in self._pending
                    if all_ or self._visible_at(self._bucket_start(k[2], mode), mode, delay) <= now]
            items = [(k, self._pending.pop(k)) for k in keys]
        # Merge seconds into their bucket (a no-op in fast mode).
        merged: dict[tuple, dict[str, Any]] = defaultdict(_new_bucket)
        for (lb_arn, tg_arn, sec), b in items:
            m = merged[(lb_arn, tg_arn, self._bucket_start(sec, mode))]
            for name, count in b["counts"].items():
                m["counts"][name] += count
            m["times"].extend(b["times"])
        n = 0
        with BACKEND_LOCK:
            for (lb_arn, tg_arn, start), b in sorted(merged.items(), key=lambda kv: kv[0][2]):
                account, region = arn_account_region(lb_arn)
                backend = cloudwatch_backend(account, region)
                ts = naive_utc(start)
                dims = [{"Name": "LoadBalancer", "Value": lb_dimension(lb_arn)}]
                if tg_arn:
                    dims = [{"Name": "TargetGroup", "Value": tg_dimension(tg_arn)}] + dims
                for name, count in b["counts"].items():
                    if count <= 0:  # AWS publishes no zero-count datapoints
                        continue
                    backend.metric_data.append(MetricDatum(NAMESPACE, name, float(count), dims, ts, "Count"))
                    n += 1
                for t in b["times"]:
                    backend.metric_data.append(MetricDatum(NAMESPACE, "TargetResponseTime", float(t), dims,
                                                           ts, "Seconds"))
                    n += 1
        self.published += n
        return n

    def start(self) -> None:
        def loop() -> None:
            while True:
                try:
                    self.flush()
                    due = self.next_due()
                except Exception:  # pragma: no cover
                    log.exception("metrics flush failed")
                    due = None
                # Wake when the next bucket is due (never publish early), at
                # least once a second, and at once after a config change.
                wait = 1.0 if due is None else min(1.0, max(0.02, due - self.clock()))
                self._wake.wait(wait)
                self._wake.clear()

        threading.Thread(target=loop, name="metrics", daemon=True).start()


METRICS = MetricsPublisher()
