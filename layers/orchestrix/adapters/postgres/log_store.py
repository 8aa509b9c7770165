"""The default log store: streams and day-partitioned lines in PostgreSQL (0011_logs.sql).

Writes are one transaction per request: new streams are upserted and the lines inserted
with one INSERT over unnest()ed array parameters (COPY is refused under row-level
security). Searches resolve the matching streams first (label matchers, the GIN index on
labels narrowing exact literal ones), then read lines of those streams by time; substring
filters become LIKE (served by the trigram index where pg_trgm exists) and full-text words
a `tsv @@` condition, while regex filters are applied here with RE2, never translated to
PostgreSQL's regex dialect, whose semantics differ.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from orchestrix.adapters.postgres import metric_sql
from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.metric_store import _available
from orchestrix.domain.errors import ValidationFailed
from orchestrix.domain.logs import DAY_NS, Labels, LogBatch
from orchestrix.logql.model import (
    IndexStats,
    LogHits,
    LogPosition,
    LogQueryTimeout,
    LogRecord,
    LogSearch,
    LogSelector,
    StreamTimes,
)
from orchestrix.promql.storage import matches_all

# log_streams bounds move only once a batch is this far outside them (one write per hour
# per stream instead of one per request); reads widen their window by as much.
STREAM_TOUCH_NS = 3600 * 10**9
SCAN_BATCH = 2_000  # lines read per round trip while regex filters drop some
SCAN_BUDGET = 100_000  # lines one search call may read before answering with a cursor
MAX_METRIC_LINES = 2_000_000  # lines one metric query may count
_CACHE_TTL_S = 600.0

_UPSERT_STREAMS = """
INSERT INTO log_streams (tenant_id, stream_id, labels, first_ts, last_ts)
SELECT %(tenant)s, s.id, s.labels, s.first, s.last
FROM unnest(%(ids)s::bigint[], %(labels)s::jsonb[], %(first)s::bigint[], %(last)s::bigint[])
     AS s (id, labels, first, last)
ON CONFLICT (tenant_id, stream_id) DO UPDATE
SET first_ts = least(log_streams.first_ts, excluded.first_ts),
    last_ts = greatest(log_streams.last_ts, excluded.last_ts)
"""
_INSERT_LINES = """
INSERT INTO log_entries (tenant_id, ts, stream_id, line, metadata)
SELECT %(tenant)s, e.ts, e.stream_id, e.line, e.metadata
FROM unnest(%(ts)s::bigint[], %(streams)s::bigint[], %(lines)s::text[], %(metadata)s::jsonb[])
     AS e (ts, stream_id, line, metadata)
ON CONFLICT DO NOTHING  -- a line already stored (a push sent again): 0018_log_entry_once.sql
"""
_STATEMENT_TIMEOUT = "SELECT set_config('statement_timeout', %s, true)"
# Of the given streams, those with a line in [start, end]: one probe each of the
# (tenant, stream, ts) index, since a stream's bounds may lag by STREAM_TOUCH_NS.
_STREAMS_WITH_A_LINE = """
SELECT s.id FROM unnest(%(ids)s::bigint[]) AS s(id)
WHERE EXISTS (SELECT 1 FROM log_entries AS e
              WHERE e.tenant_id = %(tenant)s AND e.stream_id = s.id
                AND e.ts BETWEEN %(start)s AND %(end)s)
"""
_INDEX_STATS = f"""
SELECT count(DISTINCT stream_id), count(DISTINCT (stream_id, ts / {DAY_NS})), count(*),
       coalesce(sum(octet_length(line)), 0)
FROM log_entries
WHERE tenant_id = %(tenant)s AND stream_id = ANY(%(ids)s) AND ts BETWEEN %(start)s AND %(end)s
"""
_STREAMS = (
    "SELECT stream_id, labels FROM log_streams WHERE tenant_id = %(tenant)s"
    " AND first_ts <= %(end)s AND last_ts >= %(start)s"
)
_LABEL_NAMES = (
    "SELECT DISTINCT jsonb_object_keys(labels) AS name FROM log_streams"
    " WHERE tenant_id = %(tenant)s AND first_ts <= %(end)s AND last_ts >= %(start)s ORDER BY 1"
)
_ENSURE_PARTITIONS = "SELECT orchestrix_ensure_log_partitions(%s, %s)"
_DROP_PARTITIONS = "SELECT orchestrix_drop_log_partitions(%s)"


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's own wildcards escaped (backslash is LIKE's default escape)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _line_conditions(selector: LogSelector, params: dict[str, Any]) -> str:
    sql = ""
    for index, line_filter in enumerate(selector.filters):
        if not line_filter.is_substring:
            continue
        params[f"f{index}"] = like_pattern(line_filter.value)
        negation = "NOT " if line_filter.op == "!=" else ""
        sql += f" AND e.line {negation}LIKE %(f{index})s"
    if selector.text:
        params["text"] = selector.text
        sql += " AND e.tsv @@ plainto_tsquery('simple', %(text)s)"
    return sql


def _processed(
    rows: list[tuple[int, int, str]],
    streams: dict[int, tuple[tuple[str, str], ...]],
    selector: LogSelector,
    deadline: float | None,
    timeout_s: float | None,
) -> list[StreamTimes]:
    """The lines' timestamps (and sampled values) by the labels the pipeline gives them:
    parsed labels can split one stream into several series."""
    series: dict[tuple[tuple[str, str], ...], tuple[list[int], list[float]]] = {}
    for i, (stream_id, ts, line) in enumerate(rows):
        if deadline is not None and i % 10_000 == 9_999 and time.monotonic() > deadline:
            assert timeout_s is not None
            raise LogQueryTimeout(timeout_s)  # RE2 filters and parsers take time too
        processed = selector.process(streams[stream_id], line)
        if processed is None:
            continue
        labels, text = processed
        value = 1.0
        if selector.sample is not None:
            sampled = selector.value_of(labels, text)
            if sampled is None:
                continue
            labels, value = sampled
        stamps, values = series.setdefault(labels, ([], []))
        stamps.append(int(ts))
        values.append(value)
    # Rows come by stream and time; a series merged from several streams needs sorting.
    found = []
    for labels, (stamps, values) in series.items():
        order = sorted(range(len(stamps)), key=stamps.__getitem__)
        found.append(
            StreamTimes(
                labels,
                [stamps[k] for k in order],
                [values[k] for k in order] if selector.sample is not None else None,
            )
        )
    return found


class PostgresLogStore:
    """Keep one per process: it caches which partitions and streams exist."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._days: set[int] = set()
        self._tenants: set[str] = set()
        self._streams: dict[tuple[str, int], tuple[int, int]] = {}
        self._cache_born = time.monotonic()

    # -- writing ----------------------------------------------------------------------------
    def write(self, tenant_id: str, batch: LogBatch) -> int:
        bounds = batch.bounds()
        if bounds is None:
            return 0
        if time.monotonic() - self._cache_born > _CACHE_TTL_S:
            with self._lock:  # retention deletes streams behind our back
                self._streams.clear()
                self._cache_born = time.monotonic()
        with _available():
            self._ensure_partitions(*bounds)
            with self._db.connection() as conn, conn.transaction():
                conn.execute(metric_sql.SET_TENANT, (tenant_id,))
                if tenant_id not in self._tenants:
                    conn.execute(metric_sql.ENSURE_TENANT, (tenant_id,))
                touched = self._upsert_streams(conn, tenant_id, batch)
                conn.execute(_INSERT_LINES, self._line_columns(tenant_id, batch))
        with self._lock:  # only what is committed may be remembered
            self._tenants.add(tenant_id)
            self._streams.update(touched)
        return batch.line_count

    def _ensure_partitions(self, first_ns: int, last_ns: int) -> None:
        wanted = range(first_ns // DAY_NS, last_ns // DAY_NS + 2)  # and tomorrow's
        if all(day in self._days for day in wanted):
            return
        # Its own short transaction: creating a partition locks the parent table.
        with self._db.connection() as conn:
            conn.execute(_ENSURE_PARTITIONS, (wanted[0] * DAY_NS, wanted[-1] * DAY_NS))
            conn.commit()
        with self._lock:
            self._days.update(wanted)

    def _upsert_streams(
        self, conn: psycopg.Connection[Any], tenant_id: str, batch: LogBatch
    ) -> dict[tuple[str, int], tuple[int, int]]:
        pending: dict[tuple[str, int], tuple[int, int]] = {}
        labels: dict[int, str] = {}
        for stream in batch.streams:
            if not stream.timestamps:
                continue
            key = (tenant_id, stream.fingerprint)
            first, last = min(stream.timestamps), max(stream.timestamps)
            if key in pending:
                first, last = min(first, pending[key][0]), max(last, pending[key][1])
            known = self._streams.get(key)
            if known is None or first < known[0] or last > known[1] + STREAM_TOUCH_NS:
                pending[key] = (first, last)
                labels[stream.fingerprint] = json.dumps(dict(stream.labels))
        if pending:
            conn.execute(
                _UPSERT_STREAMS,
                {
                    "tenant": tenant_id,
                    "ids": [fp for _, fp in pending],
                    "labels": [labels[fp] for _, fp in pending],
                    "first": [b[0] for b in pending.values()],
                    "last": [b[1] for b in pending.values()],
                },
            )
        return pending

    @staticmethod
    def _line_columns(tenant_id: str, batch: LogBatch) -> dict[str, Any]:
        stamps: list[int] = []
        streams: list[int] = []
        lines: list[str] = []
        metadata: list[str | None] = []
        for stream in batch.streams:
            stamps += stream.timestamps
            streams += [stream.fingerprint] * len(stream.timestamps)
            lines += stream.lines
            metadata += stream.metadata
        return {
            "tenant": tenant_id,
            "ts": stamps,
            "streams": streams,
            "lines": lines,
            "metadata": metadata,
        }

    # -- retention --------------------------------------------------------------------------
    def drop_older_than(self, cutoff_ns: int) -> list[str]:
        with _available(), self._db.connection() as conn:
            rows = conn.execute(_DROP_PARTITIONS, (cutoff_ns,)).fetchall()
            conn.commit()
        with self._lock:
            self._days = {d for d in self._days if (d + 1) * DAY_NS > cutoff_ns}
            self._streams.clear()
        return [str(r[0]) for r in rows]

    # -- reading ----------------------------------------------------------------------------
    @contextmanager
    def _read(self, tenant_id: str) -> Iterator[psycopg.Connection[Any]]:
        with _available(), self._db.connection() as conn:
            try:
                conn.execute(metric_sql.SET_TENANT, (tenant_id,))
                yield conn
            finally:
                conn.rollback()

    def _streams_of(
        self,
        conn: psycopg.Connection[Any],
        tenant_id: str,
        selector: LogSelector,
        start_ns: int,
        end_ns: int,
    ) -> dict[int, tuple[tuple[str, str], ...]]:
        matchers = [m for m in selector.matchers if m.name != "__name__"]
        where, params = metric_sql.pushdown(matchers)
        params.update(tenant=tenant_id, start=start_ns - STREAM_TOUCH_NS, end=end_ns)
        found = {}
        for stream_id, labels in conn.execute(_STREAMS + where, params):
            pairs = tuple(sorted(labels.items()))
            if matches_all(pairs, selector.matchers):
                found[int(stream_id)] = pairs
        return found

    def search(self, tenant_id: str, search: LogSearch) -> LogHits:
        backward = search.direction == "backward"
        order = "DESC" if backward else "ASC"
        params: dict[str, Any] = {"tenant": tenant_id, "start": search.start_ns}
        params["end"] = search.end_ns
        conditions = _line_conditions(search.selector, params)
        position = search.after
        records: list[LogRecord] = []
        scanned = 0
        with self._read(tenant_id) as conn:
            streams = self._streams_of(
                conn, tenant_id, search.selector, search.start_ns, search.end_ns
            )
            if not streams:
                return LogHits([], None)
            params["ids"] = list(streams)
            # One stream: an equality lets the (stream, ts, id) index deliver the order.
            params["stream"] = next(iter(streams))
            in_streams = (
                "e.stream_id = %(stream)s" if len(streams) == 1 else "e.stream_id = ANY(%(ids)s)"
            )
            query = (
                "SELECT e.ts, e.id, e.stream_id, e.line, e.metadata FROM log_entries AS e"
                " WHERE e.tenant_id = %(tenant)s AND e.ts >= %(start)s AND e.ts < %(end)s"
                f" AND {in_streams}{conditions} AND (e.ts, e.id) {'<' if backward else '>'}"
                f" (%(after_ts)s, %(after_id)s) ORDER BY e.ts {order}, e.id {order}"
                " LIMIT %(batch)s"
            )
            # Regex filters and label filters drop lines after reading: read more per trip.
            narrows = search.selector.reads_lines
            batch = max(search.limit, SCAN_BATCH) if narrows else search.limit
            while len(records) < search.limit and scanned < SCAN_BUDGET:
                if position is None:
                    edge = (2**63 - 1, 2**63 - 1) if backward else (-(2**63), -(2**63))
                else:
                    edge = (position.ts, position.id)
                params.update(after_ts=edge[0], after_id=edge[1], batch=batch)
                rows = conn.execute(query, params).fetchall()
                scanned += len(rows)
                for ts, id_, stream_id, line, metadata in rows:
                    position = LogPosition(int(ts), int(id_))
                    processed = search.selector.process(streams[stream_id], line)
                    if processed is not None:
                        labels, text = processed
                        records.append(LogRecord(int(ts), int(id_), labels, text, metadata))
                        if len(records) == search.limit:
                            break
                if len(rows) < batch:
                    return LogHits(records, None if len(records) < search.limit else position)
        return LogHits(records, position)

    def timestamps(
        self,
        tenant_id: str,
        selector: LogSelector,
        start_ns: int,
        end_ns: int,
        *,
        timeout_s: float | None = None,
    ) -> list[StreamTimes]:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        params: dict[str, Any] = {"tenant": tenant_id, "start": start_ns, "end": end_ns}
        conditions = _line_conditions(selector, params)
        query = (
            "SELECT e.stream_id, e.ts"
            + (", e.line" if selector.reads_lines else ", NULL")
            + " FROM log_entries AS e WHERE e.tenant_id = %(tenant)s"
            " AND e.ts >= %(start)s AND e.ts <= %(end)s AND e.stream_id = ANY(%(ids)s)"
            + conditions
            + " ORDER BY e.stream_id, e.ts LIMIT %(cap)s"
        )
        by_stream: dict[int, list[int]] = {}
        with self._read(tenant_id) as conn:
            streams = self._streams_of(conn, tenant_id, selector, start_ns, end_ns)
            if not streams:
                return []
            params.update(ids=list(streams), cap=MAX_METRIC_LINES + 1)
            if deadline is not None:  # PostgreSQL cancels the statement at the deadline
                left_ms = max(1, int((deadline - time.monotonic()) * 1000))
                conn.execute(_STATEMENT_TIMEOUT, (f"{left_ms}ms",))
            try:
                rows = conn.execute(query, params).fetchall()
            except psycopg.errors.QueryCanceled:
                assert timeout_s is not None  # nothing else sets a statement timeout here
                raise LogQueryTimeout(timeout_s) from None
        if len(rows) > MAX_METRIC_LINES:
            raise ValidationFailed.single(
                ("query", "query"),
                f"the query reads more than {MAX_METRIC_LINES} lines; narrow the selector "
                "or the time range",
            )
        if selector.reads_lines:
            return _processed(rows, streams, selector, deadline, timeout_s)
        for stream_id, ts, _ in rows:
            by_stream.setdefault(stream_id, []).append(int(ts))
        return [StreamTimes(streams[s], stamps) for s, stamps in by_stream.items()]

    def label_names(
        self, tenant_id: str, start_ns: int, end_ns: int, selector: LogSelector | None = None
    ) -> list[str]:
        params = {"tenant": tenant_id, "start": start_ns - STREAM_TOUCH_NS, "end": end_ns}
        with self._read(tenant_id) as conn:
            if selector is None:
                return [str(r[0]) for r in conn.execute(_LABEL_NAMES, params)]
            found = self._streams_of(conn, tenant_id, selector, start_ns, end_ns).values()
        return sorted({key for labels in found for key, _ in labels})

    def series(
        self, tenant_id: str, selectors: Sequence[LogSelector], start_ns: int, end_ns: int
    ) -> list[Labels]:
        with self._read(tenant_id) as conn:
            streams: dict[int, Labels] = {}
            for selector in selectors:
                streams.update(self._streams_of(conn, tenant_id, selector, start_ns, end_ns))
            if not streams:
                return []
            params = {"tenant": tenant_id, "ids": list(streams), "start": start_ns, "end": end_ns}
            with_lines = [int(r[0]) for r in conn.execute(_STREAMS_WITH_A_LINE, params)]
        return sorted(streams[i] for i in with_lines)

    def index_stats(
        self, tenant_id: str, selector: LogSelector, start_ns: int, end_ns: int
    ) -> IndexStats:
        with self._read(tenant_id) as conn:
            streams = self._streams_of(conn, tenant_id, selector, start_ns, end_ns)
            if not streams:
                return IndexStats(0, 0, 0, 0)
            params = {"tenant": tenant_id, "ids": list(streams), "start": start_ns, "end": end_ns}
            row = conn.execute(_INDEX_STATS, params).fetchone()
        assert row is not None  # an aggregate always answers one row
        return IndexStats(*(int(v) for v in row))

    def label_values(
        self, tenant_id: str, name: str, start_ns: int, end_ns: int, selector: LogSelector | None
    ) -> list[str]:
        with self._read(tenant_id) as conn:
            if selector is None:
                params = {"tenant": tenant_id, "start": start_ns - STREAM_TOUCH_NS, "end": end_ns}
                rows = conn.execute(
                    "SELECT labels FROM log_streams WHERE tenant_id = %(tenant)s"
                    " AND first_ts <= %(end)s AND last_ts >= %(start)s",
                    params,
                ).fetchall()
                found: Sequence[tuple[tuple[str, str], ...]] = [tuple(r[0].items()) for r in rows]
            else:
                found = list(self._streams_of(conn, tenant_id, selector, start_ns, end_ns).values())
        return sorted({value for labels in found for key, value in labels if key == name})
