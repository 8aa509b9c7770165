"""Bounds on what one query may cost: parser killers, subquery resolution, recursion."""

from __future__ import annotations

import sys

import pytest

from orchestrix.promql import BadQuery, Engine, MemoryStorage
from orchestrix.promql.engine import TOO_DEEP
from orchestrix.promql.errors import ResolutionTooHigh
from orchestrix.promql.parse import MAX_NESTING, MAX_QUERY_LENGTH, ParseError, nesting, parse
from orchestrix.promql.values import labels_of


@pytest.fixture
def storage() -> MemoryStorage:
    s = MemoryStorage()
    for t in range(0, 600_001, 15_000):
        s.add(labels_of({"__name__": "m"}), t, float(t))
    return s


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("m\x00", "unexpected character: '\\x00'"),
        ("(" * 5000 + "m" + ")" * 5000, "nested too deeply"),
        ("m" + " + m" * 5000, "nested too deeply"),  # promql-parser segfaulted on this
        ("m" * (MAX_QUERY_LENGTH + 1), "more than the limit"),
    ],
    ids=["nul", "parentheses", "operators", "length"],
)
def test_parser_killers_are_parse_errors(query: str, message: str) -> None:
    with pytest.raises(ParseError, match="parse error") as exc:
        parse(query)

    assert message in exc.value.message


def test_nesting_counts_brackets_and_operators_outside_strings() -> None:
    assert nesting('sum(rate(m{a="((("}[5m])) + 1') == 4
    assert nesting("m # ((((( a comment") == 0
    assert nesting("(" * MAX_NESTING + "m" + ")" * MAX_NESTING) == MAX_NESTING


def test_queries_of_ordinary_depth_still_parse() -> None:
    parse("(" * 200 + "m" + ")" * 200)
    parse(" + ".join(["m"] * 200))


def test_subquery_over_the_resolution_cap_is_refused(storage: MemoryStorage) -> None:
    with pytest.raises(ResolutionTooHigh) as exc:
        Engine(storage).instant("max_over_time(m[1d:1s])", 600_000)

    assert exc.value.message.startswith(
        "subquery exceeded maximum resolution of 11,000 points per timeseries"
    )
    assert isinstance(exc.value, BadQuery)


def test_subquery_under_the_cap_runs(storage: MemoryStorage) -> None:
    result = Engine(storage).instant("max_over_time(m[10m:1m])", 600_000)

    assert result.value[0].v == 600_000  # type: ignore[index,union-attr]


def test_range_query_over_the_resolution_cap_is_refused(storage: MemoryStorage) -> None:
    with pytest.raises(ResolutionTooHigh, match="exceeded maximum resolution of 11,000 points"):
        Engine(storage).range("m", 0, 11_001_000, 1_000)


def test_recursion_error_while_evaluating_is_a_bad_query(storage: MemoryStorage) -> None:
    tree = parse("abs(" * 100 + "m" + ")" * 100)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(150)  # the same as a tree deeper than the stack allows
    try:
        with pytest.raises(BadQuery) as exc:
            Engine(storage).instant_tree(tree, "deep", 600_000)
    finally:
        sys.setrecursionlimit(limit)

    assert exc.value.message == TOO_DEEP


def test_limits_are_settings() -> None:
    from orchestrix.settings import Settings

    env = {
        "QUERY_MAX_SAMPLES": "1000",
        "QUERY_TIMEOUT_S": "3",
        "RULE_QUERY_TIMEOUT_S": "2",
        "RULE_TICK_BUDGET_S": "7",
    }
    settings = Settings.from_env(env)

    assert (settings.query_max_samples, settings.query_timeout_s) == (1000, 3.0)
    assert (settings.rule_query_timeout_s, settings.rule_tick_budget_s) == (2.0, 7.0)
    assert Settings.from_env({}).query_max_samples == 5_000_000


def test_metrics_service_caps_the_client_timeout() -> None:
    from orchestrix.services.metrics import MetricsService

    class Store:
        def reader(self, tenant_id: str) -> MemoryStorage:
            return MemoryStorage()

    from orchestrix.domain.identity import Principal, Role

    service = MetricsService(Store(), max_samples=7, max_timeout_s=2.0)  # type: ignore[arg-type]
    engine = service._engine(Principal("t", "u", frozenset({Role.ADMIN})), 600.0)

    assert (engine.timeout_s, engine.max_samples) == (2.0, 7)
