"""A store that evaluates PromQL itself gets the caller's tenant and the parsed query, only
after the role check and the parse succeeded, with the timeout capped like the engine's."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrix.domain.errors import Forbidden
from orchestrix.domain.identity import Principal, Role, Scope
from orchestrix.promql import BadQuery, QueryResult, Scalar, ast
from orchestrix.services.metrics import MetricsService


class Evaluator:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def instant(
        self, tenant_id: str, tree: ast.Node, time_ms: int, timeout_s: float
    ) -> QueryResult:
        self.calls.append(("instant", tenant_id, type(tree).__name__, time_ms, timeout_s))
        return QueryResult("scalar", Scalar(time_ms, 1.0))

    def range(
        self, tenant_id: str, tree: ast.Node, start: int, end: int, step: int, timeout_s: float
    ) -> QueryResult:
        self.calls.append(("range", tenant_id, type(tree).__name__, start, end, step, timeout_s))
        return QueryResult("matrix", [])


class NoEngineStore:
    """The service must not fall back to running the engine over `select`."""

    def write(self, tenant_id: str, batch: Any) -> None: ...

    def reader(self, tenant_id: str) -> Any:
        raise AssertionError("the engine ran although the store evaluates queries")


VIEWER = Principal("t1", "u", frozenset({Role.VIEWER}))


def service(evaluator: Evaluator) -> MetricsService:
    return MetricsService(NoEngineStore(), max_timeout_s=20.0, evaluator=evaluator)  # type: ignore[arg-type]


def test_queries_go_to_the_evaluator_with_the_callers_tenant_and_a_capped_timeout() -> None:
    evaluator = Evaluator()
    svc = service(evaluator)
    assert svc.query(VIEWER, "sum(up)", 5_000, timeout_s=60).value == Scalar(5_000, 1.0)
    svc.query_range(VIEWER, "up", 0, 60_000, 15_000, timeout_s=3)
    assert evaluator.calls == [
        ("instant", "t1", "Aggregate", 5_000, 20.0),
        ("range", "t1", "VectorSel", 0, 60_000, 15_000, 3),
    ]


def test_an_ingestion_key_or_a_bad_query_never_reaches_the_evaluator() -> None:
    evaluator = Evaluator()
    svc = service(evaluator)
    writer = Principal("t1", "api-key:1", scopes=frozenset({Scope.METRICS_WRITE}), kind="api_key")
    with pytest.raises(Forbidden):
        svc.query(writer, "up", 0)
    with pytest.raises(BadQuery, match='invalid parameter "query"'):
        svc.query_range(VIEWER, "sum(", 0, 1, 1)
    assert evaluator.calls == []
