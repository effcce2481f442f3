"""CloudWatch support: Smithy RPC v2 CBOR translation and metric aggregation.

Owns:
* `handle_cbor(...)`: serves `POST /service/GraniteServiceVersion20100801/operation/<Op>`
  (the protocol aws-sdk-cloudwatch for Rust >= 1.100 and botocore >= 1.40 speak)
  for GetMetricData, GetMetricStatistics, PutMetricData and ListMetrics by
  calling moto's CloudWatch backend directly and encoding the result as CBOR.
* `query_metric_data(...)`: a fast, CloudWatch-faithful GetMetricData engine
  (period buckets aligned to epoch multiples of Period, exact dimension-set
  match, Sum/Average/SampleCount/Minimum/Maximum and pNN percentiles).
  `install()` patches moto's `CloudWatchBackend.get_metric_data` with it so the
  awsQuery path and the CBOR path return identical data.
* In metrics mode `aws` (metrics.py), the Period and StartTime rules of real
  CloudWatch (below); in mode `fast`, any Period > 0 and buckets aligned to
  epoch multiples of Period, as the emulator always did.

What real CloudWatch does (sources: the CloudWatch API reference, MetricStat
`Period`, GetMetricData `StartTime` and PutMetricAlarm `Period`; the same text
is in botocore's service model `cloudwatch/2010-08-01/service-2.json`):
* Period must be 1, 5, 10, 20 or 30, or a multiple of 60 ("the period can be
  1, 5, 10, 20, 30, 60, or any multiple of 60"; older copies of the page omit
  20). Any other value is rejected. AWS's docs do not quote the error; a
  public troubleshooting guide quotes it for a bad sub-minute value as
  "MetricStat.Period must be a value in the set [ 1, 5, 10, 20, 30 ]". The
  emulator sends that as a 400 ValidationError (the code of GetMetricData's
  other parameter errors) prefixed "The parameter MetricDataQueries.member.N.";
  the wording for a bad value above 60 is ours.
* "For metrics with regular resolution, a period can be as short as one
  minute": ALB metrics are regular (60 s). A shorter Period is not rejected;
  PutMetricAlarm's doc says such a query "does not receive data for the
  attempts that do not correspond to a one-minute data resolution". The data
  point of a minute is stamped at the minute start, so only the sub-minute
  bucket holding that instant has data and the others are empty. The emulator
  stores ALB data at the minute start and so answers the same way.
* StartTime (data less than 15 days old) is rounded down to the whole minute,
  or, for Period 5, 10, 20 or 30, to that division of the minute; buckets run
  from the rounded StartTime in steps of Period. Period 1 is not named in the
  sub-minute rule, so it follows the whole-minute rule here.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

import cbor2

from common import BACKEND_LOCK, cloudwatch_backend, naive_utc, to_epoch

CBOR_PREFIX = "/service/GraniteServiceVersion20100801/operation/"
BASIC_STATS = ("Sum", "Average", "SampleCount", "Minimum", "Maximum")
SUB_MINUTE_PERIODS = (1, 5, 10, 20, 30)
PCT_RE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")


class CwError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# ---------------------------------------------------------------- aggregation

def _dims_key(dims: list[Any]) -> tuple:
    out = []
    for d in dims or []:
        if isinstance(d, dict):
            out.append((d.get("Name"), d.get("Value")))
        else:  # moto Dimension
            out.append((d.name, d.value))
    return tuple(sorted(out))


def _values_of(md: Any) -> tuple[list[float], float, float, float, float]:
    """(raw values, sum, count, min, max) of one moto datum."""
    if hasattr(md, "value"):
        v = float(md.value)
        return [v], v, 1.0, v, v
    avg = md.sum / md.sample_count if md.sample_count else 0.0
    return [avg] * int(md.sample_count), md.sum, md.sample_count, md.min, md.max


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(values)))
    return values[min(rank, len(values)) - 1]


def validate_stat(stat: str) -> None:
    if stat in BASIC_STATS or PCT_RE.match(stat or ""):
        return
    raise CwError("InvalidParameterValue", f"The value {stat} for parameter Stat is not supported.")


def _stat_value(stat: str, vals: list[float], s: float, n: float, mn: float, mx: float) -> float | None:
    if stat == "Sum":
        return s
    if stat == "SampleCount":
        return n
    if stat == "Average":
        return s / n if n else None
    if stat == "Minimum":
        return mn
    if stat == "Maximum":
        return mx
    return _percentile(vals, float(stat[1:]))


def bucketize(backend: Any, namespace: str, name: str, dims: list[Any], unit: str | None,
              start: float, end: float, period: int, anchor: float = 0.0) -> dict[int, list]:
    """Group matching datapoints into period buckets: {bucket_start: [vals, sum, n, min, max]}.
    Buckets start at `anchor` + k * Period (0 = epoch multiples of Period)."""
    want = _dims_key(dims)
    buckets: dict[int, list] = {}
    for md in list(backend.get_all_metrics()):
        if md.name != name or md.namespace != namespace:
            continue
        if _dims_key(md.dimensions) != want:
            continue
        if unit and md.unit != unit:
            continue
        ts = to_epoch(md.timestamp)
        if ts < start or ts >= end:
            continue
        key = int(anchor + (ts - anchor) // period * period)
        vals, s, n, mn, mx = _values_of(md)
        b = buckets.get(key)
        if b is None:
            buckets[key] = [list(vals), s, n, mn, mx]
        else:
            b[0].extend(vals)
            b[1] += s
            b[2] += n
            b[3] = min(b[3], mn)
            b[4] = max(b[4], mx)
    return buckets


def aws_strict() -> bool:
    """True when the metrics mode asks for real CloudWatch's Period/StartTime rules."""
    from metrics import METRICS

    return METRICS.mode == "aws"


def check_period(period: int, parameter: str, code: str) -> None:
    """Reject a Period real CloudWatch rejects (see the module header)."""
    if period in SUB_MINUTE_PERIODS or (period > 0 and period % 60 == 0):
        return
    if period < 60:
        raise CwError(code, f"The parameter {parameter} must be a value in the set [ 1, 5, 10, 20, 30 ].")
    raise CwError(code, f"The parameter {parameter} must be a multiple of 60.")


def aligned_start(start: float, period: int) -> float:
    """StartTime as real CloudWatch rounds it (data < 15 days old)."""
    step = period if period in (5, 10, 20, 30) else 60
    return math.floor(start / step) * step


def query_metric_data(backend: Any, queries: list[dict[str, Any]], start: Any, end: Any,
                      scan_by: str | None = None, strict: bool | None = None) -> list[dict[str, Any]]:
    """GetMetricData over moto's stored metrics. Returns moto-style result dicts
    (keys id, label, values, timestamps (naive UTC datetimes), status_code).
    `strict` (default: metrics mode is `aws`) applies CloudWatch's Period and
    StartTime rules."""
    strict = aws_strict() if strict is None else strict
    start_s, end_s = to_epoch(start), to_epoch(end)
    if start_s >= end_s:
        raise CwError("ValidationError", "The parameter EndTime must be greater than StartTime.")
    descending = (scan_by or "TimestampDescending") == "TimestampDescending"
    results = []
    for index, q in enumerate(queries or [], start=1):
        if "MetricStat" not in q and "Expression" not in q:
            raise CwError("ValidationError", "The parameter MetricDataQueries.member.1.MetricStat is required.")
        if q.get("ReturnData") is False:
            continue
        if "MetricStat" not in q:
            # Metric math / insights is not emulated: empty but complete.
            results.append({"id": q["Id"], "label": q.get("Label") or q["Id"], "values": [],
                            "timestamps": [], "status_code": "Complete"})
            continue
        ms = q["MetricStat"]
        metric = ms.get("Metric", {})
        stat = ms.get("Stat")
        validate_stat(stat)
        period = int(ms.get("Period") or 60)
        if period <= 0:
            raise CwError("InvalidParameterValue", "The parameter Period must be greater than 0.")
        q_start = start_s
        if strict:
            check_period(period, f"MetricDataQueries.member.{index}.MetricStat.Period", "ValidationError")
            q_start = aligned_start(start_s, period)
        buckets = bucketize(backend, metric.get("Namespace"), metric.get("MetricName"),
                            metric.get("Dimensions", []), ms.get("Unit"), q_start, end_s, period,
                            anchor=q_start if strict else 0.0)
        keys = sorted(buckets, reverse=descending)
        values, stamps = [], []
        for k in keys:
            v = _stat_value(stat, *buckets[k])
            if v is None:
                continue
            values.append(float(v))
            stamps.append(naive_utc(k))
        results.append({"id": q["Id"], "label": q.get("Label") or f"{metric.get('MetricName')} {stat}",
                        "values": values, "timestamps": stamps, "status_code": "Complete"})
    return results


def query_statistics(backend: Any, p: dict[str, Any], strict: bool | None = None) -> dict[str, Any]:
    """GetMetricStatistics (CBOR path); `strict` as in query_metric_data."""
    strict = aws_strict() if strict is None else strict
    stats = p.get("Statistics") or []
    ext = p.get("ExtendedStatistics") or []
    if not stats and not ext:
        raise CwError("InvalidParameterCombination", "Must specify either Statistics or ExtendedStatistics")
    for s in list(stats) + list(ext):
        validate_stat(s)
    period = int(p.get("Period") or 60)
    start_s, end_s = to_epoch(p["StartTime"]), to_epoch(p["EndTime"])
    if start_s >= end_s:
        raise CwError("InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.")
    if strict:
        check_period(period, "Period", "InvalidParameterValue")
        start_s = aligned_start(start_s, period)
    buckets = bucketize(backend, p.get("Namespace"), p.get("MetricName"), p.get("Dimensions", []),
                        p.get("Unit"), start_s, end_s, period, anchor=start_s if strict else 0.0)
    points = []
    for k in sorted(buckets):
        b = buckets[k]
        dp: dict[str, Any] = {"Timestamp": cbor2.CBORTag(1, float(k)), "Unit": p.get("Unit") or "None"}
        for s in stats:
            v = _stat_value(s, *b)
            if v is not None:
                dp[s] = float(v)
        if ext:
            dp["ExtendedStatistics"] = {s: float(_stat_value(s, *b) or 0.0) for s in ext}
        points.append(dp)
    return {"Label": p.get("MetricName"), "Datapoints": points}


def install() -> None:
    """Patch moto's CloudWatchBackend.get_metric_data with query_metric_data."""
    from moto.cloudwatch.exceptions import InvalidParameterValue, ValidationError
    from moto.cloudwatch.models import CloudWatchBackend

    def get_metric_data(self, queries, start_time, end_time, scan_by="TimestampAscending"):  # noqa: ANN001
        try:
            return query_metric_data(self, queries, start_time, end_time, scan_by)
        except CwError as e:
            if e.code == "ValidationError":
                raise ValidationError(e.message)
            raise InvalidParameterValue(e.message)

    CloudWatchBackend.get_metric_data = get_metric_data


# ---------------------------------------------------------------- CBOR protocol

def _ts(value: Any) -> cbor2.CBORTag:
    return cbor2.CBORTag(1, float(to_epoch(value)))


def _to_datetime(value: Any) -> datetime:
    return naive_utc(to_epoch(value))


def _op_get_metric_data(backend: Any, p: dict[str, Any]) -> dict[str, Any]:
    res = query_metric_data(backend, p.get("MetricDataQueries", []), p["StartTime"], p["EndTime"],
                            p.get("ScanBy"))
    return {
        "MetricDataResults": [
            {"Id": r["id"], "Label": r["label"], "Timestamps": [_ts(t) for t in r["timestamps"]],
             "Values": [float(v) for v in r["values"]], "StatusCode": r["status_code"], "Messages": []}
            for r in res
        ],
        "Messages": [],
    }


def _op_put_metric_data(backend: Any, p: dict[str, Any]) -> dict[str, Any]:
    data = []
    for m in p.get("MetricData", []):
        m = dict(m)
        if "Timestamp" in m and m["Timestamp"] is not None:
            m["Timestamp"] = _to_datetime(m["Timestamp"])
        data.append(m)
    backend.put_metric_data(p.get("Namespace"), data)
    return {}


def _op_list_metrics(backend: Any, p: dict[str, Any]) -> dict[str, Any]:
    token, metrics = backend.list_metrics(p.get("NextToken"), p.get("Namespace"), p.get("MetricName"),
                                          p.get("Dimensions", []))
    out: dict[str, Any] = {"Metrics": [
        {"Namespace": m.namespace, "MetricName": m.name,
         "Dimensions": [{"Name": d.name, "Value": d.value} for d in m.dimensions]}
        for m in metrics
    ]}
    if token:
        out["NextToken"] = token
    return out


OPERATIONS = {
    "GetMetricData": _op_get_metric_data,
    "GetMetricStatistics": query_statistics,
    "PutMetricData": _op_put_metric_data,
    "ListMetrics": _op_list_metrics,
}


def call_detail(operation: str, body: bytes) -> dict[str, Any] | None:
    """What the call log records of a GetMetricData beyond its name: the
    `LoadBalancer` dimension values its queries named (`load_balancers`,
    distinct, in request order), so a test can tell one call covering
    several load balancers from one call per load balancer."""
    if operation != "GetMetricData":
        return None
    try:
        params = cbor2.loads(body) if body else {}
    except (cbor2.CBORDecodeError, ValueError):
        return None
    out: list[str] = []
    for q in params.get("MetricDataQueries") or []:
        metric = ((q or {}).get("MetricStat") or {}).get("Metric") or {}
        for d in metric.get("Dimensions") or []:
            if d.get("Name") == "LoadBalancer" and d.get("Value") not in out:
                out.append(d.get("Value"))
    return {"load_balancers": out}


def handle_cbor(operation: str, body: bytes, account: str, region: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Serve one RPC v2 CBOR CloudWatch call. Returns (status, headers, body)."""
    from faults import render_error

    headers = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    fn = OPERATIONS.get(operation)
    if fn is None:
        return render_error("cbor", 400, "UnknownOperationException",
                            f"Operation {operation} is not supported by the emulator's CBOR bridge")
    try:
        params = cbor2.loads(body) if body else {}
        if not isinstance(params, dict):
            raise CwError("SerializationException", "request body must be a CBOR map")
        with BACKEND_LOCK:
            out = fn(cloudwatch_backend(account, region), params)
        return 200, headers, cbor2.dumps(out)
    except CwError as e:
        return render_error("cbor", e.status, e.code, e.message)
    except (KeyError, TypeError, ValueError, cbor2.CBORDecodeError) as e:
        return render_error("cbor", 400, "InvalidParameterValue", f"bad request: {e!r}")
    except Exception as e:  # moto ServiceException / RESTError
        code = getattr(e, "code", None) or getattr(e, "error_type", None) or "InternalFailure"
        if not isinstance(code, str):
            code = getattr(e, "error_type", "InternalFailure")
        message = getattr(e, "message", None) or str(e)
        status = 500 if code == "InternalFailure" else 400
        return render_error("cbor", status, code, message)
