"""Binary operations between LogQL results, by the PromQL engine's own code.

LogQL's operators are PromQL's (arithmetic, comparisons with or without `bool`, `and`/`or`/
`unless`, `on`/`ignoring`, `group_left/right`), so rather than a second implementation the
evaluated operands are handed to `orchestrix.promql.binops` as its evaluator would: vectors as
one value slot per step, scalars as a value per step.
"""

from __future__ import annotations

from orchestrix.domain.logs import Labels
from orchestrix.logql.parse import BinaryOp
from orchestrix.promql import ast
from orchestrix.promql.binops import eval_binary
from orchestrix.promql.errors import PromQLError
from orchestrix.promql.evaluator import Evaluator, EvSeries

Table = dict[Labels, dict[int, float]]
Value = Table | list[float]


class _Operands(Evaluator):
    """An evaluator whose operands are already evaluated: `eval_binary` asks only for
    `n` and the two sides' values, so the engine's context is not needed."""

    def __init__(self, steps: int, values: dict[int, list[EvSeries] | list[float]]) -> None:
        self.n = steps
        self._values = values

    def eval_vector(self, node: ast.Node) -> list[EvSeries]:
        value = self._values[id(node)]
        return value  # type: ignore[return-value]  # the node's vtype says which it is

    def eval_scalar(self, node: ast.Node) -> list[float]:
        value = self._values[id(node)]
        return value  # type: ignore[return-value]


def _placeholder(value: Value) -> ast.Node:
    if isinstance(value, list):
        return ast.NumberLit(0.0)
    return ast.Paren(ast.NumberLit(0.0), vtype="vector")


def _series(table: Table, at: list[int]) -> list[EvSeries]:
    return [EvSeries(labels, [points.get(t) for t in at]) for labels, points in table.items()]


def binary(expr: BinaryOp, lhs: Value, rhs: Value, at: list[int]) -> Value:
    """`lhs op rhs` at every step of `at`; `ValueError` for what PromQL refuses (e.g. a
    many-to-many match or duplicate series on one side)."""
    from orchestrix.logql.evaluate import LogQLEvaluationError

    left, right = _placeholder(lhs), _placeholder(rhs)
    node = ast.Binary(
        expr.op,
        left,
        right,
        card=expr.card,
        on=expr.on,
        matching=expr.matching,
        include=expr.include,
        return_bool=expr.return_bool,
    )
    operands: dict[int, list[EvSeries] | list[float]] = {
        id(left): lhs if isinstance(lhs, list) else _series(lhs, at),
        id(right): rhs if isinstance(rhs, list) else _series(rhs, at),
    }
    try:
        result = eval_binary(_Operands(len(at), operands), node)
    except PromQLError as exc:
        raise LogQLEvaluationError(str(exc)) from None
    if isinstance(lhs, list) and isinstance(rhs, list):
        return [v for v in result if isinstance(v, float)]
    table: Table = {}
    for series in result:
        assert isinstance(series, EvSeries)
        points = {t: v for t, v in zip(at, series.vals, strict=True) if v is not None}
        if points:
            table[series.labels] = points
    return table
