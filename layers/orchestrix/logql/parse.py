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

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, cast

from orchestrix.domain.regex import RegexError, compile_re2
from orchestrix.logql.model import LabelDrop, LineFilter, LineOp, LogSelector, Sample
from orchestrix.logql.stages import (
    CONVERTERS,
    JsonPath,
    JsonStage,
    LabelBoolean,
    LabelCompare,
    LabelExpr,
    LabelFilterStage,
    LabelFormatStage,
    LineFormatStage,
    LogfmtStage,
    RegexpStage,
    Stage,
    Template,
)
from orchestrix.promql.storage import LabelMatcher

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
# Prometheus' binding strength; `^` alone is right-associative.
_PRECEDENCE = {"or": 1, "and": 2, "unless": 2, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "^": 6}
_PRECEDENCE.update(dict.fromkeys(COMPARISONS, 3))
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
MAX_QUERY_LENGTH = 16 * 1024
MAX_DURATION_NS = 3650 * 86400 * 10**9

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|`[^`]*`)
    | (?P<duration>\[\s*[0-9][0-9a-z.]*\s*\])
    | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![0-9a-zA-Z]))
    | (?P<unit>[0-9]+(?:\.[0-9]+)?[a-zA-Z]+(?:[0-9]+(?:\.[0-9]+)?[a-zA-Z]+)*)
    | (?P<op>\|=|\|~|!=|!~|=~|==|>=|<=|[{}(),=<>|+\-*/%^])
    | (?P<ident>[a-zA-Z_][a-zA-Z0-9_]*)
    )""",
    re.VERBOSE,
)
_UNITS_NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h|d)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "0": "\x00"}


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


def parse_duration_ns(text: str) -> int:
    """`5m`, `1h30m`, `250ms` as nanoseconds (Prometheus' duration syntax, no `y`/`w`)."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise LogQLError(f'invalid duration "{text}"')
    total = sum(int(n) * _UNITS_NS[u] for n, u in parts)
    if not 0 < total <= MAX_DURATION_NS:
        raise LogQLError(f'duration "{text}" must be positive and at most 10 years')
    return total


def _unquote(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1]
    out: list[str] = []
    body = token[1:-1]
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise LogQLError(f"unknown escape sequence \\{nxt} in {token}")
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_QUERY_LENGTH:
            raise LogQLError(f"query longer than {MAX_QUERY_LENGTH} characters")
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if match is None or match.lastgroup is None:
                pos += len(text[pos:]) - len(text[pos:].lstrip())
                raise LogQLError(f"parse error at position {pos + 1}: unexpected {text[pos]!r}")
            start = match.start(match.lastgroup)
            self.tokens.append((match.lastgroup, match.group(match.lastgroup), start + 1))
            pos = match.end()
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        at = self.i + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token = self.peek()
        if token is None:
            raise LogQLError(f"parse error: unexpected end of query, expected {value or kind}")
        if (value is not None and token[1] != value) or (kind is not None and token[0] != kind):
            raise LogQLError(
                f"parse error at position {token[2]}: expected {value or kind}, got {token[1]!r}"
            )
        self.i += 1
        return token[1]

    def at(self, value: str) -> bool:
        token = self.peek()
        return token is not None and token[1] == value and token[0] != "string"

    # -- grammar -----------------------------------------------------------------------
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

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "ident" and token[1] == word:
            self.i += 1
            return True
        return False

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
        self.take("(")
        names: list[str] = []
        while not self.at(")"):
            names.append(self.take(kind="ident"))
            if not self.at(")"):
                self.take(",")
        self.take(")")
        return tuple(names), token[1] == "without"

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
            value = _unquote(self.take(kind="string"))
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
            value = _unquote(self.take(kind="string"))
            try:
                filters.append(LineFilter.of(cast(LineOp, token[1]), value))
            except ValueError as exc:
                raise LogQLError(str(exc)) from None
        return LogSelector(
            selector.matchers, tuple(filters), selector.text, tuple(drops), tuple(stages), sample
        )

    def stage(self, position: int) -> Stage:
        """The stage after a `|` (not `drop` or `unwrap`)."""
        token = self.peek()
        if token is None:
            raise LogQLError("parse error: unexpected end of query after |")
        name = token[1]
        if token[0] == "ident" and name in _STAGE_PARSERS:
            self.i += 1
            return _STAGE_PARSERS[name](self)
        if token[0] == "ident" and name in _UNSUPPORTED_STAGES:
            raise LogQLError(
                f"parse error at position {position}: the stage | {name} is not supported "
                "(line filters, json, logfmt, regexp, pattern, label filters, line_format, "
                "label_format, drop and unwrap are)"
            )
        if (token[0] == "ident" and self._is_comparison(1)) or self.at("("):
            return LabelFilterStage(self.label_or())
        raise LogQLError(
            f"parse error at position {token[2]}: expected a parser, a label filter or a "
            f"formatting stage after |, got {name!r}"
        )

    def _is_comparison(self, offset: int) -> bool:
        token = self.peek(offset)
        return token is not None and token[0] == "op" and token[1] in _LABEL_OPS

    def json_stage(self) -> JsonStage:
        extractions: list[tuple[str, JsonPath]] = []
        while (token := self.peek()) is not None and token[0] == "ident":
            name = self.take(kind="ident")
            path = name
            if self.at("="):
                self.take("=")
                path = _unquote(self.take(kind="string"))
            extractions.append((name, _json_path(path)))
            if not self.at(","):
                break
            self.take(",")
        return JsonStage(tuple(extractions))

    def regexp_stage(self) -> RegexpStage:
        source = _unquote(self.take(kind="string"))
        try:
            pattern = compile_re2(source)
        except RegexError as exc:
            raise LogQLError(f"invalid regular expression {source!r}: {exc}") from None
        if not pattern.groupindex:
            raise LogQLError(f"the regexp {source!r} has no named group (?P<name>...)")
        return RegexpStage(source, pattern)

    def pattern_stage(self) -> RegexpStage:
        """`| pattern "<ip> - <_> [<ts>] <_>"` as the regexp it means: a capture runs to the
        first occurrence of the literal after it, or to the end of the line."""
        source = _unquote(self.take(kind="string"))
        parts = _CAPTURE.split(source)  # literal, name, literal, name, ..., literal
        names = parts[1::2]
        if not any(name != "_" for name in names):
            raise LogQLError(f"the pattern {source!r} has no named capture <name>")
        if any(parts[i] == "" for i in range(2, len(parts) - 1, 2)):
            raise LogQLError(f"the pattern {source!r} has two captures with nothing between")
        regex = "(?s)" + ("^" if parts[0] == "" else "")
        for i, part in enumerate(parts):
            if i % 2 == 0:
                regex += "".join(c if c.isalnum() or not c.isascii() else "\\" + c for c in part)
            else:
                lazy = "" if i == len(parts) - 2 and parts[-1] == "" else "?"
                regex += f"(?:.*{lazy})" if part == "_" else f"(?P<{part}>.*{lazy})"
        try:
            return RegexpStage(source, compile_re2(regex))
        except RegexError as exc:
            raise LogQLError(f"invalid pattern {source!r}: {exc}") from None

    def line_format_stage(self) -> LineFormatStage:
        return LineFormatStage(_template(_unquote(self.take(kind="string"))))

    def label_format_stage(self) -> LabelFormatStage:
        renames: list[tuple[str, str]] = []
        templates: list[tuple[str, Template]] = []
        while True:
            name = self.take(kind="ident")
            self.take("=")
            token = self.peek()
            if token is not None and token[0] == "string":
                self.i += 1
                templates.append((name, _template(_unquote(token[1]))))
            else:
                renames.append((name, self.take(kind="ident")))
            if not self.at(","):
                return LabelFormatStage(tuple(renames), tuple(templates))
            self.take(",")

    def after_unwrap(self, sample: Sample, position: int) -> Sample:
        """A label filter after `| unwrap` (such as `| __error__=""`): it sees the labels
        after the value's extraction, so it can drop the lines that failed it."""
        token = self.peek()
        if not (
            (token is not None and token[0] == "ident" and self._is_comparison(1)) or self.at("(")
        ):
            raise LogQLError(
                f"parse error at position {position}: only label filters may follow | unwrap"
            )
        return replace(sample, filters=(*sample.filters, self.label_or()))

    def unwrap(self) -> Sample:
        name = self.take(kind="ident")
        if name in _UNWRAP_CONVERSIONS and self.at("("):
            self.take("(")
            label = self.take(kind="ident")
            self.take(")")
            return Sample(label, _UNWRAP_CONVERSIONS[name])
        return Sample(name, "number")

    def label_or(self) -> LabelExpr:
        expr = self.label_and()
        while self._keyword("or"):
            expr = LabelBoolean("or", expr, self.label_and())
        return expr

    def label_and(self) -> LabelExpr:
        expr = self.label_primary()
        while True:
            token = self.peek()
            if token is not None and token[0] == "ident" and token[1] == "and" or self.at(","):
                self.i += 1
            elif not (token is not None and token[0] == "ident" and self._is_comparison(1)):
                return expr  # `a="x" b="y"`: a space also means and, as in Loki
            expr = LabelBoolean("and", expr, self.label_primary())

    def label_primary(self) -> LabelExpr:
        if self.at("("):
            self.take("(")
            inner = self.label_or()
            self.take(")")
            return inner
        name = self.take(kind="ident")
        token = self.peek()
        if token is None or not self._is_comparison(0):
            found = "end of query" if token is None else repr(token[1])
            where = f" at position {token[2]}" if token else ""
            raise LogQLError(f"parse error{where}: expected a comparison after {name}, got {found}")
        self.i += 1
        op = token[1]
        value = self.peek()
        if value is None:
            raise LogQLError("parse error: unexpected end of query, expected a value")
        if value[0] == "string":
            self.i += 1
            if op not in ("=", "==", "!=", "=~", "!~"):
                raise LogQLError(
                    f"parse error at position {token[2]}: {op} compares numbers, durations "
                    "or sizes, not strings"
                )
            try:
                matcher = LabelMatcher.of(name, "=" if op == "==" else op, _unquote(value[1]))
            except ValueError as exc:
                raise LogQLError(str(exc)) from None
            return LabelCompare(name, op, "string", matcher=matcher)
        if op in ("=~", "!~"):
            raise LogQLError(f"parse error at position {token[2]}: {op} takes a string")
        sign = 1.0
        if value[:2] == ("op", "-"):
            self.i += 1
            sign = -1.0
            value = self.peek() or value
        self.i += 1
        if value[0] == "number":
            return LabelCompare(name, op, "number", sign * float(value[1]))
        if value[0] == "unit":
            kinds: tuple[LabelKind, ...] = ("duration", "bytes")
            for kind in kinds:
                try:
                    number = CONVERTERS[kind](value[1])
                except ValueError:
                    continue
                return LabelCompare(name, op, kind, sign * number)
        raise LogQLError(
            f"parse error at position {value[2]}: expected a string, number, duration or "
            f"size, got {value[1]!r}"
        )

    def drop_list(self) -> list[LabelDrop]:
        """`| drop a, b="x", c=~"y.*"` after its keyword: the labels to drop (Grafana's logs
        volume query drops `__error__`, which no stream here carries)."""
        found = []
        while True:
            name = self.take(kind="ident")
            matcher = None
            token = self.peek()
            if token is not None and token[1] in ("=", "!=", "=~", "!~"):
                self.i += 1
                value = _unquote(self.take(kind="string"))
                try:
                    matcher = LabelMatcher.of(name, token[1], value)
                except ValueError as exc:
                    raise LogQLError(str(exc)) from None
            found.append(LabelDrop(name, matcher))
            if not self.at(","):
                return found
            self.take(",")


_STAGE_PARSERS: dict[str, Callable[[_Parser], Stage]] = {
    "json": _Parser.json_stage,
    "logfmt": lambda parser: LogfmtStage(),
    "regexp": _Parser.regexp_stage,
    "pattern": _Parser.pattern_stage,
    "line_format": _Parser.line_format_stage,
    "label_format": _Parser.label_format_stage,
}
_GROUPED_RANGE_FUNCTIONS = tuple(f for f in UNWRAP_FUNCTIONS if f != "sum_over_time")
_UNSUPPORTED_STAGES = ("unpack", "keep", "decolorize", "distinct")
_LABEL_OPS = ("=", "==", "!=", "=~", "!~", ">", ">=", "<", "<=")
_UNWRAP_CONVERSIONS: dict[str, Literal["duration", "bytes"]] = {
    "duration": "duration",
    "duration_seconds": "duration",
    "bytes": "bytes",
}
LabelKind = Literal["number", "duration", "bytes"]
_JSON_STEP = re.compile(r'\.?([a-zA-Z_][a-zA-Z0-9_\-]*)|\[([0-9]+)\]|\["((?:[^"\\]|\\.)*)"\]')
_CAPTURE = re.compile(r"<(_|[a-zA-Z_][a-zA-Z0-9_]*)>")
_FIELD = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_LABEL_NAME = re.compile(r"\.([a-zA-Z_][a-zA-Z0-9_]*)")


def _json_path(text: str) -> JsonPath:
    """`a.b[0]["c.d"]` as (a, b, 0, "c.d")."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _JSON_STEP.match(text, pos)
        if match is None or (match.group(1) and pos and text[pos] != "."):
            raise LogQLError(f"invalid JSON expression {text!r} at character {pos + 1}")
        name, index, quoted = match.groups()
        steps.append(
            int(index) if index is not None else name if name else json.loads(f'"{quoted}"')
        )
        pos = match.end()
    if not steps:
        raise LogQLError("an empty JSON expression")
    return tuple(steps)


def _template(text: str) -> Template:
    """A Go template of literal text and `{{.label}}` fields (nothing else is supported)."""
    parts: list[str | tuple[str]] = []
    pos = 0
    for match in _FIELD.finditer(text):
        parts.append(text[pos : match.start()])
        field = _LABEL_NAME.fullmatch(match.group(1))
        if field is None:
            raise LogQLError(
                f"template {text!r}: only {{{{.label}}}} fields are supported, "
                f"not {match.group(0)!r} (at character {match.start() + 1})"
            )
        parts.append((field.group(1),))
        pos = match.end()
    parts.append(text[pos:])
    return tuple(p for p in parts if p != "")


def is_scalar(expr: MetricExpr) -> bool:
    if isinstance(expr, NumberLiteral):
        return True
    return isinstance(expr, BinaryOp) and is_scalar(expr.lhs) and is_scalar(expr.rhs)


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
