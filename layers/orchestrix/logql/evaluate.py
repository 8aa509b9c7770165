"""Evaluating LogQL metric queries over the timestamps of matching lines.

A range function at time t sees the lines in (t - range, t], as Loki's do. A stream (or
group) with no line in the window has no sample at t, so `count_over_time` never invents
zeros, and a comparison keeps only the samples it holds for.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from orchestrix.domain.logs import NS_PER_S, Labels
from orchestrix.logql.model import LogSelector, StreamTimes
from orchestrix.logql.parse import Comparison, MetricExpr, RangeAggregation, VectorAggregation

# Reads the timestamps of the lines a selector matches in [start_ns, end_ns].
Fetch = Callable[[LogSelector, int, int], list[StreamTimes]]
MAX_POINTS = 11_000  # per series, as Prometheus and Loki refuse finer range queries

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


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


def widest_range(expr: MetricExpr) -> int:
    if isinstance(expr, RangeAggregation):
        return expr.range_ns
    return widest_range(expr.inner)


def evaluate(expr: MetricExpr, at: list[int], fetch: Fetch) -> list[SeriesResult]:
    """The expression's series at each instant of `at` (sorted), by label set."""
    table = _eval(expr, at, fetch)
    out = []
    for labels in sorted(table):
        points = sorted(table[labels].items())
        if points:
            out.append(SeriesResult(labels, points))
    return out


Table = dict[Labels, dict[int, float]]


def _eval(expr: MetricExpr, at: list[int], fetch: Fetch) -> Table:
    if isinstance(expr, RangeAggregation):
        return _range(expr, at, fetch)
    if isinstance(expr, Comparison):
        test = _COMPARE[expr.op]
        table = _eval(expr.inner, at, fetch)
        kept = {
            labels: {t: v for t, v in points.items() if test(v, expr.threshold)}
            for labels, points in table.items()
        }
        return {labels: points for labels, points in kept.items() if points}
    return _aggregate(expr, _eval(expr.inner, at, fetch))


def _range(expr: RangeAggregation, at: list[int], fetch: Fetch) -> Table:
    if not at:
        return {}
    window = expr.range_ns
    streams = fetch(expr.selector, at[0] - window, at[-1])
    seconds = window / NS_PER_S
    table: Table = {}
    for stream in streams:
        stamps = stream.timestamps
        points: dict[int, float] = {}
        for t in at:
            count = bisect_right(stamps, t) - bisect_right(stamps, t - window)
            if count:
                points[t] = count / seconds if expr.function == "rate" else float(count)
        if points:
            merged = table.setdefault(expr.selector.relabel(stream.labels), {})
            for t, value in points.items():
                merged[t] = merged.get(t, 0.0) + value
    return table


def _group_key(labels: Labels, expr: VectorAggregation) -> Labels:
    names = set(expr.grouping)
    if expr.without:
        return tuple((n, v) for n, v in labels if n not in names)
    return tuple((n, v) for n, v in labels if n in names)


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
}


def _aggregate(expr: VectorAggregation, table: Table) -> Table:
    groups: dict[Labels, dict[int, list[float]]] = {}
    for labels, points in table.items():
        target = groups.setdefault(_group_key(labels, expr), {})
        for t, value in points.items():
            target.setdefault(t, []).append(value)
    combine = _COMBINE[expr.op]
    return {
        key: {t: combine(values) for t, values in points.items()} for key, points in groups.items()
    }
