"""Evaluating LogQL metric queries over the timestamps of matching lines.

A range function at time t sees the lines in (t - range, t], as Loki's do. A stream (or
group) with no line in the window has no sample at t, so `count_over_time` never invents
zeros, and a comparison keeps only the samples it holds for.
"""

from __future__ import annotations

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
