"""LogQL binary operations: precedence, matching and what is refused, as PromQL's."""

from __future__ import annotations

import pytest

from orchestrix.logql.evaluate import LogQLEvaluationError, evaluate
from orchestrix.logql.model import LogSelector, StreamTimes
from orchestrix.logql.parse import BinaryOp, LogQLError, MetricExpr, NumberLiteral, parse

S = 1_000_000_000
STREAMS = [
    StreamTimes((("app", "a"), ("pod", "1")), [10 * S, 20 * S, 50 * S]),
    StreamTimes((("app", "a"), ("pod", "2")), [30 * S]),
    StreamTimes((("app", "b"), ("pod", "3")), [5 * S, 6 * S]),
]


def fetch(selector: LogSelector, start: int, end: int) -> list[StreamTimes]:
    return [
        StreamTimes(s.labels, [t for t in s.timestamps if start <= t <= end])
        for s in STREAMS
        if all(m.matches(dict(s.labels).get(m.name, "")) for m in selector.matchers)
    ]


def at_60(text: str) -> list[tuple[dict[str, str], float]]:
    query = parse(text)
    assert not isinstance(query, LogSelector)
    return [(dict(s.labels), s.points[-1][1]) for s in evaluate(query, [60 * S], fetch)]


def metric(text: str) -> MetricExpr:
    query = parse(text)
    assert not isinstance(query, LogSelector)
    return query


def test_grafana_health_check_vector_plus_vector() -> None:
    assert at_60("vector(1)+vector(1)") == [({}, 2.0)]


def test_prometheus_precedence_and_associativity() -> None:
    assert at_60("1 + 2 * 3 ^ 2 ^ 0.5 - -1") == [({}, 1 + 2 * 3 ** (2**0.5) + 1)]
    assert at_60("-2 ^ 2") == [({}, -4.0)]
    assert at_60("(1 + 2) * 3 % 4") == [({}, 1.0)]
    assert at_60("2 > bool 1 + 3") == [({}, 0.0)]  # + binds tighter than >
    tree = metric("vector(1) or vector(2) and vector(3) unless vector(4)")
    assert isinstance(tree, BinaryOp) and tree.op == "or"
    assert isinstance(tree.rhs, BinaryOp) and tree.rhs.op == "unless"


def test_arithmetic_and_comparison_between_metric_queries() -> None:
    per_app = 'sum by (app) (count_over_time({app=~".+"}[1m]))'
    assert at_60(f"{per_app} * 10") == [({"app": "a"}, 40.0), ({"app": "b"}, 20.0)]
    assert at_60(f"{per_app} > 2") == [({"app": "a"}, 4.0)]
    assert at_60(f"{per_app} > bool 2") == [({"app": "a"}, 1.0), ({"app": "b"}, 0.0)]
    assert at_60(f"{per_app} / on(app) {per_app}") == [({"app": "a"}, 1.0), ({"app": "b"}, 1.0)]
    share = f'count_over_time({{app="a"}}[1m]) / ignoring(pod) group_left {per_app}'
    assert at_60(share) == [({"app": "a", "pod": "1"}, 0.75), ({"app": "a", "pod": "2"}, 0.25)]
    assert at_60(f"{per_app} and {per_app} > 3") == [({"app": "a"}, 4.0)]
    assert at_60(f"{per_app} unless {per_app} > 3") == [({"app": "b"}, 2.0)]
    assert at_60('count_over_time({app="b"}[1m]) or vector(0)') == [
        ({}, 0.0),
        ({"app": "b", "pod": "3"}, 2.0),
    ]


def test_topk_bottomk_and_spread_aggregations() -> None:
    per_pod = 'count_over_time({app=~".+"}[1m])'

    top = at_60(f"topk(1, {per_pod})")
    bottom_by_app = at_60(f"bottomk by (app) (1, {per_pod})")
    spread = at_60(f"stddev by (app) ({per_pod})")

    assert top == [({"app": "a", "pod": "1"}, 3.0)]
    assert bottom_by_app == [({"app": "a", "pod": "2"}, 1.0), ({"app": "b", "pod": "3"}, 2.0)]
    assert spread == [({"app": "a"}, 1.0), ({"app": "b"}, 0.0)]


def test_many_to_many_matches_are_refused_when_evaluated() -> None:
    query = metric('count_over_time({app="a"}[1m]) / ignoring(pod) count_over_time({app="a"}[1m])')
    with pytest.raises(LogQLEvaluationError, match="many-to-many matching not allowed"):
        evaluate(query, [60 * S], fetch)


def test_unary_minus_and_literals() -> None:
    assert metric("-1.5") == NumberLiteral(-1.5)
    assert at_60("-vector(2) + 1e1") == [({}, 8.0)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 > 2", "comparisons between scalars must use BOOL modifier"),
        ("vector(1) and 1", "set operator 'and' not allowed in binary scalar expression"),
        ("1 + on(a) vector(1)", "vector matching only allowed between vectors"),
        ("vector(1) or group_left vector(1)", "no grouping allowed for 'or' operation"),
        ("sum(1)", "position 5: sum\\(\\) takes a vector, not a scalar"),
        ('vector(count_over_time({a="b"}[1m]))', "vector\\(\\) takes a number"),
        ("vector(1) +", "unexpected end of query"),
        ('topk(1.5, count_over_time({a="b"}[1m]))', "position 6: topk's k is an integer"),
        ("vector(1) ! vector(1)", "position 11: unexpected '!'"),
    ],
)
def test_malformed_binary_operations_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(LogQLError, match=message):
        parse(text)
