"""The LogQL subset: what parses into what, what is refused, and metric evaluation."""

from __future__ import annotations

import pytest

from orchestrix.logql.evaluate import evaluate, steps
from orchestrix.logql.model import LogSelector, StreamTimes
from orchestrix.logql.parse import (
    BinaryOp,
    LogQLError,
    NumberLiteral,
    RangeAggregation,
    VectorAggregation,
    parse,
    parse_stream_labels,
)

S = 1_000_000_000


def test_log_query_with_every_matcher_and_filter_kind() -> None:
    query = parse(
        r'{app="api", env!="dev", pod=~"api-.+", zone!~"x"} |= "a\"b" != `c\d` |~ "e+" !~ "f"'
    )

    assert isinstance(query, LogSelector)
    assert [(m.name, m.op.value, m.value) for m in query.matchers] == [
        ("app", "=", "api"), ("env", "!=", "dev"), ("pod", "=~", "api-.+"), ("zone", "!~", "x"),
    ]  # fmt: skip
    assert [(f.op, f.value) for f in query.filters] == [
        ("|=", 'a"b'), ("!=", r"c\d"), ("|~", "e+"), ("!~", "f"),
    ]  # fmt: skip
    assert query.keep('xa"b eee') and not query.keep('a"b f') and not query.keep("a")


def test_metric_query_forms() -> None:
    query = parse('sum by (app) (count_over_time({app="api"} |= "error" [5m])) > 10')
    trailing = parse('sum(rate({app="api"}[1m])) without (pod)')
    range_after = parse('count_over_time({app="api"}[1m] |= "x")')

    assert isinstance(query, BinaryOp) and query.op == ">" and query.rhs == NumberLiteral(10)
    assert isinstance(query.lhs, VectorAggregation) and query.lhs.grouping == ("app",)
    inner = query.lhs.inner
    assert isinstance(inner, RangeAggregation) and inner.range_ns == 300 * S
    assert isinstance(trailing, VectorAggregation) and trailing.without
    assert isinstance(range_after, RangeAggregation)
    assert [f.value for f in range_after.selector.filters] == ["x"]


def test_drop_stages_remove_labels_by_name_or_by_value() -> None:
    query = parse('{app="api"} | drop pod, level="debug" |= "x" | drop __error__')

    assert isinstance(query, LogSelector) and [f.value for f in query.filters] == ["x"]
    assert query.relabel((("app", "api"), ("level", "debug"), ("pod", "p1"))) == (("app", "api"),)
    assert query.relabel((("app", "api"), ("level", "info"), ("pod", "p1"))) == (
        ("app", "api"),
        ("level", "info"),
    )


def test_streams_left_alike_by_drop_count_as_one_series() -> None:
    query = parse('count_over_time({app="api"} | drop pod [1m])')
    streams = [
        StreamTimes((("app", "api"), ("pod", "p1")), [10 * S]),
        StreamTimes((("app", "api"), ("pod", "p2")), [20 * S, 30 * S]),
    ]

    assert isinstance(query, RangeAggregation)
    (series,) = evaluate(query, [60 * S], fetch_from(streams))
    assert series.labels == (("app", "api"),) and series.points == [(60 * S, 3.0)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{app="x"} | unpack', "| unpack is not supported"),
        ('{app="x"} | drop', "expected ident"),
        ('{app="x"} | drop a=~"("', "invalid regular expression"),
        ('{app=~".*"}', "at least one regexp or equality matcher"),
        ("{}", "at least one"),
        ('{app="x"} |~ "(a"', "invalid regular expression"),
        ('{app="x"} |~ `(a)\\1`', "invalid regular expression"),  # RE2 has no backreferences
        ('rate_counter({app="x"}[1m])', "unsupported 'rate_counter'"),
        ('count_over_time({app="x"}[1y])', "invalid duration"),
        ('{app="x"} extra', "unexpected"),
        ("", "empty"),
    ],
)
def test_unsupported_or_broken_queries_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(LogQLError, match=message.replace("|", r"\|").replace("(", r"\(")):
        parse(text)


def test_push_label_strings() -> None:
    assert parse_stream_labels('{job="varlogs", filename="/var/log/a.log"}') == [
        ("job", "varlogs"), ("filename", "/var/log/a.log"),
    ]  # fmt: skip
    with pytest.raises(LogQLError):
        parse_stream_labels('{job=~"x"}')


def fetch_from(streams: list[StreamTimes]):  # type: ignore[no-untyped-def]
    def fetch(selector: LogSelector, start: int, end: int) -> list[StreamTimes]:
        return [
            StreamTimes(s.labels, [t for t in s.timestamps if start <= t <= end]) for s in streams
        ]

    return fetch


def test_count_rate_and_sum_by_over_left_open_windows() -> None:
    streams = [
        StreamTimes((("app", "a"), ("pod", "1")), [10 * S, 20 * S, 60 * S]),
        StreamTimes((("app", "a"), ("pod", "2")), [30 * S]),
        StreamTimes((("app", "b"), ("pod", "3")), [5 * S]),
    ]
    at = steps(60 * S, 120 * S, 60 * S)

    summed = evaluate(
        parse('sum by (app) (count_over_time({app=~".+"}[1m]))'), at, fetch_from(streams)
    )  # type: ignore[arg-type]
    rates = evaluate(parse('rate({app="a", pod="1"}[1m])'), at, fetch_from(streams))  # type: ignore[arg-type]
    over = evaluate(parse('sum(count_over_time({app=~".+"}[1m])) > 3'), at, fetch_from(streams))  # type: ignore[arg-type]

    # at 60 s the window (0, 60] holds 3 + 1 lines of app a and 1 of app b; at 120 s, none
    assert [(s.labels, s.points) for s in summed] == [
        ((("app", "a"),), [(60 * S, 4.0)]),
        ((("app", "b"),), [(60 * S, 1.0)]),
    ]
    assert rates[0].points == [(60 * S, 3 / 60)]
    assert [(s.labels, s.points) for s in over] == [((), [(60 * S, 5.0)])]


def test_too_fine_a_range_resolution_is_refused() -> None:
    with pytest.raises(ValueError, match="maximum resolution"):
        steps(0, 12_000 * S, S)
