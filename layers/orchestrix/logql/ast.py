"""The tree a LogQL query parses into (parse.py builds it, evaluate.py runs it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from orchestrix.logql.model import LogSelector

RangeFunction = Literal[
    "count_over_time",
    "rate",
    "bytes_over_time",
    "bytes_rate",
    "absent_over_time",
    "sum_over_time",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "first_over_time",
    "last_over_time",
    "stdvar_over_time",
    "stddev_over_time",
    "quantile_over_time",
]
AggregationOp = Literal["sum", "count", "min", "max", "avg", "stddev", "stdvar", "topk", "bottomk"]
BinaryOperator = Literal[
    "+", "-", "*", "/", "%", "^", "==", "!=", ">", ">=", "<", "<=", "and", "or", "unless"
]
Cardinality = Literal["one-to-one", "many-to-one", "one-to-many", "many-to-many"]
COMPARISONS = ("==", "!=", ">", ">=", "<", "<=")
SET_OPERATORS = ("and", "or", "unless")
# Over the values `| unwrap` reads; `rate` takes them too (their sum per second).
UNWRAP_FUNCTIONS = (
    "sum_over_time",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "first_over_time",
    "last_over_time",
    "stdvar_over_time",
    "stddev_over_time",
    "quantile_over_time",
)
LINE_FUNCTIONS = ("count_over_time", "bytes_over_time", "bytes_rate", "absent_over_time")
RANGE_FUNCTIONS = ("rate", *LINE_FUNCTIONS, *UNWRAP_FUNCTIONS)
AGGREGATIONS = ("sum", "count", "min", "max", "avg", "stddev", "stdvar", "topk", "bottomk")


class LogQLError(ValueError):
    """The query is not in the supported subset; the message says where and why."""


@dataclass(frozen=True)
class RangeAggregation:
    function: RangeFunction
    selector: LogSelector
    range_ns: int
    parameter: float | None = None  # quantile_over_time's quantile
    # `avg_over_time(... | unwrap x [5m]) by (a)`: series alike on these labels are one.
    grouping: tuple[str, ...] | None = None
    without: bool = False


@dataclass(frozen=True)
class VectorAggregation:
    op: AggregationOp
    inner: MetricExpr
    grouping: tuple[str, ...] = ()
    without: bool = False
    parameter: int | None = None  # topk's and bottomk's k


@dataclass(frozen=True)
class NumberLiteral:
    """A scalar such as `10` or `-1.5`."""

    value: float


@dataclass(frozen=True)
class VectorLiteral:
    """`vector(1)`: one series without labels, with that value at every step."""

    value: float


@dataclass(frozen=True)
class BinaryOp:
    """`lhs op rhs` with PromQL's semantics: `bool` turns a comparison's filter into 0/1,
    `on(...)`/`ignoring(...)` say which labels match, `group_left/right(...)` allow
    many-to-one matches and copy the listed labels over."""

    op: BinaryOperator
    lhs: MetricExpr
    rhs: MetricExpr
    return_bool: bool = False
    on: bool = False
    matching: tuple[str, ...] = ()
    card: Cardinality = "one-to-one"
    include: tuple[str, ...] = ()


MetricExpr = RangeAggregation | VectorAggregation | BinaryOp | NumberLiteral | VectorLiteral
Query = LogSelector | MetricExpr


def is_scalar(expr: MetricExpr) -> bool:
    if isinstance(expr, NumberLiteral):
        return True
    return isinstance(expr, BinaryOp) and is_scalar(expr.lhs) and is_scalar(expr.rhs)


def selectors_of(query: Query) -> list[LogSelector]:
    """Every stream selector a query reads (for the label APIs and rule checks)."""
    if isinstance(query, LogSelector):
        return [query]
    if isinstance(query, RangeAggregation):
        return [query.selector]
    if isinstance(query, BinaryOp):
        return selectors_of(query.lhs) + selectors_of(query.rhs)
    if isinstance(query, NumberLiteral | VectorLiteral):
        return []
    return selectors_of(query.inner)
