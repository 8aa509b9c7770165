"""Function calls: dispatch to range-vector functions, element-wise and special functions."""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import re
from collections.abc import Callable, Sequence

from . import ast
from .block import RANGE_KERNELS, VectorBlock
from .errors import ExecutionError
from .evaluator import Evaluator, EvSeries, Value
from .gomath import NAN, SIMPLE, floor, gmax, gmin
from .labelfuncs import absent_labels, label_join, label_replace, sort_by_label
from .quantile import histogram_fraction, histogram_quantile
from .rangefuncs import RANGE_FUNCTIONS
from .values import Labels, label_get, quote_go

_KEEP_NAME = frozenset({"last_over_time", "first_over_time"})
_SORTS = frozenset({"sort", "sort_desc", "sort_by_label", "sort_by_label_desc"})


def eval_call(ev: Evaluator, node: ast.Call) -> Value:
    name = node.func
    args = node.args
    if name in RANGE_FUNCTIONS or name == "absent_over_time":
        return _range_call(ev, node)
    if name in SIMPLE:
        fn = SIMPLE[name]
        return [
            EvSeries(s.labels, [None if v is None else fn(v) for v in s.vals], True)
            for s in ev.eval_vector(args[0])
        ]
    handler = _HANDLERS.get(name)
    if handler is None:
        raise ExecutionError(f"function {name!r} is not supported")
    if name in _SORTS and ev.n > 1:
        ev.ctx.annotations.warn(
            "sort is ineffective for range queries since results are always ordered by labels",
            node.pos,
        )
    return handler(ev, node)


def _scalar_args(ev: Evaluator, args: list[ast.Node]) -> list[list[float]]:
    return [ev.eval_scalar(a) for a in args]


def _range_call(ev: Evaluator, node: ast.Call) -> Value:
    name = node.func
    margs = [i for i, a in enumerate(node.args) if ast.unwrap(a).vtype == "matrix"]
    mi = margs[0]
    marg = ast.unwrap(node.args[mi])
    assert isinstance(marg, ast.MatrixSel | ast.Subquery)
    params = _scalar_args(ev, [a for i, a in enumerate(node.args) if i != mi])
    selected = None
    if name in RANGE_KERNELS and isinstance(marg, ast.MatrixSel):
        got = ev.range_kernel(name, marg)
        if isinstance(got, VectorBlock):
            if name in ("rate", "increase"):
                _warn_not_counters(ev, got.labels, marg.pos)
            return got
        selected = got
    series, rng, offset, at = ev.matrix_series(marg, selected)
    refs = ev.refs(offset, at)
    steps = ev.steps
    if name == "absent_over_time":
        return _absent_over_time(ev, node, series, rng, refs)
    fn = RANGE_FUNCTIONS[name]
    drop = name not in _KEEP_NAME
    out: list[EvSeries] = []
    loaded = 0
    needs_monotonic = name in ("rate", "increase", "resets")
    for labels, ts, vs in series:
        ev.ctx.check()
        monotonic = False
        if needs_monotonic:
            first = bisect.bisect_right(ts, min(refs) - rng)
            last = bisect.bisect_right(ts, max(refs))
            window = vs[first:last]
            monotonic = not any(b < a for a, b in zip(window, window[1:], strict=False))
        res: list[float | None] = [None] * ev.n
        present = False
        lo_min = hi_max = -1
        for i, ref in enumerate(refs):
            lo = bisect.bisect_right(ts, ref - rng)
            hi = bisect.bisect_right(ts, ref)
            if lo >= hi:
                continue
            if lo_min < 0:
                lo_min = lo
            hi_max = hi
            p = [col[i] for col in params]
            v = fn(ts, vs, lo, hi, ref - rng, ref, steps[i], p, monotonic)
            if v is not None:
                res[i] = v
                present = True
        if lo_min >= 0:
            loaded = max(loaded, hi_max - lo_min)
        if present:
            out.append(EvSeries(labels, res, drop))
            if name in ("rate", "increase"):
                ev.warn_if_not_counter(labels, marg.pos)
    ev.ctx.account(loaded + sum(1 for s in out for v in s.vals if v is not None))
    if name == "quantile_over_time" and out:
        _check_quantile(ev, params[0], node.args[0].pos)
    return out


def _warn_not_counters(ev: Evaluator, labels: list[Labels], pos: int) -> None:
    names: dict[str, Labels] = {}
    for ls in labels:
        names.setdefault(label_get(ls, "__name__"), ls)
    for ls in names.values():
        ev.warn_if_not_counter(ls, pos)


def _check_quantile(ev: Evaluator, qs: list[float], pos: int) -> None:
    for q in dict.fromkeys(qs):
        if q != q or q < 0 or q > 1:
            ev.ctx.annotations.warn(f"quantile value should be between 0 and 1, got {_g(q)}", pos)


def _g(v: float) -> str:
    """Go's %g for the values annotations print."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    text = repr(v)
    return text[:-2] if text.endswith(".0") else text


def _absent_over_time(
    ev: Evaluator,
    node: ast.Call,
    series: list[tuple[Labels, Sequence[int], Sequence[float]]],
    rng: int,
    refs: list[int],
) -> Value:
    res: list[float | None] = []
    for ref in refs:
        found = False
        for _, ts, _vs in series:
            lo = bisect.bisect_right(ts, ref - rng)
            hi = bisect.bisect_right(ts, ref)
            if lo < hi:
                found = True
                break
        res.append(None if found else 1.0)
    if all(v is None for v in res):
        return []
    return [EvSeries(absent_labels(node.args[0]), res, True)]


def _absent(ev: Evaluator, node: ast.Call) -> Value:
    vec = ev.eval_vector(node.args[0])
    res: list[float | None] = [1.0] * ev.n
    for s in vec:
        for i, v in enumerate(s.vals):
            if v is not None:
                res[i] = None
    if all(v is None for v in res):
        return []
    return [EvSeries(absent_labels(node.args[0]), res)]


def _time(ev: Evaluator, node: ast.Call) -> Value:
    return [t / 1000 for t in ev.steps]


def _query_param(which: str) -> Callable[[Evaluator, ast.Call], Value]:
    """step(), range(), start() and end(): properties of the whole query, in seconds."""

    def handler(ev: Evaluator, node: ast.Call) -> Value:
        c = ev.ctx
        value = {
            "step": c.query_step,
            "range": c.query_end - c.query_start,
            "start": c.query_start,
            "end": c.query_end,
        }[which]
        return [value / 1000] * ev.n

    return handler


def _min_max_of(pick: Callable[[float, float], float]) -> Callable[[Evaluator, ast.Call], Value]:
    def handler(ev: Evaluator, node: ast.Call) -> Value:
        a, b = _scalar_args(ev, node.args[:2])
        return [pick(x, y) for x, y in zip(a, b, strict=True)]

    return handler


def _pi(ev: Evaluator, node: ast.Call) -> Value:
    import math

    return [math.pi] * ev.n


def _vector(ev: Evaluator, node: ast.Call) -> Value:
    return [EvSeries((), list(ev.eval_scalar(node.args[0])))]


def _scalar(ev: Evaluator, node: ast.Call) -> Value:
    vec = ev.eval_vector(node.args[0])
    out: list[float] = []
    for i in range(ev.n):
        found = [v for s in vec if (v := s.vals[i]) is not None]
        out.append(found[0] if len(found) == 1 else NAN)
    return out


def _timestamp(ev: Evaluator, node: ast.Call) -> Value:
    arg = ast.unwrap(node.args[0])
    if isinstance(arg, ast.VectorSel):
        vec = ev.vector_selector(arg, timestamps=True)
        assert isinstance(vec, list)  # timestamps are never a block
        return [EvSeries(s.labels, s.vals, True) for s in vec]
    vec = ev.eval_vector(node.args[0])
    return [
        EvSeries(
            s.labels,
            [None if v is None else t / 1000 for v, t in zip(s.vals, ev.steps, strict=True)],
            True,
        )
        for s in vec
    ]


def _clamp_common(
    ev: Evaluator, vec: list[EvSeries], lows: list[float], highs: list[float]
) -> list[EvSeries]:
    out = []
    for s in vec:
        vals: list[float | None] = []
        for i, v in enumerate(s.vals):
            lo, hi = lows[i], highs[i]
            if v is None or hi < lo:
                vals.append(None)
            else:
                vals.append(gmax(lo, gmin(hi, v)))
        if any(v is not None for v in vals):
            out.append(EvSeries(s.labels, vals, True))
    return out


def _clamp(ev: Evaluator, node: ast.Call) -> Value:
    vec = ev.eval_vector(node.args[0])
    lows, highs = _scalar_args(ev, node.args[1:3])
    return _clamp_common(ev, vec, lows, highs)


def _clamp_min(ev: Evaluator, node: ast.Call) -> Value:
    vec = ev.eval_vector(node.args[0])
    (lows,) = _scalar_args(ev, node.args[1:2])
    return _clamp_common(ev, vec, lows, [float("inf")] * ev.n)


def _clamp_max(ev: Evaluator, node: ast.Call) -> Value:
    vec = ev.eval_vector(node.args[0])
    (highs,) = _scalar_args(ev, node.args[1:2])
    return _clamp_common(ev, vec, [float("-inf")] * ev.n, highs)


def _round(ev: Evaluator, node: ast.Call) -> Value:
    vec = ev.eval_vector(node.args[0])
    nearest = ev.eval_scalar(node.args[1]) if len(node.args) > 1 else [1.0] * ev.n
    out = []
    for s in vec:
        vals: list[float | None] = []
        for v, to in zip(s.vals, nearest, strict=True):
            if v is None:
                vals.append(None)
                continue
            inv = 1.0 / to if to != 0 else float("inf")
            vals.append(floor(v * inv + 0.5) / inv)
        out.append(EvSeries(s.labels, vals, True))
    return out


def _date(fn: Callable[[dt.datetime], float]) -> Callable[[Evaluator, ast.Call], Value]:
    def at(seconds: float) -> float:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            return NAN
        try:
            return fn(dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC))
        except (OverflowError, OSError, ValueError):
            return NAN

    def handler(ev: Evaluator, node: ast.Call) -> Value:
        if not node.args:
            return [EvSeries((), [at(t // 1000) for t in ev.steps])]
        return [
            EvSeries(s.labels, [None if v is None else at(v) for v in s.vals], True)
            for s in ev.eval_vector(node.args[0])
        ]

    return handler


def _sort(desc: bool) -> Callable[[Evaluator, ast.Call], Value]:
    def handler(ev: Evaluator, node: ast.Call) -> Value:
        vec = ev.eval_vector(node.args[0])
        if ev.n != 1:
            return vec

        def key(s: EvSeries) -> tuple[int, float]:
            v = s.vals[0]
            assert v is not None
            if v != v:
                return (1, 0.0)
            return (0, -v if desc else v)

        return sorted(vec, key=key)

    return handler


def _histogram_quantile(ev: Evaluator, node: ast.Call) -> Value:
    return histogram_quantile(ev, node)


def _histogram_fraction(ev: Evaluator, node: ast.Call) -> Value:
    return histogram_fraction(ev, node)


def _native_only(ev: Evaluator, node: ast.Call) -> Value:
    ev.eval_vector(node.args[0])
    return []  # these functions only read native histogram samples


_HANDLERS: dict[str, Callable[[Evaluator, ast.Call], Value]] = {
    "absent": _absent,
    "time": _time,
    "pi": _pi,
    "min_of": _min_max_of(gmin),
    "max_of": _min_max_of(gmax),
    "step": _query_param("step"),
    "range": _query_param("range"),
    "start": _query_param("start"),
    "end": _query_param("end"),
    "vector": _vector,
    "scalar": _scalar,
    "timestamp": _timestamp,
    "clamp": _clamp,
    "clamp_min": _clamp_min,
    "clamp_max": _clamp_max,
    "round": _round,
    "sort": _sort(False),
    "sort_desc": _sort(True),
    "sort_by_label": lambda ev, node: sort_by_label(ev, node, False),
    "sort_by_label_desc": lambda ev, node: sort_by_label(ev, node, True),
    "label_replace": lambda ev, node: label_replace(ev, node),
    "label_join": lambda ev, node: label_join(ev, node),
    "histogram_quantile": _histogram_quantile,
    "histogram_fraction": _histogram_fraction,
    "histogram_count": _native_only,
    "histogram_sum": _native_only,
    "histogram_avg": _native_only,
    "histogram_stddev": _native_only,
    "histogram_stdvar": _native_only,
    "day_of_month": _date(lambda t: float(t.day)),
    "day_of_week": _date(lambda t: float((t.weekday() + 1) % 7)),
    "day_of_year": _date(lambda t: float(t.timetuple().tm_yday)),
    "days_in_month": _date(lambda t: float(calendar.monthrange(t.year, t.month)[1])),
    "hour": _date(lambda t: float(t.hour)),
    "minute": _date(lambda t: float(t.minute)),
    "month": _date(lambda t: float(t.month)),
    "year": _date(lambda t: float(t.year)),
}

__all__ = ["eval_call", "quote_go", "re"]
