"""The PostgreSQL trace store: day partitions dropped by retention, row-level security,
re-sent spans stored and counted once, counters that only move forward."""

from __future__ import annotations

import os
from collections.abc import Sequence

import psycopg

from orchestrix.adapters.postgres.trace_store import PostgresTraceStore
from orchestrix.domain import span_metrics
from orchestrix.domain.traces import ServiceCall, Span, SpanKind

DAY_NS = 86_400 * 10**9
Y2001 = 978_307_200 * 10**9  # 2001-01-01T00:00:00Z


def _span(start_ns: int, service: str = "api", trace: bytes | None = None) -> Span:
    return Span(
        trace_id=trace or os.urandom(16),
        span_id=os.urandom(8),
        parent_span_id=None,
        name="GET /",
        kind=SpanKind.SERVER,
        start_ns=start_ns,
        duration_ns=1_000_000,
        service=service,
    )


def _nothing(
    spans: Sequence[Span], calls: Sequence[ServiceCall]
) -> dict[span_metrics.Labels, float]:
    return {}


def test_retention_drops_whole_old_days_and_keeps_the_rest(db, tenant):
    store = PostgresTraceStore(db)
    old, recent = _span(Y2001 + 3600 * 10**9), _span(Y2001 + 200 * DAY_NS)
    store.write(tenant, [old], _nothing, now_ms=0)
    store.write(tenant, [recent], _nothing, now_ms=0)

    dropped = store.drop_days_before(Y2001 + 100 * DAY_NS)

    assert "trace_spans_p20010101" in dropped
    assert all(name < "trace_spans_p20010411" for name in dropped)
    assert store.trace(tenant, old.trace_id) == []
    assert store.trace(tenant, recent.trace_id) == [recent]


def test_an_unfiltered_query_sees_only_the_current_tenants_spans(db, tenant):
    store = PostgresTraceStore(db)
    mine, theirs = _span(Y2001 + 300 * DAY_NS), _span(Y2001 + 300 * DAY_NS)
    store.write(tenant, [mine], _nothing, now_ms=0)
    store.write(tenant + "-other", [theirs], _nothing, now_ms=0)

    with db.connection() as conn, conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
        rows = conn.execute("SELECT tenant_id, span_id FROM trace_spans").fetchall()
        counters = conn.execute("SELECT DISTINCT tenant_id FROM span_metric_counters").fetchall()

    assert {r[0] for r in rows} == {tenant}
    assert bytes(rows[0][1]) == mine.span_id
    assert set(counters) <= {(tenant,)}
    assert store.trace(tenant, theirs.trace_id) == []


def test_a_resent_span_is_stored_and_counted_once_and_totals_only_grow(db, tenant):
    store = PostgresTraceStore(db)
    spans = [_span(Y2001 + 300 * DAY_NS) for _ in range(2)]

    first = store.write(tenant, spans, span_metrics.increments, now_ms=5_000)
    again = store.write(tenant, spans, span_metrics.increments, now_ms=4_000)  # clock behind
    more = store.write(tenant, [_span(Y2001 + 300 * DAY_NS)], span_metrics.increments, now_ms=4_000)

    def calls(write):  # type: ignore[no-untyped-def]
        return [c for c in write.counters if dict(c.labels)["__name__"].endswith("calls_total")]

    assert (first.stored, again.stored, more.stored) == (2, 0, 1)
    assert [(c.value, c.timestamp_ms, c.new) for c in calls(first)] == [(2.0, 5_000, True)]
    assert calls(again) == []
    # the later write's sample is later than the last one even though its clock lagged
    assert [(c.value, c.timestamp_ms, c.new) for c in calls(more)] == [(3.0, 5_001, False)]


def test_the_app_role_cannot_create_or_drop_partitions_itself(db):
    with db.connection() as conn:
        try:
            conn.execute(
                "CREATE TABLE trace_spans_p19990101 PARTITION OF trace_spans "
                "FOR VALUES FROM (0) TO (1)"
            )
        except psycopg.errors.InsufficientPrivilege:
            refused = True
        else:
            refused = False
        conn.rollback()
    assert refused


def test_a_day_dropped_by_another_container_is_made_again_on_write(db, tenant):
    # given a store that made (and remembers) a day another store's retention then dropped
    writer, housekeeper = PostgresTraceStore(db), PostgresTraceStore(db)
    day = Y2001 + 50 * DAY_NS
    writer.write(tenant, [_span(day)], _nothing, now_ms=0)
    assert "trace_spans_p20010220" in housekeeper.drop_days_before(day + DAY_NS)

    # when the first one writes to that day again
    again = _span(day + 1)
    written = writer.write(tenant, [again], _nothing, now_ms=0)

    # then the day is made anew and the span stored
    assert written.stored == 1
    assert writer.trace(tenant, again.trace_id) == [again]
