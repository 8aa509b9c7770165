"""LogQL as Grafana's Loki data source and log alert rules use it.

    log query     {app="api", env=~"prod|staging"} |= "error" | json | status >= 500
                  | line_format "{{.status}} {{.msg}}"
    metric query  sum by (level) (count_over_time({app="api"} | logfmt [5m])) > 10
                  quantile_over_time(0.99, {app="api"} | json | unwrap duration(took) [5m])
                  sum(rate({app="api"} |= "error" [1m])) / sum(rate({app="api"}[1m]))

Stream matchers are `=`, `!=`, `=~`, `!~` (RE2, anchored, as in Prometheus); line filters
`|=`, `!=`, `|~`, `!~`; the stages of stages.py; `| drop` and `| unwrap`; the range functions
of RANGE_FUNCTIONS; the aggregations `sum`, `count`, `min`, `max`, `avg` with `by`/`without`;
number literals, `vector(n)` and PromQL's binary operators with its precedence and vector
matching. Anything else is refused with a message naming the position, never ignored.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from orchestrix.logql.ast import (
    AGGREGATIONS,
    COMPARISONS,
    LINE_FUNCTIONS,
    RANGE_FUNCTIONS,
    SET_OPERATORS,
    UNWRAP_FUNCTIONS,
    AggregationOp,
    BinaryOp,
    BinaryOperator,
    Cardinality,
    LogQLError,
    MetricExpr,
    NumberLiteral,
    Query,
    RangeAggregation,
    RangeFunction,
    VectorAggregation,
    VectorLiteral,
    is_scalar,
    selectors_of,
)
from orchestrix.logql.lexer import parse_duration_ns, unquote
from orchestrix.logql.model import LineFilter, LineOp, LogSelector, Sample
from orchestrix.logql.parse_stages import PipelineParser
from orchestrix.logql.stages import LineFormatStage
from orchestrix.promql.storage import LabelMatcher

__all__ = [  # what callers import from here
    "BinaryOp",
    "LogQLError",
    "MetricExpr",
    "NumberLiteral",
    "Query",
    "RangeAggregation",
    "VectorAggregation",
    "VectorLiteral",
    "parse",
    "parse_duration_ns",
    "parse_stream_labels",
    "selectors_of",
]


# Prometheus' binding strength; `^` alone is right-associative.
_PRECEDENCE = {"or": 1, "and": 2, "unless": 2, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "^": 6}
_PRECEDENCE.update(dict.fromkeys(COMPARISONS, 3))
# Unwrapped range aggregations that take their own `by`/`without` (Loki's rule).
_GROUPED_RANGE_FUNCTIONS = tuple(f for f in UNWRAP_FUNCTIONS if f != "sum_over_time")


class _Parser(PipelineParser):
    """Recursive descent over the tokens: queries, metric expressions, selectors."""

    def query(self) -> Query:
        token = self.peek()
        if token is None:
            raise LogQLError("parse error: the query is empty")
        result: Query
        result = self.selector_with_pipeline() if token[1] == "{" else self.metric()
        if isinstance(result, LogSelector) and result.sample is not None:
            raise LogQLError("parse error: | unwrap is only allowed in a range aggregation")
        rest = self.peek()
        if rest is not None:
            raise LogQLError(f"parse error at position {rest[2]}: unexpected {rest[1]!r}")
        return result

    def metric(self, min_precedence: int = 1) -> MetricExpr:
        lhs = self.unary()
        while True:
            token = self.peek()
            if token is None or token[0] not in ("op", "ident") or token[1] not in _PRECEDENCE:
                return lhs
            precedence = _PRECEDENCE[token[1]]
            if precedence < min_precedence:
                return lhs
            self.i += 1
            op = cast(BinaryOperator, token[1])
            return_bool = op in COMPARISONS and self._keyword("bool")
            on, matching, card, include = self.vector_matching(op)
            rhs = self.metric(precedence if op == "^" else precedence + 1)
            lhs = _binary(op, lhs, rhs, return_bool, on, matching, card, include, token[2])

    def label_list(self) -> tuple[str, ...]:
        self.take("(")
        names: list[str] = []
        while not self.at(")"):
            names.append(self.take(kind="ident"))
            if not self.at(")"):
                self.take(",")
        self.take(")")
        return tuple(names)

    def vector_matching(
        self, op: BinaryOperator
    ) -> tuple[bool, tuple[str, ...], Cardinality, tuple[str, ...]]:
        on = self._keyword("on")
        matching: tuple[str, ...] = ()
        if on or self._keyword("ignoring"):
            matching = self.label_list()
        card: Cardinality = "many-to-many" if op in SET_OPERATORS else "one-to-one"
        include: tuple[str, ...] = ()
        for word, kind in (("group_left", "many-to-one"), ("group_right", "one-to-many")):
            if self._keyword(word):
                if op in SET_OPERATORS:
                    raise LogQLError(f"parse error: no grouping allowed for {op!r} operation")
                card = cast(Cardinality, kind)
                include = self.label_list() if self.at("(") else ()
                break
        return on, matching, card, include

    def unary(self) -> MetricExpr:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in ("-", "+"):
            self.i += 1
            # Unary minus binds tighter than everything but `^`, as in PromQL: -2^2 is -4.
            operand = self.metric(_PRECEDENCE["^"])
            if token[1] == "+":
                return operand
            if isinstance(operand, NumberLiteral):
                return NumberLiteral(-operand.value)
            return BinaryOp("*", operand, NumberLiteral(-1.0))
        return self.metric_operand()

    def metric_operand(self) -> MetricExpr:
        token = self.peek()
        if token is None:
            raise LogQLError("parse error: unexpected end of query")
        if token[1] == "(" and token[0] == "op":
            self.take("(")
            inner = self.metric()
            self.take(")")
            return inner
        if token[0] == "number":
            self.i += 1
            return NumberLiteral(float(token[1]))
        name = token[1]
        if token[0] == "ident" and name == "vector":
            self.i += 1
            self.take("(")
            value = self.unary()
            self.take(")")
            if not isinstance(value, NumberLiteral):
                raise LogQLError(f"parse error at position {token[2]}: vector() takes a number")
            return VectorLiteral(value.value)
        if token[0] == "ident" and name in RANGE_FUNCTIONS:
            return self.range_aggregation()
        if token[0] == "ident" and name in AGGREGATIONS:
            return self.vector_aggregation()
        raise LogQLError(
            f"parse error at position {token[2]}: unsupported {name!r}; expected a number, "
            f"vector(), {', '.join(RANGE_FUNCTIONS)} or {', '.join(AGGREGATIONS)}"
        )

    def range_aggregation(self) -> RangeAggregation:
        position = (self.peek() or ("", "", 0))[2]
        function = cast(RangeFunction, self.take(kind="ident"))
        self.take("(")
        parameter = None
        if function == "quantile_over_time":
            quantile = self.unary()
            if not isinstance(quantile, NumberLiteral):
                raise LogQLError(f"parse error at position {position}: the quantile is a number")
            parameter = quantile.value
            self.take(",")
        parenthesised = self.at("(")
        if parenthesised:
            self.take("(")
        selector = self.selector_with_pipeline()
        if parenthesised:
            self.take(")")
        window = self.take(kind="duration")
        range_ns = parse_duration_ns(window[1:-1].strip())
        if self.at("|") or (self.peek() or ("", "", 0))[1] in ("|=", "!=", "|~", "!~"):
            # `{...}[5m] |= "x"`: filters after the range, as Loki also accepts.
            selector = self.pipeline(selector)
        self.take(")")
        where = f"parse error at position {position}"
        if function in UNWRAP_FUNCTIONS and selector.sample is None:
            raise LogQLError(f"{where}: {function} needs a | unwrap stage")
        if function in LINE_FUNCTIONS and selector.sample is not None:
            raise LogQLError(f"{where}: {function} counts lines and takes no | unwrap")
        if function in ("bytes_over_time", "bytes_rate"):
            selector = replace(selector, sample=Sample("", "line_bytes"))
        token = self.peek()
        if token is None or token[0] != "ident" or token[1] not in ("by", "without"):
            return RangeAggregation(function, selector, range_ns, parameter)
        if function not in _GROUPED_RANGE_FUNCTIONS:
            raise LogQLError(
                f"parse error at position {token[2]}: {function} takes no {token[1]} (Loki "
                "groups only the unwrapped range aggregations but sum_over_time and rate)"
            )
        grouping, without = self.grouping()
        return RangeAggregation(function, selector, range_ns, parameter, grouping, without)

    def vector_aggregation(self) -> VectorAggregation:
        op = cast(AggregationOp, self.take(kind="ident"))
        grouping, without = self.grouping()
        self.take("(")
        position = (self.peek() or ("", "", 0))[2]
        parameter = None
        if op in ("topk", "bottomk"):
            k = self.unary()
            if not isinstance(k, NumberLiteral) or not k.value.is_integer():
                raise LogQLError(f"parse error at position {position}: {op}'s k is an integer")
            parameter = int(k.value)
            self.take(",")
            position = (self.peek() or ("", "", 0))[2]
        inner = self.metric()
        self.take(")")
        if is_scalar(inner):
            raise LogQLError(
                f"parse error at position {position}: {op}() takes a vector, not a scalar"
            )
        if not grouping and not without:
            grouping, without = self.grouping()
        return VectorAggregation(op, inner, grouping, without, parameter)

    def grouping(self) -> tuple[tuple[str, ...], bool]:
        token = self.peek()
        if token is None or token[0] != "ident" or token[1] not in ("by", "without"):
            return (), False
        self.i += 1
        return self.label_list(), token[1] == "without"

    def selector_with_pipeline(self) -> LogSelector:
        return self.pipeline(self.selector())

    def selector(self) -> LogSelector:
        self.take("{")
        matchers: list[LabelMatcher] = []
        while not self.at("}"):
            name = self.take(kind="ident")
            token = self.peek()
            op = self.take(kind="op") if token is not None else ""
            if op not in ("=", "!=", "=~", "!~"):
                raise LogQLError(f"parse error: {op!r} is not a label matcher operator")
            value = unquote(self.take(kind="string"))
            try:
                matchers.append(LabelMatcher.of(name, op, value))
            except ValueError as exc:
                raise LogQLError(str(exc)) from None
            if not self.at("}"):
                self.take(",")
        self.take("}")
        if not any(m.matches("") is False for m in matchers):
            # Loki's rule: at least one matcher that an empty value does not satisfy.
            raise LogQLError(
                "queries require at least one regexp or equality matcher that does not have "
                'an empty-compatible value. For instance, app=~".*" does not meet this '
                'requirement, but app=~".+" will'
            )
        return LogSelector(tuple(matchers))

    def pipeline(self, selector: LogSelector) -> LogSelector:
        filters = list(selector.filters)
        drops = list(selector.drops)
        stages = list(selector.stages)
        sample = selector.sample
        while True:
            token = self.peek()
            if token is None or token[0] != "op":
                break
            if token[1] == "|":
                self.i += 1
                if sample is not None:
                    sample = self.after_unwrap(sample, token[2])
                    continue
                following = self.peek()
                if following is not None and following[:2] == ("ident", "drop"):
                    self.i += 1
                    drops.extend(self.drop_list())
                elif following is not None and following[:2] == ("ident", "unwrap"):
                    self.i += 1
                    sample = self.unwrap()
                else:
                    stages.append(self.stage(token[2]))
                continue
            if token[1] not in ("|=", "!=", "|~", "!~"):
                break
            if any(isinstance(stage, LineFormatStage) for stage in stages):
                raise LogQLError(
                    f"parse error at position {token[2]}: a line filter after | line_format "
                    "is not supported (filters apply to the stored line)"
                )
            self.i += 1
            value = unquote(self.take(kind="string"))
            try:
                filters.append(LineFilter.of(cast(LineOp, token[1]), value))
            except ValueError as exc:
                raise LogQLError(str(exc)) from None
        return LogSelector(
            selector.matchers, tuple(filters), selector.text, tuple(drops), tuple(stages), sample
        )


def _binary(
    op: BinaryOperator,
    lhs: MetricExpr,
    rhs: MetricExpr,
    return_bool: bool,
    on: bool,
    matching: tuple[str, ...],
    card: Cardinality,
    include: tuple[str, ...],
    position: int,
) -> BinaryOp:
    """The operation, checked as Prometheus checks it (scalars, sets, `bool`)."""
    scalars = is_scalar(lhs), is_scalar(rhs)
    where = f"parse error at position {position}"
    if op in COMPARISONS and all(scalars) and not return_bool:
        raise LogQLError(f"{where}: comparisons between scalars must use BOOL modifier")
    if op in SET_OPERATORS and any(scalars):
        raise LogQLError(f"{where}: set operator {op!r} not allowed in binary scalar expression")
    if any(scalars) and (matching or on or card not in ("one-to-one", "many-to-many")):
        raise LogQLError(f"{where}: vector matching only allowed between vectors")
    return BinaryOp(op, lhs, rhs, return_bool, on, matching, card, include)


def parse(text: str) -> Query:
    """The query's tree; `LogQLError` names what is wrong and where."""
    return _Parser(text).query()


def parse_stream_labels(text: str) -> list[tuple[str, str]]:
    """A Loki push's `{app="api", env="prod"}` label string, as (name, value) pairs."""
    parser = _Parser(text)
    selector = parser.selector()
    if parser.peek() is not None or selector.filters or selector.drops:
        raise LogQLError('a stream\'s labels are {name="value", ...} and nothing else')
    if any(m.op.value != "=" for m in selector.matchers):
        raise LogQLError("a stream's labels take = only")
    return [(m.name, m.value) for m in selector.matchers]
