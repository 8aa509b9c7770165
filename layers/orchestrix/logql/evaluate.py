"""Evaluating LogQL metric queries over the timestamps of matching lines.

A range function at time t sees the lines in (t - range, t], as Loki's do. A stream (or
group) with no line in the window has no sample at t, so `count_over_time` never invents
zeros, and a comparison keeps only the samples it holds for.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from orchestrix.domain.logs import NS_PER_S, Labels
from orchestrix.logql.binary import binary
from orchestrix.logql.model import LogSelector, StreamTimes
from orchestrix.logql.parse import (
    BinaryOp,
    MetricExpr,
    NumberLiteral,
    RangeAggregation,
    VectorAggregation,
    VectorLiteral,
)
from orchestrix.logql.stages import ERROR, ERROR_DETAILS
from orchestrix.promql.rangefuncs import quantile

# Reads the timestamps of the lines a selector matches in [start_ns, end_ns].
Fetch = Callable[[LogSelector, int, int], list[StreamTimes]]
MAX_POINTS = 11_000  # per series, as Prometheus and Loki refuse finer range queries


class LogQLEvaluationError(ValueError):
    """The query parsed but cannot be answered (e.g. a many-to-many match)."""


@dataclass(frozen=True)
class SeriesResult:
    labels: Labels
    points: list[tuple[int, float]]  # (ns, value), increasing time


def steps(start_ns: int, end_ns: int, step_ns: int) -> list[int]:
    if step_ns <= 0:
        raise ValueError("step must be positive")
    count = (end_ns - start_ns) // step_ns + 1
    if count > MAX_POINTS:
        raise ValueError(
            f"exceeded maximum resolution of {MAX_POINTS} points per timeseries; "
            "try decreasing the query resolution (?step=XX)"
        )
    return [start_ns + i * step_ns for i in range(max(count, 0))]


def evaluate(expr: MetricExpr, at: list[int], fetch: Fetch) -> list[SeriesResult]:
    """The expression's series at each instant of `at` (sorted), by label set; a scalar
    expression answers as one series without labels."""
    value = _eval(expr, at, fetch)
    table: Table = value if isinstance(value, dict) else {(): dict(zip(at, value, strict=True))}
    out = []
    for labels in sorted(table):
        points = sorted(table[labels].items())
        if points:
            out.append(SeriesResult(labels, points))
    return out


Table = dict[Labels, dict[int, float]]
Value = Table | list[float]  # a vector by label set, or a scalar's value at each step


def _eval(expr: MetricExpr, at: list[int], fetch: Fetch) -> Value:
    if isinstance(expr, RangeAggregation):
        return _range(expr, at, fetch)
    if isinstance(expr, NumberLiteral):
        return [expr.value] * len(at)
    if isinstance(expr, VectorLiteral):
        return {(): dict.fromkeys(at, expr.value)} if at else {}
    if isinstance(expr, BinaryOp):
        return binary(expr, _eval(expr.lhs, at, fetch), _eval(expr.rhs, at, fetch), at)
    inner = _eval(expr.inner, at, fetch)
    assert isinstance(inner, dict)  # the parser refuses aggregating a scalar
    return _aggregate(expr, inner)


def _stdvar(values: list[float]) -> float:
    mean = math.fsum(values) / len(values)
    return math.fsum((v - mean) ** 2 for v in values) / len(values)


# Each function over the values of the lines in a window (never empty).
_OVER_TIME: dict[str, Callable[[list[float], float], float]] = {
    "count_over_time": lambda values, seconds: float(len(values)),
    "bytes_over_time": lambda values, seconds: math.fsum(values),
    "bytes_rate": lambda values, seconds: math.fsum(values) / seconds,
    "sum_over_time": lambda values, seconds: math.fsum(values),
    "avg_over_time": lambda values, seconds: math.fsum(values) / len(values),
    "min_over_time": lambda values, seconds: min(values),
    "max_over_time": lambda values, seconds: max(values),
    "first_over_time": lambda values, seconds: values[0],
    "last_over_time": lambda values, seconds: values[-1],
    "stdvar_over_time": lambda values, seconds: _stdvar(values),
    "stddev_over_time": lambda values, seconds: math.sqrt(_stdvar(values)),
}


def _merged(expr: RangeAggregation, streams: list[StreamTimes]) -> dict[Labels, StreamTimes]:
    """Streams by their labels after `| drop` (and the range aggregation's own `by` or
    `without`): those left alike are one series."""
    groups: dict[Labels, list[StreamTimes]] = {}
    for stream in streams:
        labels = expr.selector.relabel(stream.labels)
        _refuse_errors(labels)
        if expr.grouping is not None:
            labels = _keep(labels, expr.grouping, expr.without)
        groups.setdefault(labels, []).append(stream)
    merged = {}
    for labels, members in groups.items():
        if len(members) == 1:
            merged[labels] = members[0]
            continue
        pairs = sorted(
            (t, v)
            for m in members
            for t, v in zip(m.timestamps, m.values or [1.0] * len(m.timestamps), strict=True)
        )
        values = [v for _, v in pairs] if members[0].values is not None else None
        merged[labels] = StreamTimes(labels, [t for t, _ in pairs], values)
    return merged


def _refuse_errors(labels: Labels) -> None:
    """A series still marked `__error__` fails the query, as in Loki: its values would
    count lines that did not parse, or be NaN."""
    error = dict(labels).get(ERROR)
    if error is None:
        return
    shown = ", ".join(f'{n}="{v}"' for n, v in labels if n != ERROR_DETAILS)
    raise LogQLEvaluationError(
        f"pipeline error: '{error}' for series: '{{{shown}}}'. Use a label filter to "
        f'intentionally skip this error (e.g | __error__!="{error}"); to skip all potential '
        'errors match empty errors (e.g | __error__=""), also after | unwrap'
    )


def _range(expr: RangeAggregation, at: list[int], fetch: Fetch) -> Table:
    if not at:
        return {}
    window = expr.range_ns
    streams = _merged(expr, fetch(expr.selector, at[0] - window, at[-1]))
    if expr.function == "absent_over_time":
        return _absent(expr, at, streams)
    seconds = window / NS_PER_S
    function = expr.function
    if function == "rate":
        function = "bytes_rate"  # the per-second sum: of the values, or of 1 per line
    over = _OVER_TIME.get(function)
    table: Table = {}
    for labels, stream in streams.items():
        stamps = stream.timestamps
        values = stream.values if stream.values is not None else [1.0] * len(stamps)
        points: dict[int, float] = {}
        for t in at:
            lo, hi = bisect_right(stamps, t - window), bisect_right(stamps, t)
            if hi > lo:
                window_values = values[lo:hi]
                if over is not None:
                    points[t] = over(window_values, seconds)
                else:  # quantile_over_time, the parser made sure of its parameter
                    assert expr.parameter is not None
                    points[t] = quantile(expr.parameter, window_values)
        if points:
            table[labels] = points
    return table


def _absent(expr: RangeAggregation, at: list[int], streams: dict[Labels, StreamTimes]) -> Table:
    """1 at each step where no line is in the window, labelled by the selector's equality
    matchers (as Prometheus' absent_over_time)."""
    window = expr.range_ns
    stamps = sorted(t for s in streams.values() for t in s.timestamps)
    points = {t: 1.0 for t in at if bisect_right(stamps, t) == bisect_right(stamps, t - window)}
    equal = {m.name: m.value for m in expr.selector.matchers if m.op.value == "="}
    return {tuple(sorted(equal.items())): points} if points else {}


def _keep(labels: Labels, grouping: tuple[str, ...], without: bool) -> Labels:
    names = set(grouping)
    if without:
        return tuple((n, v) for n, v in labels if n not in names)
    return tuple((n, v) for n, v in labels if n in names)


def _group_key(labels: Labels, expr: VectorAggregation) -> Labels:
    return _keep(labels, expr.grouping, expr.without)


def _count(values: list[float]) -> float:
    return float(len(values))


def _avg(values: list[float]) -> float:
    return math.fsum(values) / len(values)


_COMBINE: dict[str, Callable[[list[float]], float]] = {
    "sum": math.fsum,
    "count": _count,
    "min": min,
    "max": max,
    "avg": _avg,
    "stdvar": _stdvar,
    "stddev": lambda values: math.sqrt(_stdvar(values)),
}


def _select(expr: VectorAggregation, table: Table) -> Table:
    """topk/bottomk: at each step, the k largest (smallest) series of each group, with
    their own labels."""
    k = expr.parameter or 0
    pick = heapq.nlargest if expr.op == "topk" else heapq.nsmallest
    buckets: dict[tuple[Labels, int], list[tuple[float, Labels]]] = {}
    for labels, points in table.items():
        key = _group_key(labels, expr)
        for t, value in points.items():
            buckets.setdefault((key, t), []).append((value, labels))
    chosen: Table = {}
    for (_, t), candidates in buckets.items():
        for value, labels in pick(k, candidates, key=lambda c: c[0]):
            chosen.setdefault(labels, {})[t] = value
    return chosen


def _aggregate(expr: VectorAggregation, table: Table) -> Table:
    if expr.op in ("topk", "bottomk"):
        return _select(expr, table)
    groups: dict[Labels, dict[int, list[float]]] = {}
    for labels, points in table.items():
        target = groups.setdefault(_group_key(labels, expr), {})
        for t, value in points.items():
            target.setdefault(t, []).append(value)
    combine = _COMBINE[expr.op]
    return {
        key: {t: combine(values) for t, values in points.items()} for key, points in groups.items()
    }
