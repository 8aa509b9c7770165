"""Metrics use cases: ingest a decoded batch, answer PromQL and the listing API calls.

The service checks who may do what (an ingestion key with `metrics:write` writes, a user
with at least the viewer role reads) and scopes every read to the caller's tenant by asking
the store for that tenant's reader; it never sees a connection or a tenant id from input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from orchestrix.domain.identity import Principal, Role, Scope
from orchestrix.domain.metrics_status import TsdbStats
from orchestrix.promql import BadQuery, Engine, LabelMatcher, Queryable, QueryResult, ast
from orchestrix.promql.parse import ParseError, parse
from orchestrix.promql.values import Labels

if TYPE_CHECKING:
    from orchestrix.adapters.metrics.batch import DecodedBatch, MetricMetadata

# A query may take at most this long (and less when the client's `timeout` says so): the
# API Gateway gives up after 29 s. MAX_SAMPLES bounds the samples one query loads; each costs
# ~64 bytes in the engine's lists, so 5M stay well inside a 1 GiB Lambda (Prometheus: 50M).
DEFAULT_TIMEOUT_S = 25.0
MAX_SAMPLES = 5_000_000


def _parsed(query: str) -> ast.Node:
    """The query's tree; text that does not parse is Prometheus' invalid `query` parameter."""
    try:
        return parse(query)
    except ParseError as exc:
        raise BadQuery(f'invalid parameter "query": {exc.message}') from None


class MetricReader(Queryable, Protocol):
    """One tenant's read access: the engine's `Queryable` plus the listing calls."""

    def series(
        self, selectors: Sequence[Sequence[LabelMatcher]], start_ms: int, end_ms: int
    ) -> list[Labels]: ...

    def metadata(self, family: str | None = None, limit: int = ...) -> list[MetricMetadata]: ...

    def tsdb_stats(self, limit: int) -> TsdbStats: ...


class MetricStore(Protocol):
    def write(self, tenant_id: str, batch: DecodedBatch) -> object: ...

    def reader(self, tenant_id: str) -> MetricReader: ...


class PromQLEvaluator(Protocol):
    """A store that evaluates PromQL itself (a managed Prometheus): the service hands it the
    parsed query, confined to one tenant, instead of running the engine over `select`."""

    def instant(
        self, tenant_id: str, tree: ast.Node, time_ms: int, timeout_s: float
    ) -> QueryResult: ...

    def range(
        self,
        tenant_id: str,
        tree: ast.Node,
        start_ms: int,
        end_ms: int,
        step_ms: int,
        timeout_s: float,
    ) -> QueryResult: ...


class MetricsService:
    def __init__(
        self,
        store: MetricStore,
        *,
        max_samples: int = MAX_SAMPLES,
        max_timeout_s: float = DEFAULT_TIMEOUT_S,
        evaluator: PromQLEvaluator | None = None,
    ) -> None:
        self._store = store
        self._max_samples = max_samples
        self._max_timeout_s = max_timeout_s
        self._evaluator = evaluator

    def _timeout(self, timeout_s: float | None) -> float:
        return min(timeout_s or self._max_timeout_s, self._max_timeout_s)

    def write(self, principal: Principal, batch: DecodedBatch) -> int:
        """Store a batch for the caller's tenant; the number of samples accepted."""
        principal.require_scope(Scope.METRICS_WRITE)
        self._store.write(principal.tenant_id, batch)
        return batch.sample_count

    def _reader(self, principal: Principal) -> MetricReader:
        principal.require_role(Role.VIEWER)
        return self._store.reader(principal.tenant_id)

    def _engine(self, principal: Principal, timeout_s: float | None) -> Engine:
        return Engine(
            self._reader(principal),
            timeout_s=self._timeout(timeout_s),
            max_samples=self._max_samples,
        )

    def query(
        self, principal: Principal, query: str, time_ms: int, timeout_s: float | None = None
    ) -> QueryResult:
        if self._evaluator is not None:
            principal.require_role(Role.VIEWER)
            tree = _parsed(query)
            return self._evaluator.instant(
                principal.tenant_id, tree, time_ms, self._timeout(timeout_s)
            )
        engine = self._engine(principal, timeout_s)
        return engine.instant_tree(_parsed(query), query, time_ms)

    def query_range(
        self,
        principal: Principal,
        query: str,
        start_ms: int,
        end_ms: int,
        step_ms: int,
        timeout_s: float | None = None,
    ) -> QueryResult:
        if self._evaluator is not None:
            principal.require_role(Role.VIEWER)
            tree = _parsed(query)
            return self._evaluator.range(
                principal.tenant_id, tree, start_ms, end_ms, step_ms, self._timeout(timeout_s)
            )
        engine = self._engine(principal, timeout_s)
        return engine.range_tree(_parsed(query), query, start_ms, end_ms, step_ms)

    def label_names(
        self,
        principal: Principal,
        selectors: Sequence[Sequence[LabelMatcher]],
        start_ms: int,
        end_ms: int,
    ) -> list[str]:
        reader = self._reader(principal)
        if not selectors:
            return reader.label_names([], start_ms, end_ms)
        names: set[str] = set()
        for matchers in selectors:
            names.update(reader.label_names(matchers, start_ms, end_ms))
        return sorted(names)

    def label_values(
        self,
        principal: Principal,
        name: str,
        selectors: Sequence[Sequence[LabelMatcher]],
        start_ms: int,
        end_ms: int,
    ) -> list[str]:
        reader = self._reader(principal)
        if not selectors:
            return reader.label_values(name, [], start_ms, end_ms)
        values: set[str] = set()
        for matchers in selectors:
            values.update(reader.label_values(name, matchers, start_ms, end_ms))
        return sorted(values)

    def series(
        self,
        principal: Principal,
        selectors: Sequence[Sequence[LabelMatcher]],
        start_ms: int,
        end_ms: int,
    ) -> list[Labels]:
        return self._reader(principal).series(selectors, start_ms, end_ms)

    def metadata(
        self, principal: Principal, family: str | None = None, limit: int | None = None
    ) -> list[MetricMetadata]:
        reader = self._reader(principal)
        return reader.metadata(family) if limit is None else reader.metadata(family, limit)

    def tsdb_stats(self, principal: Principal, limit: int) -> TsdbStats:
        return self._reader(principal).tsdb_stats(limit)

    def check_query(self, query: str) -> ast.Node:
        """The query's tree, or Prometheus' invalid `query` parameter error."""
        return _parsed(query)
