"""Aggregation operators (sum, avg, topk, count_values, ...) with ``by``/``without``."""

from __future__ import annotations

import math
from collections.abc import Callable

from . import ast
from .block import AGGREGATION_KERNELS, VectorBlock
from .errors import ExecutionError
from .evaluator import Evaluator, EvSeries
from .gomath import NAN, format_float
from .labelfuncs import valid_label_name
from .rangefuncs import quantile
from .values import Labels, label_set, quote_go
from .xxhash64 import labels_hash

_MAX_INT64 = 9223372036854774784
_MIN_INT64 = -9223372036854775808
_K_OPS = frozenset({"topk", "bottomk", "limitk", "limit_ratio"})


def group_labels(labels: Labels, grouping: tuple[str, ...], without: bool) -> Labels:
    return grouper(grouping, without)(labels)


def grouper(grouping: tuple[str, ...], without: bool) -> Callable[[Labels], Labels]:
    """The group key of a series' labels: `by`/`without` resolved once, not per series."""
    if without:
        drop = frozenset((*grouping, "__name__"))
        return lambda labels: tuple(p for p in labels if p[0] not in drop)
    if not grouping:
        return lambda labels: ()
    keep = frozenset(grouping)
    return lambda labels: tuple(p for p in labels if p[0] in keep)


def eval_aggregate(ev: Evaluator, node: ast.Aggregate) -> list[EvSeries] | VectorBlock:
    op = node.op
    if op == "count_values":
        return _count_values(ev, node)
    params = ev.eval_scalar(node.param) if node.param is not None else [NAN] * ev.n
    if op in AGGREGATION_KERNELS:
        value = ev.eval_any(node.expr)
        if isinstance(value, VectorBlock):
            return _aggregate_block(node, value)
        vec = value
    else:
        vec = ev.eval_vector(node.expr)
    if op in _K_OPS:
        return _aggregate_k(ev, node, params, vec)
    if op == "quantile":
        _check_quantile_params(ev, node, params)
    index: dict[Labels, int] = {}
    members: list[list[EvSeries]] = []
    out_labels: list[Labels] = []
    key_of = grouper(node.grouping, node.without)
    for s in vec:
        key = key_of(s.labels)
        g = index.get(key)
        if g is None:
            g = index[key] = len(members)
            members.append([])
            out_labels.append(key)
        members[g].append(s)
    reducer = _REDUCERS[op]
    out = []
    for g, group in enumerate(members):
        ev.ctx.check()
        vals: list[float | None] = [None] * ev.n
        for i in range(ev.n):
            xs = [v for s in group if (v := s.vals[i]) is not None]
            if xs:
                vals[i] = reducer(xs, params[i])
        if any(v is not None for v in vals):
            out.append(EvSeries(out_labels[g], vals, any(s.drop_name for s in group)))
    return out


def _aggregate_block(node: ast.Aggregate, block: VectorBlock) -> VectorBlock:
    """`eval_aggregate` by kernels.aggregate; the sums it cannot vouch for redone here."""
    import numpy as np

    from . import kernels

    index: dict[Labels, int] = {}
    members: list[list[int]] = []
    group_of = np.empty(len(block.labels), dtype=np.int64)
    key_of = grouper(node.grouping, node.without)
    for row, labels in enumerate(block.labels):
        key = key_of(labels)
        g = index.get(key)
        if g is None:
            g = index[key] = len(members)
            members.append([])
        members[g].append(row)
        group_of[row] = g
    result, redo = kernels.aggregate(node.op, block, list(index), group_of)
    for g, step in redo:
        xs = [float(block.values[r, step]) for r in members[g] if block.present[r, step]]
        result.values[g, step] = _sum(xs, NAN)
    return result


def _check_quantile_params(ev: Evaluator, node: ast.Aggregate, params: list[float]) -> None:
    assert node.param is not None
    pos = node.param.pos
    annos = ev.ctx.annotations
    if any(p != p for p in params):
        annos.warn("quantile value should be between 0 and 1, got NaN", pos)
    finite = [p for p in params if p == p]
    if finite and max(finite) > 1:
        annos.warn(f"quantile value should be between 0 and 1, got {_g(max(finite))}", pos)
    if finite and min(finite) < 0:
        annos.warn(f"quantile value should be between 0 and 1, got {_g(min(finite))}", pos)


def _g(v: float) -> str:
    from .functions import _g as go_g

    return go_g(v)


def _sum(xs: list[float], _: float) -> float:
    total = c = 0.0
    for f in xs:
        t = total + f
        if math.isinf(t):
            c = 0.0
        elif abs(total) >= abs(f):
            c += (total - t) + f
        else:
            c += (f - t) + total
        total = t
    return total + c


def _avg(xs: list[float], _: float) -> float:
    from .gomath import kahan_mean

    return kahan_mean(xs)


def _max(xs: list[float], _: float) -> float:
    best = xs[0]
    for f in xs[1:]:
        if best < f or best != best:
            best = f
    return best


def _min(xs: list[float], _: float) -> float:
    best = xs[0]
    for f in xs[1:]:
        if best > f or best != best:
            best = f
    return best


def _variance(xs: list[float]) -> float:
    first = xs[0]
    value = NAN if math.isnan(first) or math.isinf(first) else 0.0
    mean, count = first, 1.0
    for f in xs[1:]:
        count += 1
        d = f - mean
        mean += d / count
        value += d * (f - mean)
    return value / count


_REDUCERS: dict[str, Callable[[list[float], float], float]] = {
    "sum": _sum,
    "avg": _avg,
    "count": lambda xs, _: float(len(xs)),
    "group": lambda xs, _: 1.0,
    "max": _max,
    "min": _min,
    "stdvar": lambda xs, _: _variance(xs),
    "stddev": lambda xs, _: math.sqrt(_variance(xs)),
    "quantile": lambda xs, q: quantile(q, xs),
}


def _ratio_offset(labels: Labels) -> float:
    return float(labels_hash(labels)) / 18446744073709551615.0


def _aggregate_k(
    ev: Evaluator, node: ast.Aggregate, params: list[float], vec: list[EvSeries]
) -> list[EvSeries]:
    op = node.op
    assert node.param is not None
    if not params:
        # A subquery whose window holds no step evaluates the aggregation at no time at all.
        return []
    if op == "limit_ratio":
        if all(p == 0 for p in params):
            return []
        if any(p != p for p in params):
            raise ExecutionError("Ratio value is NaN")
        if max(params) > 1.0:
            ev.ctx.annotations.warn(
                f"ratio value should be between -1 and 1, got {_g(max(params))}, capping to 1",
                node.param.pos,
            )
        if min(params) < -1.0:
            ev.ctx.annotations.warn(
                f"ratio value should be between -1 and 1, got {_g(min(params))}, capping to -1",
                node.param.pos,
            )
    else:
        if any(p != p for p in params):
            raise ExecutionError("Parameter value is NaN")
        if max(params) < 1:
            return []
        if min(params) <= _MIN_INT64:
            raise ExecutionError(f"Scalar value {_g(min(params))} underflows int64")
        if max(params) >= _MAX_INT64:
            raise ExecutionError(f"Scalar value {_g(max(params))} overflows int64")
    groups: dict[Labels, list[int]] = {}
    for idx, s in enumerate(vec):
        groups.setdefault(group_labels(s.labels, node.grouping, node.without), []).append(idx)
    chosen_at: list[list[int]] = []
    for i in range(ev.n):
        picked: list[int] = []
        for members in groups.values():
            present = [idx for idx in members if vec[idx].vals[i] is not None]
            if present:
                picked.extend(_pick(op, params[i], present, vec, i, len(vec)))
        chosen_at.append(picked)
    if ev.n == 1:
        return [
            EvSeries(vec[idx].labels, list(vec[idx].vals), vec[idx].drop_name)
            for idx in chosen_at[0]
        ]
    out: dict[int, EvSeries] = {}
    for i, picked in enumerate(chosen_at):
        for idx in picked:
            got = out.get(idx)
            if got is None:
                got = out[idx] = EvSeries(vec[idx].labels, [None] * ev.n, vec[idx].drop_name)
            got.vals[i] = vec[idx].vals[i]
    return [out[idx] for idx in sorted(out)]


def _pick(
    op: str, param: float, present: list[int], vec: list[EvSeries], i: int, total: int
) -> list[int]:
    if op == "limit_ratio":
        r = max(-1.0, min(1.0, param))
        if r == 0:
            return []
        if r >= 0:
            return [idx for idx in present if _ratio_offset(vec[idx].labels) < r]
        return [idx for idx in present if _ratio_offset(vec[idx].labels) >= 1.0 + r]
    k = min(int(param), total)
    if k < 1:
        return []
    if op == "limitk":
        return present[:k]

    def key(idx: int) -> tuple[int, float]:
        v = vec[idx].vals[i]
        assert v is not None
        if v != v:
            return (1, 0.0)
        return (0, -v if op == "topk" else v)

    return sorted(present, key=key)[:k]


def _count_values(ev: Evaluator, node: ast.Aggregate) -> list[EvSeries]:
    param = ast.unwrap(node.param) if node.param is not None else None
    assert isinstance(param, ast.StringLit)
    label = param.val
    if not valid_label_name(label):
        raise ExecutionError(f"invalid label name {quote_go(label)}")
    grouping = node.grouping if node.without else tuple(sorted({*node.grouping, label}))
    vec = ev.eval_vector(node.expr)
    out: dict[Labels, list[float | None]] = {}
    for s in vec:
        for i, v in enumerate(s.vals):
            if v is None:
                continue
            labels = label_set(s.labels, label, format_float(v))
            key = group_labels(labels, grouping, node.without)
            vals = out.get(key)
            if vals is None:
                vals = out[key] = [None] * ev.n
            vals[i] = (vals[i] or 0.0) + 1.0
    return [EvSeries(k, v) for k, v in out.items()]
