"""Where spans live: the storage port behind trace ingest and every trace query.

PostgreSQL is the default (`PostgresTraceStore`); a store on another engine implements the
same methods and the API does not change. Every method is scoped to one tenant by its
`tenant_id` argument, which the services take from the authenticated principal only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from orchestrix.domain.span_metrics import Labels
from orchestrix.domain.traces import ServiceCall, ServiceEdge, Span, TraceSearch, TraceSummary

# Given the spans a write actually stored (not those already there) and the calls between
# services it completed, what each derived counter grows by.
Deriver = Callable[[Sequence[Span], Sequence[ServiceCall]], Mapping[Labels, float]]


@dataclass(frozen=True, slots=True)
class CounterSample:
    """A derived counter's running total after a write, at a time later than its last."""

    labels: Labels
    timestamp_ms: int
    value: float
    new: bool  # the series did not exist before this write


@dataclass(frozen=True, slots=True)
class SpanWrite:
    stored: int  # spans new to the store (a re-sent span is not stored twice)
    counters: list[CounterSample]


@dataclass(frozen=True, slots=True)
class SearchCursor:
    """Keyset position: the last trace returned, by its first matching span's start."""

    start_ns: int
    trace_id: bytes


class TraceStore(Protocol):
    def write(
        self, tenant_id: str, spans: Sequence[Span], derive: Deriver, now_ms: int
    ) -> SpanWrite:
        """Store the spans (all or none) and add what `derive` says to the tenant's
        counters, in one transaction."""
        ...

    def trace(self, tenant_id: str, trace_id: bytes) -> list[Span]:
        """Every stored span of the trace; empty when there is none (or it is another
        tenant's)."""
        ...

    def search(
        self, tenant_id: str, search: TraceSearch, limit: int, after: SearchCursor | None
    ) -> list[TraceSummary]:
        """Traces with a span matching every condition, newest first; `limit` of them."""
        ...

    def service_edges(self, tenant_id: str, start_ns: int, end_ns: int) -> list[ServiceEdge]:
        """Calls between services whose callee span started in [start_ns, end_ns)."""
        ...

    def tag_values(self, tenant_id: str, tag: str, start_ns: int, end_ns: int) -> list[str]:
        """Distinct values of `service` or `name` (span name) seen in the range."""
        ...

    def drop_days_before(self, before_ns: int) -> list[str]:
        """Retention for every tenant: drop whole days that end at or before `before_ns`."""
        ...


class DerivedSeries(Protocol):
    """Where the derived counters' samples go: the metric store, as Prometheus series."""

    def write(self, tenant_id: str, samples: Sequence[CounterSample]) -> None: ...
