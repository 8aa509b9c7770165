"""Binary operators: arithmetic, comparisons (filtering or ``bool``) and set operators,
with ``on``/``ignoring`` matching and ``group_left``/``group_right`` cardinality."""

from __future__ import annotations

import math
from collections.abc import Callable

from . import ast
from .errors import ExecutionError
from .evaluator import Evaluator, EvSeries
from .gomath import div, mod, pow_
from .values import Labels, format_labels, label_get

ARITH: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": div,
    "%": mod,
    "^": pow_,
    "atan2": math.atan2,
}
CMP: dict[str, Callable[[float, float], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}


def elem(op: str, a: float, b: float) -> tuple[float, bool]:
    """Value and keep-flag of ``a op b`` (comparisons keep the left value)."""
    fn = ARITH.get(op)
    if fn is not None:
        return fn(a, b), True
    return a, CMP[op](a, b)


def eval_binary(ev: Evaluator, node: ast.Binary) -> list[EvSeries] | list[float]:
    lt, rt = node.lhs.vtype, node.rhs.vtype
    if lt == "scalar" and rt == "scalar":
        lhs, rhs = ev.eval_scalar(node.lhs), ev.eval_scalar(node.rhs)
        if node.op in CMP:
            return [1.0 if CMP[node.op](a, b) else 0.0 for a, b in zip(lhs, rhs, strict=True)]
        fn = ARITH[node.op]
        return [fn(a, b) for a, b in zip(lhs, rhs, strict=True)]
    if lt == "scalar" or rt == "scalar":
        return _vector_scalar(ev, node)
    lvec, rvec = ev.eval_vector(node.lhs), ev.eval_vector(node.rhs)
    if node.op in ("and", "or", "unless"):
        return _set_op(ev, node, lvec, rvec)
    return _vector_vector(ev, node, lvec, rvec)


def _vector_scalar(ev: Evaluator, node: ast.Binary) -> list[EvSeries]:
    swap = node.lhs.vtype == "scalar"
    vec = ev.eval_vector(node.rhs if swap else node.lhs)
    scalar = ev.eval_scalar(node.lhs if swap else node.rhs)
    op, is_cmp = node.op, node.op in CMP
    rename = not is_cmp or node.return_bool
    out = []
    for s in vec:
        vals: list[float | None] = []
        for v, c in zip(s.vals, scalar, strict=True):
            if v is None:
                vals.append(None)
                continue
            value, keep = elem(op, c, v) if swap else elem(op, v, c)
            if is_cmp:
                value = v
            if node.return_bool:
                vals.append(1.0 if keep else 0.0)
            else:
                vals.append(value if keep else None)
        if any(x is not None for x in vals):
            out.append(EvSeries(s.labels, vals, True if rename else s.drop_name))
    return out


def signature(labels: Labels, on: bool, names: tuple[str, ...]) -> Labels:
    if on:
        keep = set(names)
        return tuple((n, v) for n, v in labels if n in keep)
    drop = set(names)
    drop.add("__name__")
    return tuple((n, v) for n, v in labels if n not in drop)


def _match_labels(labels: Labels, on: bool, names: tuple[str, ...]) -> Labels:
    keep = set(names)
    return tuple((n, v) for n, v in labels if (n in keep) == on and (on or n != "__name__"))


def _set_op(
    ev: Evaluator, node: ast.Binary, lvec: list[EvSeries], rvec: list[EvSeries]
) -> list[EvSeries]:
    lsig = [signature(s.labels, node.on, node.matching) for s in lvec]
    rsig = [signature(s.labels, node.on, node.matching) for s in rvec]
    n = ev.n
    if node.op == "or":
        lpresent: list[set[Labels]] = [set() for _ in range(n)]
        for s, sig in zip(lvec, lsig, strict=True):
            for i, v in enumerate(s.vals):
                if v is not None:
                    lpresent[i].add(sig)
        out = list(lvec)
        for s, sig in zip(rvec, rsig, strict=True):
            vals = [
                v if v is not None and sig not in lpresent[i] else None
                for i, v in enumerate(s.vals)
            ]
            if any(v is not None for v in vals):
                out.append(EvSeries(s.labels, vals, s.drop_name))
        return out
    rpresent: list[set[Labels]] = [set() for _ in range(n)]
    for s, sig in zip(rvec, rsig, strict=True):
        for i, v in enumerate(s.vals):
            if v is not None:
                rpresent[i].add(sig)
    want = node.op == "and"
    out = []
    for s, sig in zip(lvec, lsig, strict=True):
        vals = [
            v if v is not None and (sig in rpresent[i]) == want else None
            for i, v in enumerate(s.vals)
        ]
        if any(v is not None for v in vals):
            out.append(EvSeries(s.labels, vals, s.drop_name))
    return out


def result_labels(lhs: Labels, rhs: Labels, node: ast.Binary) -> Labels:
    drop: set[str] = set()
    if node.op in ARITH:
        drop.update(("__name__", "__type__", "__unit__"))
    labels = [(n, v) for n, v in lhs if n not in drop]
    if node.card == "one-to-one":
        keep = set(node.matching)
        labels = [(n, v) for n, v in labels if (n in keep) == node.on]
    if node.include:
        inc = set(node.include)
        labels = [(n, v) for n, v in labels if n not in inc]
        labels.extend((n, label_get(rhs, n)) for n in node.include if label_get(rhs, n))
        labels.sort()
    return tuple(labels)


def _vector_vector(
    ev: Evaluator, node: ast.Binary, lvec: list[EvSeries], rvec: list[EvSeries]
) -> list[EvSeries]:
    swapped = node.card == "one-to-many"
    if swapped:
        lvec, rvec = rvec, lvec
    on, names = node.on, node.matching
    lsig = [signature(s.labels, on, names) for s in lvec]
    rsig = [signature(s.labels, on, names) for s in rvec]
    out: dict[Labels, EvSeries] = {}
    fill_l, fill_r = node.fill_lhs, node.fill_rhs
    if swapped:
        fill_l, fill_r = fill_r, fill_l
    for i in range(ev.n):
        right: dict[Labels, int] = {}
        for j, s in enumerate(rvec):
            if s.vals[i] is None:
                continue
            prev = right.get(rsig[j])
            if prev is not None:
                _duplicate_error(node, rvec[prev].labels, s.labels, on, names, swapped)
            right[rsig[j]] = j
        matched: dict[Labels, set[Labels] | None] = {}
        for j, s in enumerate(lvec):
            lv = s.vals[i]
            if lv is None:
                continue
            k = right.get(lsig[j])
            if k is None:
                if fill_r is None:
                    continue
                rlabels, rv = _match_labels(s.labels, on, names), fill_r
            else:
                rlabels, rv = rvec[k].labels, _value(rvec[k], i)
            _apply(node, out, matched, lsig[j], s.labels, lv, rlabels, rv, swapped, i, ev.n)
        if fill_l is not None:
            for sig, k in right.items():
                if sig in matched:
                    continue
                r = rvec[k]
                llabels = _match_labels(r.labels, on, names)
                _apply(
                    node,
                    out,
                    matched,
                    sig,
                    llabels,
                    fill_l,
                    r.labels,
                    _value(r, i),
                    swapped,
                    i,
                    ev.n,
                )
    return list(out.values())


def _value(s: EvSeries, i: int) -> float:
    v = s.vals[i]
    assert v is not None
    return v


def _apply(
    node: ast.Binary,
    out: dict[Labels, EvSeries],
    matched: dict[Labels, set[Labels] | None],
    sig: Labels,
    llabels: Labels,
    lv: float,
    rlabels: Labels,
    rv: float,
    swapped: bool,
    i: int,
    n: int,
) -> None:
    a, b = (rv, lv) if swapped else (lv, rv)
    value, keep = elem(node.op, a, b)
    if node.return_bool:
        value = 1.0 if keep else 0.0
    metric = result_labels(llabels, rlabels, node)
    if node.card == "one-to-one":
        if sig in matched:
            raise ExecutionError(
                "multiple matches for labels: many-to-one matching must be explicit "
                "(group_left/group_right)"
            )
        matched[sig] = None
    else:
        seen = matched.get(sig)
        if seen is None:
            seen = matched[sig] = set()
        elif metric in seen:
            raise ExecutionError(
                "multiple matches for labels: grouping labels must ensure unique matches"
            )
        seen.add(metric)
    if not keep and not node.return_bool:
        return
    s = out.get(metric)
    if s is None:
        s = out[metric] = EvSeries(metric, [None] * n, node.return_bool)
    if s.vals[i] is not None:
        raise ExecutionError("vector cannot contain metrics with the same labelset")
    s.vals[i] = value


def _duplicate_error(
    node: ast.Binary,
    first: Labels,
    second: Labels,
    on: bool,
    names: tuple[str, ...],
    swapped: bool,
) -> None:
    group = _match_labels(second, on, names)
    a, b = sorted([first, second])
    side = "left" if swapped else "right"
    raise ExecutionError(
        f"found duplicate series for the match group {format_labels(group)} on the {side} "
        f"hand-side of the operation: [{format_labels(a)}, {format_labels(b)}]"
        ";many-to-many matching not allowed: matching labels must be unique on one side"
    )
