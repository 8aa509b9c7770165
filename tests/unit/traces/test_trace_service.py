"""TraceService against small fakes of its ports: who may do what, paging, time ranges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from orchestrix.domain.errors import Forbidden, NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role, Scope
from orchestrix.domain.traces import Span, SpanKind, TraceSearch, TraceSummary
from orchestrix.ports.trace_store import CounterSample, Deriver, SearchCursor, SpanWrite
from orchestrix.services.traces import TraceService, parse_trace_id

NOW = datetime(2026, 12, 1, tzinfo=UTC)
NOW_NS = int(NOW.timestamp()) * 10**9


class _Clock:
    def now(self) -> datetime:
        return NOW


def _span(n: int) -> Span:
    return Span(bytes([n]) * 16, bytes([n]) * 8, None, "op", SpanKind.SERVER, NOW_NS, 5, "svc")


class _Store:
    def __init__(self) -> None:
        self.spans: dict[tuple[str, bytes], list[Span]] = {}
        self.afters: list[SearchCursor | None] = []

    def write(self, tenant_id: str, spans: Sequence[Span], derive: Deriver, now_ms: int):  # type: ignore[no-untyped-def]
        for span in spans:
            self.spans.setdefault((tenant_id, span.trace_id), []).append(span)
        counters = [
            CounterSample(labels, now_ms, v, True) for labels, v in derive(spans, []).items()
        ]
        return SpanWrite(len(spans), counters)

    def trace(self, tenant_id: str, trace_id: bytes) -> list[Span]:
        return self.spans.get((tenant_id, trace_id), [])

    def search(self, tenant_id: str, search: TraceSearch, limit: int, after: SearchCursor | None):  # type: ignore[no-untyped-def]
        self.afters.append(after)
        found = [
            TraceSummary(t, "svc", "op", NOW_NS, NOW_NS + 5, len(s), s, NOW_NS - i)
            for i, ((tenant, t), s) in enumerate(sorted(self.spans.items()))
            if tenant == tenant_id
        ]
        start = (
            0
            if after is None
            else next(i + 1 for i, f in enumerate(found) if f.trace_id == after.trace_id)
        )
        return found[start : start + limit]


class _Series:
    def __init__(self) -> None:
        self.written: list[tuple[str, int]] = []

    def write(self, tenant_id: str, samples: Sequence[CounterSample]) -> None:
        self.written.append((tenant_id, len(samples)))


KEY = Principal("acme", "key", scopes=frozenset({Scope.TRACES_WRITE}), kind="api_key")
VIEWER = Principal("acme", "ann", roles=frozenset({Role.VIEWER}))


def _service() -> tuple[TraceService, _Store, _Series]:
    store, series = _Store(), _Series()
    return TraceService(store, series, _Clock()), store, series


def test_ingest_needs_the_scope_and_writes_the_derived_series() -> None:
    service, store, series = _service()
    with pytest.raises(Forbidden):
        service.ingest(VIEWER, [_span(1)])
    assert store.spans == {}

    assert service.ingest(KEY, [_span(1), _span(2)]) == 2
    assert series.written == [("acme", 18)]  # calls + 15 buckets + count + sum, one group


def test_reading_needs_a_role_and_an_unknown_trace_is_not_found() -> None:
    service, _, _ = _service()
    service.ingest(KEY, [_span(1)])
    with pytest.raises(Forbidden):
        service.trace(KEY, _span(1).trace_id)
    with pytest.raises(NotFound):
        service.trace(VIEWER, _span(2).trace_id)
    with pytest.raises(NotFound):  # the same id in another tenant
        service.trace(Principal("other", "x", roles=frozenset({Role.ADMIN})), _span(1).trace_id)
    assert service.trace(VIEWER, _span(1).trace_id) == [_span(1)]


def test_search_pages_with_an_opaque_cursor() -> None:
    service, store, _ = _service()
    service.ingest(KEY, [_span(n) for n in (1, 2, 3)])
    search = TraceSearch(NOW_NS - 10**9, NOW_NS + 10**9)

    first = service.search(VIEWER, search, 2, None)
    second = service.search(VIEWER, search, 2, first.next_cursor)

    assert [t.trace_id[0] for t in first.items] == [1, 2]
    assert [t.trace_id[0] for t in second.items] == [3]
    assert second.next_cursor is None
    assert store.afters[1] == SearchCursor(NOW_NS - 1, _span(2).trace_id)
    with pytest.raises(ValidationFailed):
        service.search(VIEWER, search, 2, "not a cursor")


def test_ranges_default_to_the_last_hour_and_are_bounded() -> None:
    service, _, _ = _service()
    start, end = service.default_range(None, None)
    assert end - start == 3600 * 10**9
    with pytest.raises(ValidationFailed):
        service.default_range(NOW_NS, NOW_NS)
    with pytest.raises(ValidationFailed):
        service.default_range(NOW_NS - 40 * 86_400 * 10**9, NOW_NS)
    assert service.accepted_starts() == (NOW_NS - 7 * 86_400 * 10**9, NOW_NS + 600 * 10**9)


def test_trace_ids_are_hex_and_short_ones_are_padded() -> None:
    assert parse_trace_id("ABC") == bytes(14) + b"\x0a\xbc"
    with pytest.raises(ValidationFailed):
        parse_trace_id("xyz")
    with pytest.raises(ValidationFailed):
        parse_trace_id("0" * 33)
