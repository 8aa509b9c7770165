"""The default trace store: day-partitioned spans in PostgreSQL, under row-level security.

A write is one transaction: the spans (a re-sent span is skipped, not duplicated), the calls
between services they complete, and the derived counters' new totals. Partitions are made
in a short transaction of their own first, as the metric store does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from orchestrix.adapters.postgres import trace_sql as sql
from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.metric_store import WRITE_CONNECT_TIMEOUT_S, _available
from orchestrix.adapters.traces.derived_series import series_key
from orchestrix.domain.span_metrics import Labels
from orchestrix.domain.traces import (
    ServiceCall,
    ServiceEdge,
    Span,
    SpanKind,
    StatusCode,
    TraceSearch,
    TraceSummary,
)
from orchestrix.ports.trace_store import CounterSample, Deriver, SearchCursor, SpanWrite

MAX_SPANS_PER_TRACE = 10_000
MATCHED_PER_TRACE = 3
MAX_TAG_VALUES = 1_000
_TAG_COLUMNS = {"service": "service", "name": "name"}


def _span(row: Sequence[Any]) -> Span:
    (trace_id, span_id, parent, start, duration, service, name, kind, code, message, state,
     scope, resource, attributes, events, links) = row  # fmt: skip
    return Span(
        trace_id=bytes(trace_id),
        span_id=bytes(span_id),
        parent_span_id=None if parent is None else bytes(parent),
        name=name,
        kind=SpanKind(kind),
        start_ns=start,
        duration_ns=duration,
        service=service,
        status_code=StatusCode(code),
        status_message=message,
        trace_state=state,
        scope=scope,
        resource=resource,
        attributes=attributes,
        events=events,
        links=links,
    )


def span_columns(spans: Sequence[Span]) -> dict[str, list[Any]]:
    """The batch as one list per column, the INSERT's array parameters."""
    dumps = json.dumps
    return {
        "trace_ids": [s.trace_id for s in spans],
        "span_ids": [s.span_id for s in spans],
        "parents": [s.parent_span_id for s in spans],
        "starts": [s.start_ns for s in spans],
        "durations": [s.duration_ns for s in spans],
        "services": [s.service for s in spans],
        "names": [s.name for s in spans],
        "kinds": [int(s.kind) for s in spans],
        "codes": [int(s.status_code) for s in spans],
        "messages": [s.status_message for s in spans],
        "states": [s.trace_state for s in spans],
        "scopes": [dumps(s.scope) for s in spans],
        "resources": [dumps(s.resource) for s in spans],
        "attributes": [dumps(s.attributes) for s in spans],
        "events": [dumps(s.events) for s in spans],
        "links": [dumps(s.links) for s in spans],
    }


class PostgresTraceStore:
    """Keep one per process: it remembers which day partitions exist."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._days: set[int] = set()
        self._tenants: set[str] = set()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        pool = self._db.pool
        if pool.closed:
            self._db.open(wait_seconds=WRITE_CONNECT_TIMEOUT_S)
        with pool.connection(timeout=WRITE_CONNECT_TIMEOUT_S) as conn:
            yield conn

    @contextmanager
    def _tenant(self, tenant_id: str) -> Iterator[psycopg.Connection[Any]]:
        with _available(), self._connection() as conn, conn.transaction():
            conn.execute(sql.SET_TENANT, (tenant_id,))
            yield conn

    # -- writing ----------------------------------------------------------------------------
    def write(
        self, tenant_id: str, spans: Sequence[Span], derive: Deriver, now_ms: int
    ) -> SpanWrite:
        if not spans:
            return SpanWrite(0, [])
        first, last = min(s.start_ns for s in spans), max(s.start_ns for s in spans)
        self._ensure_partitions(first, last)
        try:
            written = self._write(tenant_id, spans, derive, now_ms)
        except psycopg.errors.CheckViolation:
            # No partition for some row: another container's housekeeping dropped a day this
            # one still remembered. Forget what we know, make the days, try once more.
            with self._lock:
                self._days.clear()
            self._ensure_partitions(first, last)
            written = self._write(tenant_id, spans, derive, now_ms)
        with self._lock:
            self._tenants.add(tenant_id)
        return written

    def _write(
        self, tenant_id: str, spans: Sequence[Span], derive: Deriver, now_ms: int
    ) -> SpanWrite:
        with self._tenant(tenant_id) as conn:
            if tenant_id not in self._tenants:
                conn.execute(sql.ENSURE_TENANT, (tenant_id,))
            with conn.cursor() as cur:
                cur.execute(sql.INSERT_SPANS, {"tenant": tenant_id, **span_columns(spans)})
                keys = {(bytes(t), bytes(s), n) for t, s, n in cur.fetchall()}
            new = [s for s in spans if (s.trace_id, s.span_id, s.start_ns) in keys]
            calls = self._new_calls(conn, tenant_id, new)
            counters = self._add(conn, tenant_id, derive(new, calls), now_ms)
        return SpanWrite(len(new), counters)

    def _ensure_partitions(self, first_ns: int, last_ns: int) -> None:
        first_day, last_day = first_ns // sql.DAY_NS, last_ns // sql.DAY_NS
        wanted = range(first_day, last_day + 2)  # one day ahead: midnight finds it there
        if all(day in self._days for day in wanted):
            return
        with _available(), self._connection() as conn:
            conn.execute(
                sql.ENSURE_PARTITIONS, (first_day * sql.DAY_NS, (last_day + 1) * sql.DAY_NS)
            )
            conn.commit()
        with self._lock:
            self._days.update(wanted)

    def _new_calls(
        self, conn: psycopg.Connection[Any], tenant_id: str, new: Sequence[Span]
    ) -> list[ServiceCall]:
        ends = [s for s in new if s.kind in (2, 3, 4, 5)]
        if not ends:
            return []
        rows = conn.execute(
            sql.NEW_CALLS,
            {
                "tenant": tenant_id,
                "trace_ids": [s.trace_id for s in ends],
                "span_ids": [s.span_id for s in ends],
            },
        ).fetchall()
        return [ServiceCall(c, s, bool(f), sd, cd) for c, s, f, sd, cd in rows]

    def _add(
        self,
        conn: psycopg.Connection[Any],
        tenant_id: str,
        increments: Any,
        now_ms: int,
    ) -> list[CounterSample]:
        if not increments:
            return []
        by_fp: dict[int, Labels] = {}
        for labels in increments:
            by_fp[series_key(labels).fingerprint] = labels
        rows = conn.execute(
            sql.ADD_COUNTERS,
            {
                "tenant": tenant_id,
                "now": now_ms,
                "fps": list(by_fp),
                "incs": [float(increments[labels]) for labels in by_fp.values()],
            },
        ).fetchall()
        return [CounterSample(by_fp[fp], ts, value, bool(new)) for fp, value, ts, new in rows]

    # -- reading ----------------------------------------------------------------------------
    def trace(self, tenant_id: str, trace_id: bytes) -> list[Span]:
        with self._tenant(tenant_id) as conn:
            rows = conn.execute(
                sql.TRACE,
                {"tenant": tenant_id, "trace_id": trace_id, "limit": MAX_SPANS_PER_TRACE},
            ).fetchall()
        return [_span(row) for row in rows]

    def search(
        self, tenant_id: str, search: TraceSearch, limit: int, after: SearchCursor | None
    ) -> list[TraceSummary]:
        params = {
            "tenant": tenant_id,
            "start": search.start_ns,
            "end": search.end_ns,
            "service": search.service,
            "operation": search.operation,
            "min_ns": search.min_duration_ns,
            "max_ns": search.max_duration_ns,
            "status": None if search.status is None else int(search.status),
            "after_ns": None if after is None else after.start_ns,
            "after_id": None if after is None else after.trace_id,
            "limit": limit,
            "per_trace": MATCHED_PER_TRACE,
        }
        with self._tenant(tenant_id) as conn:
            found = conn.execute(sql.SEARCH, params).fetchall()
            if not found:
                return []
            trace_ids = [bytes(row[0]) for row in found]
            roots = {
                bytes(row[0]): row[1:]
                for row in conn.execute(
                    sql.TRACE_SUMMARIES, {"tenant": tenant_id, "trace_ids": trace_ids}
                ).fetchall()
            }
            pairs = [(bytes(t), bytes(s)) for t, _, matched in found for s in matched]
            matched_rows = conn.execute(
                sql.SPANS_BY_KEY,
                {
                    "tenant": tenant_id,
                    "trace_ids": [t for t, _ in pairs],
                    "span_ids": [s for _, s in pairs],
                },
            ).fetchall()
        spans = {(s.trace_id, s.span_id): s for s in map(_span, matched_rows)}
        out = []
        for trace_id, first_match, matched in found:
            first, last, count, service, name = roots[bytes(trace_id)]
            out.append(
                TraceSummary(
                    trace_id=bytes(trace_id),
                    root_service=service,
                    root_name=name,
                    start_ns=first,
                    end_ns=last,
                    span_count=count,
                    matched=[spans[(bytes(trace_id), bytes(s))] for s in matched],
                    matched_start_ns=first_match,
                )
            )
        return out

    def service_edges(self, tenant_id: str, start_ns: int, end_ns: int) -> list[ServiceEdge]:
        with self._tenant(tenant_id) as conn:
            rows = conn.execute(
                sql.SERVICE_EDGES, {"tenant": tenant_id, "start": start_ns, "end": end_ns}
            ).fetchall()
        return [
            ServiceEdge(c, s, n, e, float(avg), float(p50), float(p95))
            for c, s, n, e, avg, p50, p95 in rows
        ]

    def tag_values(self, tenant_id: str, tag: str, start_ns: int, end_ns: int) -> list[str]:
        column = _TAG_COLUMNS[tag]
        with self._tenant(tenant_id) as conn:
            rows = conn.execute(
                sql.TAG_VALUES.format(column=column),
                {"tenant": tenant_id, "start": start_ns, "end": end_ns, "limit": MAX_TAG_VALUES},
            ).fetchall()
        return [str(row[0]) for row in rows]

    # -- retention --------------------------------------------------------------------------
    def drop_days_before(self, before_ns: int) -> list[str]:
        with _available(), self._connection() as conn:
            rows = conn.execute(sql.DROP_PARTITIONS, (before_ns,)).fetchall()
            conn.commit()
        with self._lock:
            self._days = {d for d in self._days if (d + 1) * sql.DAY_NS > before_ns}
        return [str(row[0]) for row in rows]
