"""The default metric store: series, a head of recent writes, and day-partitioned chunks.

A write is one transaction: new or widened series are upserted, then the request is
appended to the tenant's head as ONE row of columns (0015_metric_head.sql, metric_head.py),
committed asynchronously. PostgreSQL's cost per row (heap tuple, index entries, row-level
security) was the floor of a remote write that stored a chunk row per series; one row per
request leaves the cost per sample to a few array copies. The same request sent again (a
sender retrying after a lost response) is refused by the head's primary key, its digest.
Once a tenant's head passes a size or age limit, the writer that notices compacts it
(metric_compaction.py): head rows become per-series chunks (an hour's small ones merged
into one once it is over), overlapping data merged so that every instant is stored once,
the newer write winning. Scheduled jobs compact heads left behind by tenants that stopped
writing.
Reads go through `reader(tenant_id)`, a `Queryable` for the PromQL engine, and merge the
head rows overlapping their window with the chunks. Every statement runs as the
application role with `app.tenant_id` set, so row-level security applies even where a
query forgets its own `tenant_id = ...` condition.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg_pool import PoolTimeout

from orchestrix.adapters.metrics.batch import DecodedBatch, MetricMetadata
from orchestrix.adapters.metrics.errors import MetricsIngestError
from orchestrix.adapters.postgres import metric_head
from orchestrix.adapters.postgres import metric_head_sql as hsql
from orchestrix.adapters.postgres import metric_sql as sql
from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.metric_series_cache import KnownSeries, SeriesPlan
from orchestrix.domain.errors import ServiceUnavailable
from orchestrix.domain.metrics_status import TsdbStats
from orchestrix.promql.storage import LabelMatcher, matches_all
from orchestrix.promql.values import Labels, Series

if TYPE_CHECKING:
    from orchestrix.adapters.postgres import metric_columns
    from orchestrix.adapters.postgres.metric_compaction import CompactionReport
    from orchestrix.adapters.postgres.metric_head_columns import HeadSamples
    from orchestrix.promql.columns import SeriesColumns

log = logging.getLogger(__name__)

MAX_DAYS_PER_WRITE = 400
# Day partitions are named metric_samples_pYYYYMMDD: four-digit years from 1970 only. The
# ingest routes refuse narrower ranges with the field named; this guards every other caller.
MIN_SAMPLE_MS = 0
MAX_SAMPLE_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
# How long a write waits for a pooled connection before answering 503. While the database
# is down (restart, failover) a sender should back off and retry, not hold a request open
# until its own timeout; the pool keeps reconnecting in the background meanwhile.
WRITE_CONNECT_TIMEOUT_S = 3.0
_CACHE_TTL_S = 600.0
_CACHE_MAX = 1_000_000

# Errors after which the same request can succeed later: the database restarting, a
# failover, an exhausted pool, a deadlock. Everything else is a bug or a client error.
_RETRYABLE = (
    psycopg.OperationalError,
    PoolTimeout,
    psycopg.errors.SerializationFailure,
    psycopg.errors.DeadlockDetected,
)


class SamplesOutOfBoundsError(MetricsIngestError):
    """A batch whose timestamps span more days than one write may create partitions for."""

    title = "Samples out of bounds"
    code = "samples-out-of-bounds"


@dataclass(frozen=True, slots=True)
class HeadLimits:
    """When a tenant's head is due for compaction: any limit reached. Fewer, larger
    compactions cost less per sample; a larger head costs every read of recent data more
    (each decodes the head rows overlapping its window)."""

    max_rows: int = 500
    max_samples: int = 200_000
    max_age_s: float = 300.0

    def due(self, rows: int, samples: int, age_s: float) -> bool:
        return rows >= self.max_rows or samples >= self.max_samples or age_s >= self.max_age_s


@dataclass(frozen=True, slots=True)
class WriteResult:
    series: int
    samples: int
    series_upserted: int
    duplicates_possible: bool  # the same request was stored already (a re-send): ignored
    compacted: CompactionReport | None = None  # the compaction this write ran, if any


class SeriesLabelCache:
    """Label sets by (tenant, fingerprint), shared by a store's readers.

    A fingerprint is the hash of its label set, so an entry never goes stale; reading the
    labels (jsonb, parsed and sorted in Python) was most of a selection's client time. The
    whole cache is dropped once it holds `limit` entries, which bounds its memory.
    """

    def __init__(self, limit: int = 500_000) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._labels: dict[tuple[str, int], Labels] = {}

    def get(
        self, tenant_id: str, fingerprints: Sequence[int], conn: psycopg.Connection[Any]
    ) -> list[Labels]:
        """The label sets of stored series, read from the database where not cached."""
        cache = self._labels
        found: dict[int, Labels] = {}
        missing: list[int] = []
        for fp in fingerprints:
            labels = cache.get((tenant_id, fp))
            if labels is None:
                missing.append(fp)
            else:
                found[fp] = labels
        if missing:
            rows = conn.execute(sql.SELECT_SERIES_LABELS, {"tenant": tenant_id, "fps": missing})
            fetched = {fp: tuple(sorted(labels.items())) for fp, labels in rows}
            found.update(fetched)
            with self._lock:
                if len(cache) + len(fetched) > self._limit:
                    cache.clear()
                cache.update(((tenant_id, fp), labels) for fp, labels in fetched.items())
        return [found[fp] for fp in fingerprints]


@contextmanager
def _available() -> Iterator[None]:
    try:
        yield
    except _RETRYABLE as exc:
        raise ServiceUnavailable(f"the metric store is unavailable ({type(exc).__name__})") from exc


class PostgresMetricStore:
    """Keep one per process: it caches which partitions, tenants and series exist."""

    def __init__(self, db: Database, head_limits: HeadLimits | None = None) -> None:
        self._db = db
        self._head_limits = head_limits or HeadLimits()
        self._lock = threading.Lock()
        self._days: set[int] = set()
        self._tenants: set[str] = set()
        self._series = KnownSeries()
        self._metadata: dict[tuple[str, str], MetricMetadata] = {}
        self._cache_born = time.monotonic()
        self._labels = SeriesLabelCache()

    # -- writing ----------------------------------------------------------------------------
    def write(self, tenant_id: str, batch: DecodedBatch) -> WriteResult:
        """Store a decoded batch; idempotent for a batch sent again."""
        if not batch.values and not batch.metadata:
            return WriteResult(0, 0, 0, False)
        self._expire_caches()
        fingerprints = [key.fingerprint for key in batch.series]
        row = metric_head.encode(batch, fingerprints) if batch.values else None
        added, due = False, False
        plan: SeriesPlan | None = None
        with _available():
            if row is not None:
                # Compaction writes chunks later: their day partitions must exist by then.
                self._ensure_partitions(row.min_ts, row.max_ts)
            # Pipelined: the statements and the commit go out together, one round trip.
            with self._connection() as conn:
                with conn.pipeline(), conn.transaction():
                    conn.execute(sql.SET_TENANT_FOR_WRITE, (tenant_id,))
                    if tenant_id not in self._tenants:
                        conn.execute(sql.ENSURE_TENANT, (tenant_id,))
                    appended = None
                    if row is not None:
                        plan = self._series.plan(
                            tenant_id, batch.series, fingerprints, row.min_ts, row.max_ts
                        )
                        self._upsert_series(conn, plan)
                        appended = self._append(conn, tenant_id, row)
                    changed = self._upsert_metadata(conn, tenant_id, batch.metadata)
                if appended is not None and row is not None:
                    added, due = self._head_state(appended.fetchone(), row)
        # Only what is committed may be remembered.
        with self._lock:
            self._tenants.add(tenant_id)
            if plan is not None:
                self._series.remember(plan)
            for meta in changed:
                self._metadata[(tenant_id, meta.family)] = meta
        compacted = self._compact_after_write(tenant_id) if due else None
        upserted = len(plan.pending) if plan is not None else 0
        duplicate = row is not None and not added
        return WriteResult(len(batch.series), len(batch.values), upserted, duplicate, compacted)

    def _append(
        self, conn: psycopg.Connection[Any], tenant_id: str, row: metric_head.HeadRow
    ) -> psycopg.Cursor[Any]:
        """Append the row to the head; the cursor will hold what `_head_state` reads."""
        params = {
            "tenant": tenant_id,
            "digest": row.digest,
            "min": row.min_ts,
            "max": row.max_ts,
            "series": row.series,
            "samples": row.samples,
            "body": row.body,
        }
        return conn.execute(hsql.APPEND, params)

    def _head_state(self, found: Any, row: metric_head.HeadRow) -> tuple[bool, bool]:
        """Whether the row was new, and whether the head is due for compaction."""
        added, rows, samples, age_s = found if found is not None else (0, 0, 0, 0.0)
        added = int(added)
        due = self._head_limits.due(
            int(rows) + added, int(samples) + added * row.samples, float(age_s)
        )
        return bool(added), due

    def _compact_after_write(self, tenant_id: str) -> CompactionReport | None:
        """The writer that found the head due compacts it; the write is committed already,
        so a database failing now is logged, not the sender's problem (the next write or
        the scheduled job compacts)."""
        try:
            return self.compact(tenant_id)
        except ServiceUnavailable:
            log.warning("metric head compaction failed; it will be retried", exc_info=True)
            return None

    # -- compaction -------------------------------------------------------------------------
    def compact(self, tenant_id: str) -> CompactionReport | None:
        """Move the tenant's head into chunks (one run, see metric_compaction.py); None if
        another run for the tenant is under way."""
        from orchestrix.adapters.postgres import metric_compaction  # numpy: not on every write

        with _available():
            self._ensure_head_partitions(tenant_id)
            try:
                return self._compact_once(tenant_id, metric_compaction.compact)
            except psycopg.errors.CheckViolation:
                # "no partition for the row": retention dropped a day this process still
                # believed in. Forget the days it knows and go again.
                with self._lock:
                    self._days.clear()
                self._ensure_head_partitions(tenant_id)
                return self._compact_once(tenant_id, metric_compaction.compact)

    def _compact_once(
        self,
        tenant_id: str,
        run: Callable[[psycopg.Connection[Any], str], CompactionReport | None],
    ) -> CompactionReport | None:
        with self._connection() as conn, conn.transaction():
            conn.execute(sql.SET_TENANT_FOR_WRITE, (tenant_id,))
            return run(conn, tenant_id)

    def compact_waiting_heads(self, older_than_s: float | None = None) -> int:
        """Compact every tenant whose oldest head row waited `older_than_s` (default: the
        age limit); the number of tenants compacted. For scheduled jobs: a tenant that
        stopped writing would otherwise keep its head forever."""
        age = self._head_limits.max_age_s if older_than_s is None else older_than_s
        with _available(), self._db.connection() as conn:
            tenants = [str(r[0]) for r in conn.execute(hsql.HEADS_OLDER_THAN, (age,))]
            conn.rollback()
        return sum(1 for tenant_id in tenants if self.compact(tenant_id) is not None)

    def _ensure_head_partitions(self, tenant_id: str) -> None:
        with self._connection() as conn:
            conn.execute(sql.SET_TENANT, (tenant_id,))
            spans = conn.execute(hsql.HEAD_DAYS, (tenant_id,)).fetchall()
            conn.rollback()
        for first_day, last_day in spans:
            self._ensure_partitions(int(first_day) * sql.DAY_MS, int(last_day) * sql.DAY_MS)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        pool = self._db.pool
        if pool.closed:
            self._db.open(wait_seconds=WRITE_CONNECT_TIMEOUT_S)
        with pool.connection(timeout=WRITE_CONNECT_TIMEOUT_S) as conn:
            yield conn

    def _expire_caches(self) -> None:
        # Retention may delete series rows behind our back: forget everything now and then.
        if time.monotonic() - self._cache_born > _CACHE_TTL_S or len(self._series) > _CACHE_MAX:
            with self._lock:
                self._series.clear()
                self._metadata.clear()
                self._cache_born = time.monotonic()

    def _ensure_partitions(self, first_ms: int, last_ms: int) -> None:
        if first_ms < MIN_SAMPLE_MS or last_ms > MAX_SAMPLE_MS:
            bad = first_ms if first_ms < MIN_SAMPLE_MS else last_ms
            raise SamplesOutOfBoundsError(
                f"sample timestamp {bad} ms is outside the storable range "
                f"[{MIN_SAMPLE_MS}, {MAX_SAMPLE_MS}]"
            )
        first_day, last_day = first_ms // sql.DAY_MS, last_ms // sql.DAY_MS
        if last_day - first_day > MAX_DAYS_PER_WRITE:
            raise SamplesOutOfBoundsError(
                f"samples span {last_day - first_day + 1} days; one write may span at most "
                f"{MAX_DAYS_PER_WRITE} (split the backfill)"
            )
        # One day ahead, so that midnight never finds the next partition missing.
        wanted = range(first_day, last_day + 2)
        if all(day in self._days for day in wanted):
            return
        # Its own short transaction: creating a partition locks the parent table, which must
        # not be held for the length of a write.
        with self._connection() as conn:
            conn.execute(
                sql.ENSURE_PARTITIONS, (first_day * sql.DAY_MS, (last_day + 1) * sql.DAY_MS)
            )
            conn.commit()
        with self._lock:
            self._days.update(wanted)

    def _upsert_series(self, conn: psycopg.Connection[Any], plan: SeriesPlan) -> None:
        """Insert unseen series and widen the bounds of those the batch falls outside of
        (metric_series_cache.py): the batch's hours stand in for each series' own bounds,
        wider than the truth, which is all the bounds promise."""
        pending = plan.pending
        if pending:
            conn.execute(
                sql.UPSERT_SERIES,
                {
                    "tenant": plan.tenant_id,
                    "first": plan.first,
                    "last": plan.last,
                    "fps": list(pending),
                    "names": [key.metric_name for key in pending.values()],
                    "labels": [json.dumps(key.as_dict()) for key in pending.values()],
                },
            )

    def _upsert_metadata(
        self, conn: psycopg.Connection[Any], tenant_id: str, metadata: Sequence[MetricMetadata]
    ) -> list[MetricMetadata]:
        latest = {meta.family: meta for meta in metadata if meta.family}
        changed = [m for f, m in latest.items() if self._metadata.get((tenant_id, f)) != m]
        if changed:
            conn.execute(
                sql.UPSERT_METADATA,
                {
                    "tenant": tenant_id,
                    "families": [m.family for m in changed],
                    "types": [m.type for m in changed],
                    "helps": [m.help for m in changed],
                    "units": [m.unit for m in changed],
                },
            )
        return changed

    # -- retention --------------------------------------------------------------------------
    def drop_partitions_older_than(self, days: int, *, now_ms: int | None = None) -> list[str]:
        """Drop every day partition that ended more than `days` days ago; their names."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        cutoff = now - days * sql.DAY_MS
        with _available(), self._db.connection() as conn:
            rows = conn.execute(sql.DROP_PARTITIONS, (cutoff,)).fetchall()
            conn.commit()
        with self._lock:
            self._days = {d for d in self._days if (d + 1) * sql.DAY_MS > cutoff}
            self._series.clear()
        return [str(r[0]) for r in rows]

    # -- reading ----------------------------------------------------------------------------
    def reader(self, tenant_id: str) -> PostgresMetricReader:
        return PostgresMetricReader(self._db, tenant_id, self._labels)


class PostgresMetricReader:
    """One tenant's view of the store: the engine's `Queryable` and the listing API."""

    def __init__(
        self, db: Database, tenant_id: str, labels: SeriesLabelCache | None = None
    ) -> None:
        self._db = db
        self.tenant_id = tenant_id
        self._labels = labels if labels is not None else SeriesLabelCache()

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        with _available(), self._db.connection() as conn:
            try:
                conn.execute(sql.SET_TENANT_FOR_READ, (self.tenant_id,))
                sql.register_array_dumpers(conn.adapters)
                yield conn
            finally:
                conn.rollback()

    def _window(self, start_ms: int, end_ms: int) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "start": start_ms - sql.SERIES_TOUCH_MS,  # the bounds' slack (metric_sql.py)
            "end": end_ms,
            "sample_start": start_ms,
            "sample_end": end_ms,
        }

    def _head_window(
        self, conn: psycopg.Connection[Any], start_ms: int, end_ms: int
    ) -> dict[str, Any]:
        """`_window` plus the series with a head sample inside it (HAS_SAMPLE_IN_WINDOW).
        Read before the chunks: a compaction committing in between then leaves its samples
        visible twice (harmless here), never nowhere."""
        from orchestrix.adapters.postgres import metric_head_columns  # numpy: reads only

        params = self._window(start_ms, end_ms)
        rows = conn.execute(hsql.SELECT_HEAD_PREFIX, params, binary=True).fetchall()
        found = metric_head_columns.fingerprints_in_window(
            [(int(seq), bytes(prefix)) for seq, prefix in rows], start_ms, end_ms
        )
        params["head_fps"] = sql.int8_array(found.tolist())
        return params

    def _candidates(
        self,
        conn: psycopg.Connection[Any],
        matchers: Sequence[LabelMatcher],
        start_ms: int,
        end_ms: int,
        *,
        exact: bool = False,
    ) -> tuple[list[Labels], list[int]]:
        """Label sets and fingerprints of the series the matchers select whose bounds meet
        the window, in label order; with `exact`, only those with a sample inside it (the
        listing calls; `select` reads the samples anyway)."""
        where, params = sql.pushdown(matchers)
        query = (
            "SELECT fingerprint FROM metric_series AS s WHERE tenant_id = %(tenant)s"
            " AND first_ts <= %(end)s AND last_ts >= %(start)s" + where
        )
        if exact:
            query += " AND " + sql.HAS_SAMPLE_IN_WINDOW
            params.update(self._head_window(conn, start_ms, end_ms))
        params.update(self._window(start_ms, end_ms))
        # One row of array_send elements: a row per series was most of this call's time.
        row = conn.execute(
            sql.FINGERPRINTS_AS_ONE_ARRAY.format(query=query), params, binary=True
        ).fetchone()
        found_fps = row[0] if row is not None and row[0] is not None else b""
        fingerprints = sql.unpack_int8_elements(found_fps)
        known = self._labels.get(self.tenant_id, fingerprints, conn)
        rest = [m for m in matchers if not sql.pushed_down_exactly(m)]
        kept = (
            [i for i, ls in enumerate(known) if matches_all(ls, rest)]
            if rest
            else range(len(known))
        )
        order = sorted(kept, key=known.__getitem__)
        return [known[i] for i in order], [fingerprints[i] for i in order]

    def select(self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int) -> list[Series]:
        return self.select_columns(matchers, start_ms, end_ms).series()

    def select_columns(
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> SeriesColumns:
        """`select` as columns (see promql/columns.py): what the engine reads."""
        from orchestrix.adapters.postgres import metric_columns  # numpy: reads only

        with self._conn() as conn:
            head = self._head_samples(conn, start_ms, end_ms)  # first: see _head_window
            labels, found_fps = self._candidates(conn, matchers, start_ms, end_ms)
            if not labels:
                return metric_columns.no_columns()
            fingerprints = metric_columns.fingerprints_of(found_fps)
            params = {
                "tenant": self.tenant_id,
                "fps": metric_columns.int8_array_of(fingerprints),
                "start": start_ms,
                "end": end_ms,
            }
            chunks = self._chunks(conn, params, start_ms, end_ms)
        found = metric_columns.columns(labels, fingerprints, chunks)
        if head is None:
            return found
        from orchestrix.adapters.postgres import metric_head_columns

        return metric_head_columns.merged(found, labels, fingerprints, head, start_ms, end_ms)

    def _chunks(
        self, conn: psycopg.Connection[Any], params: dict[str, Any], start_ms: int, end_ms: int
    ) -> metric_columns.Chunks:
        """The chunks' samples in [start, end]: SELECT_SAMPLES' estimated slices, and the
        chunks whose slice fell short read whole."""
        from orchestrix.adapters.postgres import metric_columns

        with conn.cursor(binary=True) as cur:
            sql.register_array_dumpers(cur.adapters)
            chunks = metric_columns.chunks_of(cur.execute(sql.SELECT_SAMPLES, params).fetchall())
            short = chunks.short(start_ms, end_ms)
            if short.any():
                firsts = chunks.first_ts[short]
                again = {
                    "tenant": self.tenant_id,
                    "fps": metric_columns.int8_array_of(chunks.fingerprints[short]),
                    "firsts": metric_columns.int8_array_of(firsts),
                    "from": int(firsts.min()),
                    "to": int(firsts.max()),
                }
                whole = cur.execute(sql.SELECT_WHOLE_CHUNKS, again).fetchall()
                chunks = chunks.without(short).plus(metric_columns.chunks_of(whole))
        return chunks.within(start_ms, end_ms)

    def _head_samples(
        self, conn: psycopg.Connection[Any], start_ms: int, end_ms: int
    ) -> HeadSamples | None:
        """The head rows overlapping [start, end], decoded; None if there are none."""
        from orchestrix.adapters.postgres import metric_head_columns  # numpy: reads only

        params = {"tenant": self.tenant_id, "start": start_ms, "end": end_ms}
        rows = conn.execute(hsql.SELECT_HEAD, params, binary=True).fetchall()
        if not rows:
            return None
        return metric_head_columns.decode([(int(seq), bytes(body)) for seq, body in rows])

    def series(
        self, selectors: Sequence[Sequence[LabelMatcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        """Label sets matching any of the selectors, in label order (`/api/v1/series`)."""
        found: set[Labels] = set()
        with self._conn() as conn:
            for matchers in selectors:
                found.update(self._candidates(conn, matchers, start_ms, end_ms, exact=True)[0])
        return sorted(found)

    def label_names(
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> list[str]:
        with self._conn() as conn:
            if not matchers:
                bounds = self._head_window(conn, start_ms, end_ms)
                return [str(r[0]) for r in conn.execute(sql.SELECT_LABEL_NAMES, bounds)]
            found, _ = self._candidates(conn, matchers, start_ms, end_ms, exact=True)
            names = {n for labels in found for n, _ in labels}
        return sorted(names)

    def label_values(
        self, name: str, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> list[str]:
        with self._conn() as conn:
            if not matchers:
                bounds = {**self._head_window(conn, start_ms, end_ms), "name": name}
                query = sql.SELECT_METRIC_NAMES if name == "__name__" else sql.SELECT_LABEL_VALUES
                return [str(r[0]) for r in conn.execute(query, bounds)]
            candidates, _ = self._candidates(conn, matchers, start_ms, end_ms, exact=True)
        values = {v for labels in candidates for n, v in labels if n == name}
        return sorted(values)

    def tsdb_stats(self, limit: int) -> TsdbStats:
        """`/api/v1/status/tsdb` over everything the tenant has stored."""
        params = {"tenant": self.tenant_id, "limit": limit}
        with self._conn() as conn:
            head = conn.execute(sql.TSDB_HEAD, params).fetchone()
            by_name = conn.execute(sql.TSDB_BY_METRIC_NAME, params).fetchall()
            by_label = conn.execute(sql.TSDB_VALUES_BY_LABEL, params).fetchall()
            by_pair = conn.execute(sql.TSDB_BY_LABEL_PAIR, params).fetchall()
        series, pairs, chunks, min_time, max_time = head or (0, 0, 0, None, None)

        def top(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
            return sorted(rows, key=lambda r: (-r[1], r[0]))[:limit]

        return TsdbStats(
            num_series=int(series),
            num_label_pairs=int(pairs),
            chunk_count=int(chunks),
            min_time_ms=None if min_time is None else int(min_time),
            max_time_ms=None if max_time is None else int(max_time),
            series_count_by_metric_name=[(str(n), int(c)) for n, c in by_name],
            label_value_count_by_label_name=top([(str(k), int(c)) for k, c, _ in by_label]),
            memory_in_bytes_by_label_name=top([(str(k), int(b)) for k, _, b in by_label]),
            series_count_by_label_value_pair=[(str(p), int(c)) for p, c in by_pair],
        )

    def metadata(self, family: str | None = None, limit: int = 10_000) -> list[MetricMetadata]:
        with self._conn() as conn:
            rows = conn.execute(
                sql.SELECT_METADATA, {"tenant": self.tenant_id, "family": family, "limit": limit}
            ).fetchall()
        return [MetricMetadata(str(f), str(t), str(h), str(u)) for f, t, h, u in rows]
