"""Step-wise evaluation of an expression tree over ``[start, end]`` every ``interval`` ms.

Like Prometheus, an instant query is a range evaluation with one step. Intermediate instant
vectors are lists of :class:`EvSeries`, one value slot per step (``None`` = no sample), and
scalars are lists of floats. ``drop_name`` implements Prometheus 3's delayed ``__name__``
removal: the label is kept (so matching and grouping still see it) and dropped at the end.
"""

from __future__ import annotations

import bisect
import math
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import ast
from .annotations import Annotations
from .block import VectorBlock
from .errors import ExecutionError, ResolutionTooHigh, Timeout, TooManySamples
from .storage import LabelMatcher, Queryable
from .values import STALE_NAN_BITS, Labels, RangeSeries, Series, drop_metric_name, label_get

if TYPE_CHECKING:
    from .columns import SeriesColumns

Value = Any  # list[EvSeries] | list[float] | str | list[RangeSeries]
# Evaluation steps per series: Prometheus' cap for range queries, applied to subqueries too
# (each one evaluates its inner expression at every step of its own range).
MAX_POINTS = 11_000
# From this many selected series on, selectors and what is built on them are evaluated as
# numpy matrices (kernels.py); below it the step-wise code is quicker than setting them up.
KERNEL_MIN_SERIES = 32


@dataclass(slots=True)
class EvSeries:
    labels: Labels
    vals: list[float | None]
    drop_name: bool = False


@dataclass
class QueryContext:
    """What one query evaluation shares across nested evaluators."""

    storage: Queryable
    lookback: int
    deadline: float
    max_samples: int
    annotations: Annotations
    subquery_step: int = 60_000
    max_points: int = MAX_POINTS
    query_start: int = 0
    query_end: int = 0
    query_step: int = 0
    samples: int = 0
    _checks: int = field(default=0, repr=False)

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise Timeout()

    def account(self, n: int) -> None:
        self.samples += n
        if self.samples > self.max_samples:
            raise TooManySamples()


def _is_stale(v: float) -> bool:
    bits: int = struct.unpack("<Q", struct.pack("<d", v))[0]
    return bits == STALE_NAN_BITS


def without_stale(s: Series) -> tuple[Sequence[int], Sequence[float]]:
    """Samples of a series minus staleness markers (range windows never contain them)."""
    vals = s.values
    if not any(v != v for v in vals):
        return s.timestamps, vals
    keep = [i for i, v in enumerate(vals) if not (v != v and _is_stale(v))]
    return [s.timestamps[i] for i in keep], [vals[i] for i in keep]


class Evaluator:
    def __init__(self, ctx: QueryContext, start: int, end: int, interval: int) -> None:
        self.ctx = ctx
        self.start = start
        self.end = end
        self.interval = interval
        self.steps = list(range(start, end + 1, interval)) if end >= start else []
        self.n = len(self.steps)

    # --- dispatch ------------------------------------------------------------------------
    def eval(self, node: ast.Node) -> Value:
        value = self.eval_any(node)
        if isinstance(value, VectorBlock):
            return block_series(value)
        return value

    def eval_any(self, node: ast.Node) -> Value:
        """Like `eval`, but an instant vector may come back as a `VectorBlock`."""
        self.ctx.check()
        if isinstance(node, ast.NumberLit):
            return [node.val] * self.n
        if isinstance(node, ast.StringLit):
            return node.val
        if isinstance(node, ast.Paren):
            return self.eval_any(node.expr)
        if isinstance(node, ast.StepInvariant):
            return self._step_invariant(node)
        if isinstance(node, ast.VectorSel):
            return self.vector_selector(node)
        if isinstance(node, ast.MatrixSel | ast.Subquery):
            return self.matrix_value(node)
        if isinstance(node, ast.Unary):
            return self._negate(node)
        if isinstance(node, ast.Call):
            from .functions import eval_call

            return eval_call(self, node)
        if isinstance(node, ast.Aggregate):
            from .aggregations import eval_aggregate

            return eval_aggregate(self, node)
        if isinstance(node, ast.Binary):
            from .binops import eval_binary

            return eval_binary(self, node)
        raise ExecutionError(f"unhandled expression of type {type(node).__name__}")

    def eval_scalar(self, node: ast.Node) -> list[float]:
        value = self.eval(node)
        assert isinstance(value, list)
        return value

    def eval_vector(self, node: ast.Node) -> list[EvSeries]:
        value = self.eval(node)
        assert isinstance(value, list)
        return value

    def _step_invariant(self, node: ast.StepInvariant) -> Value:
        inner = ast.unwrap(node.expr)
        if self.n <= 1 or isinstance(inner, ast.MatrixSel | ast.Subquery):
            return self.eval(node.expr)
        once = Evaluator(self.ctx, self.start, self.start, self.interval).eval(node.expr)
        if isinstance(once, str):
            return once
        if node.expr.vtype == "scalar":
            return [once[0]] * self.n
        out = []
        for s in once:
            if s.vals[0] is not None:
                out.append(EvSeries(s.labels, [s.vals[0]] * self.n, s.drop_name))
        self.ctx.account(len(out) * self.n)
        return out

    def _negate(self, node: ast.Unary) -> Value:
        value = self.eval(node.expr)
        if node.expr.vtype == "scalar":
            return [-v for v in value]
        return [
            EvSeries(s.labels, [None if v is None else -v for v in s.vals], True) for s in value
        ]

    # --- selection -----------------------------------------------------------------------
    def refs(self, offset: int, at: int | None) -> list[int]:
        """Reference time of each step for a selector (``@`` pins it)."""
        if at is not None:
            return [at - offset] * self.n
        return [t - offset for t in self.steps]

    def select(self, vs: ast.VectorSel, mint: int, maxt: int) -> list[Series]:
        groups: Sequence[Sequence[LabelMatcher]] = [vs.matchers]
        if vs.or_groups:
            groups = [tuple(vs.matchers) + tuple(g) for g in vs.or_groups]
        seen: dict[Labels, Series] = {}
        for matchers in groups:
            for s in self.ctx.storage.select(matchers, mint, maxt):
                seen.setdefault(s.labels, s)
        out = list(seen.values())
        if len(groups) > 1 or any(out[i].labels > out[i + 1].labels for i in range(len(out) - 1)):
            out.sort(key=lambda s: s.labels)
        return out

    def selection(self, vs: ast.VectorSel, mint: int, maxt: int) -> SeriesColumns | list[Series]:
        """The selected series: as columns when there are enough for the kernels."""
        from .columns import columns_of

        direct = getattr(self.ctx.storage, "select_columns", None)
        if direct is not None and not vs.or_groups:
            cols: SeriesColumns = direct(vs.matchers, mint, maxt)
            return cols if len(cols) >= KERNEL_MIN_SERIES else cols.series()
        series = self.select(vs, mint, maxt)
        return columns_of(series) if len(series) >= KERNEL_MIN_SERIES else series

    def vector_selector(
        self, vs: ast.VectorSel, timestamps: bool = False
    ) -> list[EvSeries] | VectorBlock:
        refs = self.refs(vs.offset, vs.at)
        if not refs:
            return []
        lookback = self.ctx.lookback
        found = self.selection(vs, refs[0] - lookback + 1, refs[-1])
        if not isinstance(found, list):
            from . import kernels

            if not timestamps:
                block, values = kernels.vector_selector(found, refs, lookback)
                self.ctx.account(values)
                return block
            found = found.series()
        return self._vector_steps(found, refs, timestamps)

    def _vector_steps(
        self, series: list[Series], refs: list[int], timestamps: bool
    ) -> list[EvSeries]:
        lookback = self.ctx.lookback
        out: list[EvSeries] = []
        total = 0
        for s in series:
            self.ctx.check()
            ts, vals = s.timestamps, s.values
            res: list[float | None] = [None] * self.n
            j = -1
            nts = len(ts)
            present = 0
            for i, ref in enumerate(refs):
                while j + 1 < nts and ts[j + 1] <= ref:
                    j += 1
                if j < 0 or ts[j] <= ref - lookback:
                    continue
                v = vals[j]
                if v != v and _is_stale(v):
                    continue
                res[i] = ts[j] / 1000 if timestamps else v
                present += 1
            if present:
                out.append(EvSeries(s.labels, res))
                total += present
        self.ctx.account(total)
        return out

    def range_kernel(self, name: str, node: ast.MatrixSel) -> VectorBlock | list[Series] | None:
        """``name(node)`` by kernels.range_function; else (too few series for the kernels)
        the selected series for the step-wise code; None if no step selects anything."""
        vs = node.vs
        refs = self.refs(vs.offset, vs.at)
        if not refs:
            return None
        found = self.selection(vs, refs[0] - node.range + 1, refs[-1])
        if isinstance(found, list):
            return found
        from . import kernels

        got = kernels.range_function(name, found.without_stale(), refs, node.range, self.steps)
        self.ctx.account(len(found.timestamps))  # bounds what a `[range]` loads
        self.ctx.account(got.loaded + int(got.block.present.sum()))
        return got.block

    def matrix_series(
        self, node: ast.MatrixSel | ast.Subquery, selected: list[Series] | None = None
    ) -> tuple[list[tuple[Labels, Sequence[int], Sequence[float]]], int, int, int | None]:
        """Series feeding a range-vector function, with the window range, offset and ``@``
        (`selected`: the selector's series, when the caller has them already)."""
        if isinstance(node, ast.MatrixSel):
            vs = node.vs
            refs = self.refs(vs.offset, vs.at)
            if not refs:
                return [], node.range, vs.offset, vs.at
            raw = selected
            if raw is None:
                found = self.selection(vs, refs[0] - node.range + 1, refs[-1])
                raw = found if isinstance(found, list) else found.series()
            out: list[tuple[Labels, Sequence[int], Sequence[float]]] = []
            for s in raw:
                self.ctx.account(len(s.timestamps))  # bounds what a `[range]` loads
                ts, vals = without_stale(s)
                if ts:
                    out.append((s.labels, ts, vals))
            return out, node.range, vs.offset, vs.at
        return self._subquery_series(node), node.range, node.offset, node.at

    def _subquery_series(
        self, node: ast.Subquery
    ) -> list[tuple[Labels, Sequence[int], Sequence[float]]]:
        step = node.step or self.ctx.subquery_step
        refs = self.refs(node.offset, node.at)
        if not refs:
            return []
        first = refs[0] - node.range
        start = step * (first // step)
        if start <= first:
            start += step
        points = (refs[-1] - start) // step + 1
        if points > self.ctx.max_points:
            raise ResolutionTooHigh(
                f"subquery exceeded maximum resolution of {self.ctx.max_points:,} points per "
                "timeseries. Try increasing the subquery step (e.g. [1h:1m])"
            )
        sub = Evaluator(self.ctx, start, refs[-1], step)
        inner = sub.eval(node.expr)
        if node.expr.vtype == "scalar":
            inner = [EvSeries((), list(inner))]
        out: list[tuple[Labels, Sequence[int], Sequence[float]]] = []
        for s in inner:
            labels = drop_metric_name(s.labels) if s.drop_name else s.labels
            pts = [(t, v) for t, v in zip(sub.steps, s.vals, strict=True) if v is not None]
            if pts:
                out.append((labels, [p[0] for p in pts], [p[1] for p in pts]))
        return out

    def matrix_value(self, node: ast.MatrixSel | ast.Subquery) -> list[RangeSeries]:
        """A range vector as a query result (only valid for instant evaluation)."""
        series, rng, offset, at = self.matrix_series(node)
        ref = (at if at is not None else self.start) - offset
        out = []
        for labels, ts, vals in series:
            lo = bisect.bisect_right(ts, ref - rng)
            hi = bisect.bisect_right(ts, ref)
            if lo < hi:
                out.append(RangeSeries(labels, list(zip(ts[lo:hi], vals[lo:hi], strict=True))))
                self.ctx.account(hi - lo)
        return out

    def warn_if_not_counter(self, labels: Labels, pos: int) -> None:
        name = label_get(labels, "__name__")
        if name and not name.endswith(("_total", "_sum", "_count", "_bucket")):
            self.ctx.annotations.info(
                "metric might not be a counter, name does not end in "
                f'_total/_sum/_count/_bucket: "{name}"',
                pos,
            )


def block_series(block: VectorBlock) -> list[EvSeries]:
    """A block in the step-wise form."""
    return [EvSeries(labels, vals, block.drop_name) for labels, vals in block.rows()]


def finite(v: float) -> bool:
    return not (math.isinf(v) or math.isnan(v))
