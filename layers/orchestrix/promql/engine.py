"""The query engine: ``Engine.instant`` and ``Engine.range`` with Prometheus 3 semantics."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from . import ast
from .annotations import Annotations
from .block import VectorBlock
from .errors import BadQuery, ExecutionError, ResolutionTooHigh
from .evaluator import MAX_POINTS, Evaluator, EvSeries, QueryContext, block_series
from .labelfuncs import merge_same_labelset
from .parse import parse
from .storage import Queryable
from .values import Matrix, RangeSeries, Sample, Scalar, String, Value, Vector, drop_metric_name

if TYPE_CHECKING:
    from .matrix_columns import MatrixColumns

DEFAULT_LOOKBACK_MS = 5 * 60 * 1000
# Evaluation recurses once per tree level; parse() refuses most trees too deep for that.
TOO_DEEP = "query is too deeply nested to evaluate"
_DOCUMENTED = {
    "matrix": "range vector",
    "vector": "instant vector",
    "scalar": "scalar",
    "string": "string",
}


class QueryResult:
    """A query's value, its API ``resultType`` and the annotations it produced.

    A range query the kernels computed keeps their arrays (`columns`): render_json writes
    the body from them, and `value`'s (timestamp, value) tuples are only built if asked for.
    """

    __slots__ = ("_value", "columns", "infos", "result_type", "warnings")

    def __init__(
        self,
        result_type: str,
        value: Value | None = None,
        warnings: list[str] | None = None,
        infos: list[str] | None = None,
        *,
        columns: MatrixColumns | None = None,
    ) -> None:
        assert value is not None or columns is not None
        self.result_type = result_type
        self._value = value
        self.warnings = warnings if warnings is not None else []
        self.infos = infos if infos is not None else []
        self.columns = columns

    @property
    def value(self) -> Value:
        if self._value is None:
            assert self.columns is not None
            self._value = self.columns.matrix()
        return self._value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueryResult):
            return NotImplemented
        mine = (self.result_type, self.value, self.warnings, self.infos)
        return mine == (other.result_type, other.value, other.warnings, other.infos)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaced

    def __repr__(self) -> str:
        return (
            f"QueryResult({self.result_type!r}, {self.value!r}, "
            f"warnings={self.warnings!r}, infos={self.infos!r})"
        )


class Engine:
    """Evaluates PromQL against a :class:`~orchestrix.promql.storage.Queryable`."""

    def __init__(
        self,
        storage: Queryable,
        *,
        lookback_ms: int = DEFAULT_LOOKBACK_MS,
        timeout_s: float = 120.0,
        max_samples: int = 50_000_000,
        subquery_step_ms: int = 60_000,
    ) -> None:
        self.storage = storage
        self.lookback_ms = lookback_ms
        self.timeout_s = timeout_s
        self.max_samples = max_samples
        self.subquery_step_ms = subquery_step_ms

    def instant(self, query: str, time_ms: int) -> QueryResult:
        return self.instant_tree(parse(query), query, time_ms)

    def range(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> QueryResult:
        return self.range_tree(parse(query), query, start_ms, end_ms, step_ms)

    def _context(self, query: str, start: int, end: int, step: int) -> QueryContext:
        return QueryContext(
            query_start=start,
            query_end=end,
            query_step=step,
            storage=self.storage,
            lookback=self.lookback_ms,
            deadline=time.monotonic() + self.timeout_s,
            max_samples=self.max_samples,
            annotations=Annotations(query),
            subquery_step=self.subquery_step_ms,
        )

    def instant_tree(self, tree: ast.Node, query: str, time_ms: int) -> QueryResult:
        try:
            return self._instant(tree, query, time_ms)
        except RecursionError:
            raise BadQuery(TOO_DEEP) from None

    def _instant(self, tree: ast.Node, query: str, time_ms: int) -> QueryResult:
        ctx = self._context(query, time_ms, time_ms, 0)
        node = ast.resolve_and_wrap(tree, time_ms, time_ms)
        ev = Evaluator(ctx, time_ms, time_ms, 1)
        raw = ev.eval(node)
        vtype = tree.vtype
        value: Value
        if vtype == "string":
            value = String(time_ms, raw)
        elif vtype == "scalar":
            value = Scalar(time_ms, raw[0])
        elif vtype == "matrix":
            value = sorted(raw, key=lambda s: s.labels)
        else:
            value = _instant_vector(raw, time_ms)
        return _result(vtype, value, ctx)

    def range_tree(
        self, tree: ast.Node, query: str, start_ms: int, end_ms: int, step_ms: int
    ) -> QueryResult:
        try:
            return self._range(tree, query, start_ms, end_ms, step_ms)
        except RecursionError:
            raise BadQuery(TOO_DEEP) from None

    def _range(
        self, tree: ast.Node, query: str, start_ms: int, end_ms: int, step_ms: int
    ) -> QueryResult:
        if step_ms <= 0:
            raise BadQuery(
                "zero or negative query resolution step widths are not accepted. "
                "Try a positive integer"
            )
        if end_ms < start_ms:
            raise BadQuery("end timestamp must not be before start time")
        if (end_ms - start_ms) // step_ms > MAX_POINTS:
            raise ResolutionTooHigh(
                f"exceeded maximum resolution of {MAX_POINTS:,} points per timeseries. "
                "Try decreasing the query resolution (?step=XX)"
            )
        if tree.vtype not in ("vector", "scalar"):
            raise BadQuery(
                f'invalid expression type "{_DOCUMENTED[tree.vtype]}" for range query, '
                "must be Scalar or instant Vector"
            )
        ctx = self._context(query, start_ms, end_ms, step_ms)
        node = ast.resolve_and_wrap(tree, start_ms, end_ms)
        ev = Evaluator(ctx, start_ms, end_ms, step_ms)
        raw = ev.eval_any(node)
        if isinstance(raw, VectorBlock):
            from .matrix_columns import matrix_columns

            columns = matrix_columns(raw, ev.steps)
            if columns is not None:
                ctx.check()
                annos = ctx.annotations
                return QueryResult(
                    "matrix", None, list(annos.warnings), list(annos.infos), columns=columns
                )
            raw = block_series(raw)
        if tree.vtype == "scalar":
            raw = [EvSeries((), list(raw))]
        ctx.check()
        return _result("matrix", _range_matrix(raw, ev.steps), ctx)


def _result(vtype: str, value: Value, ctx: QueryContext) -> QueryResult:
    annos = ctx.annotations
    return QueryResult(vtype, value, list(annos.warnings), list(annos.infos))


def _instant_vector(raw: list[EvSeries], t: int) -> Vector:
    out: Vector = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for s in raw:
        v = s.vals[0]
        if v is None:
            continue
        labels = drop_metric_name(s.labels) if s.drop_name else s.labels
        if labels in seen:
            raise ExecutionError("vector cannot contain metrics with the same labelset")
        seen.add(labels)
        out.append(Sample(labels, t, v))
    return out


def _range_matrix(raw: list[EvSeries], steps: list[int]) -> Matrix:
    cleaned = [
        EvSeries(drop_metric_name(s.labels) if s.drop_name else s.labels, s.vals) for s in raw
    ]
    merged = merge_same_labelset(cleaned)
    out: Matrix = []
    for s in sorted(merged, key=lambda s: s.labels):
        vals = s.vals
        if None in vals:
            points = [(t, v) for t, v in zip(steps, vals, strict=True) if v is not None]
        else:  # every step has a value (the common case): no Python loop
            points = list(zip(steps, cast("list[float]", vals), strict=True))
        if points:
            out.append(RangeSeries(s.labels, points))
    return out
