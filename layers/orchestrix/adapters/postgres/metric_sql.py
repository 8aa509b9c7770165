"""SQL and byte-level helpers of the PostgreSQL metric store.

Two things live here so that `metric_store.py` reads as the store's logic only:
- `int8_array`: a bigint[] parameter in binary form, built with C-speed strided byte copies
  instead of a Python call per element (Int8Array and its siblings are the parameter types
  whose bytes are sent as they are);
- `pushdown`: the subset of PromQL label matchers SQL can answer with an index, as a
  superset filter (the store still checks every matcher exactly in Python).
The head and compaction have their own SQL in metric_head_sql.py.
"""

from __future__ import annotations

import json
import re
import struct
import sys
from array import array
from collections.abc import Sequence
from typing import Any

from psycopg.abc import Buffer
from psycopg.adapt import AdaptersMap, Dumper
from psycopg.pq import Format

from orchestrix.promql.storage import LabelMatcher, MatchOp, regex_shape

DAY_MS = 86_400_000
# Writers store metric_series' bounds widened to whole hours (metric_series_cache.py). Rows
# written before that moved last_ts forward only once a batch was this far past it, so
# reads still look this much before a window for a series' last sample (0002_metrics.sql).
SERIES_TOUCH_MS = 3_600_000

_FIELD8 = struct.pack(">i", 8)
_FIELD4 = struct.pack(">i", 4)

SET_TENANT = "SELECT set_config('app.tenant_id', %s, true)"
# A metric write commits without waiting for its WAL flush (PostgreSQL's asynchronous commit:
# a crash of the database can lose the last fraction of a second of acknowledged writes,
# never corrupt or half-apply one). That is the durability Prometheus itself gives samples
# (its write-ahead log is not fsynced per request), and the flush wait was most of a small
# remote write's latency. Everything else in the database keeps synchronous commits.
SET_TENANT_FOR_WRITE = (
    "SELECT set_config('app.tenant_id', %s, true), set_config('synchronous_commit', 'off', true)"
)
# A read plans every statement for its own parameters. The best plan for SELECT_SAMPLES
# depends on how many series it asks for (ten: index probes; ten thousand: one pass over
# the partition), and a cached generic plan, which psycopg's prepared statements get after
# a few runs, would assume a handful forever. Planning costs well under a millisecond.
SET_TENANT_FOR_READ = (
    "SELECT set_config('app.tenant_id', %s, true),"
    " set_config('plan_cache_mode', 'force_custom_plan', true)"
)
ENSURE_TENANT = "INSERT INTO tenants (id) VALUES (%s) ON CONFLICT DO NOTHING"
ENSURE_PARTITIONS = "SELECT orchestrix_ensure_sample_partitions(%s, %s)"
DROP_PARTITIONS = "SELECT orchestrix_drop_sample_partitions(%s)"

# Compaction's chunk rows. COPY FROM is refused on tables with row-level security, so
# samples travel as two byte parameters, every timestamp and every value (big-endian, eight
# bytes each: the chunk format, 0017_metric_chunk_bytes.sql), plus per chunk its series,
# first and last instant and the 0-based [lo, hi) bounds of its samples. Each chunk row is
# cut out of the two big parameters server-side. A plain INSERT: compaction has merged the
# chunks its rows overlap (ON CONFLICT would make each row a speculative insertion, an extra
# index probe and a second pass over the heap tuple).
INSERT_CHUNKS = """
INSERT INTO metric_samples (tenant_id, fingerprint, first_ts, last_ts, ts, vals)
SELECT %(tenant)s, u.fp, u.first, u.last,
       substring(a.t FROM u.lo * 8 + 1 FOR (u.hi - u.lo) * 8),
       substring(a.v FROM u.lo * 8 + 1 FOR (u.hi - u.lo) * 8)
FROM (SELECT %(ts)s::bytea AS t, %(values)s::bytea AS v) AS a,
     unnest(%(fps)s::bigint[], %(firsts)s::bigint[], %(lasts)s::bigint[], %(lo)s::int[],
            %(hi)s::int[]) AS u(fp, first, last, lo, hi)
"""
UPSERT_SERIES = """
INSERT INTO metric_series (tenant_id, fingerprint, metric_name, labels, first_ts, last_ts)
SELECT %(tenant)s, u.fp, u.name, u.labels::jsonb, %(first)s, %(last)s
FROM unnest(%(fps)s::bigint[], %(names)s::text[], %(labels)s::text[]) AS u(fp, name, labels)
ON CONFLICT (tenant_id, fingerprint) DO UPDATE
SET first_ts = least(metric_series.first_ts, excluded.first_ts),
    last_ts = greatest(metric_series.last_ts, excluded.last_ts)
WHERE excluded.first_ts < metric_series.first_ts OR excluded.last_ts > metric_series.last_ts
"""
UPSERT_METADATA = """
INSERT INTO metric_metadata (tenant_id, family, type, help, unit)
SELECT %(tenant)s, u.family, u.type, u.help, u.unit
FROM unnest(%(families)s::text[], %(types)s::text[], %(helps)s::text[], %(units)s::text[])
     AS u(family, type, help, unit)
ON CONFLICT (tenant_id, family) DO UPDATE
SET type = excluded.type, help = excluded.help, unit = excluded.unit, updated_at = now()
WHERE (metric_metadata.type, metric_metadata.help, metric_metadata.unit)
      IS DISTINCT FROM (excluded.type, excluded.help, excluded.unit)
"""
# A series "has a sample in [start, end]" (Prometheus' rule for /series, /labels and label
# values). metric_series' bounds are only a superset, so the head and the chunks decide:
# `head_fps` are the series with a head sample inside the window (the reader decodes the
# head rows overlapping it); of the chunks, one starting or ending inside the window holds
# a sample there; only a chunk straddling the whole window (a window shorter than the
# chunk) has its timestamps looked at, by a binary search (orchestrix_chunk_has_sample).
# `s` is the metric_series row.
HAS_SAMPLE_IN_WINDOW = """
(s.fingerprint IN (SELECT unnest(%(head_fps)s::bigint[])) OR EXISTS (
  SELECT 1 FROM metric_samples AS c
  WHERE c.tenant_id = s.tenant_id AND c.fingerprint = s.fingerprint
    AND c.first_ts BETWEEN %(sample_start)s - 86400000 AND %(sample_end)s
    AND c.last_ts >= %(sample_start)s
    AND (c.first_ts >= %(sample_start)s OR c.last_ts <= %(sample_end)s
         OR orchestrix_chunk_has_sample(c.ts, %(sample_start)s, %(sample_end)s))
))"""

# Samples come back as one row per chunk: its series, first timestamp, number of samples,
# and a slice of its samples covering [start, end] as raw bytes (0017_metric_chunk_bytes.sql)
# with the index `lo` it starts at. A chunk inside the window is sent whole; for one cut by
# the window the slice is estimated from its first and last timestamp (samples evenly
# spaced, which scraped series are) and widened by a margin, and `substring` then fetches
# only that part of the out-of-line value. The client checks every estimate against the
# timestamps it got (metric_columns.chunks_of) and asks again, for the whole chunk, where
# one fell short (a gap in the series), so the estimate only decides what is read, never
# what is answered. One row per chunk: aggregating them into one row (array_agg,
# string_agg) cost the server more than the rows cost the client. The series filter is a
# hashed semi-join (a plain `= ANY(array)` scans the array per row). Chunks never cross
# midnight, so `first_ts >= start - 1 day` prunes partitions and rows. `OFFSET 0` keeps
# the bounds from being computed once per reference.
SELECT_SAMPLES = """
SELECT c.fingerprint, c.first_ts, w.n, w.lo,
       CASE WHEN w.lo = 0 AND w.hi = w.n THEN c.ts
            ELSE substring(c.ts FROM w.lo * 8 + 1 FOR (w.hi - w.lo) * 8) END,
       CASE WHEN w.lo = 0 AND w.hi = w.n THEN c.vals
            ELSE substring(c.vals FROM w.lo * 8 + 1 FOR (w.hi - w.lo) * 8) END
FROM metric_samples AS c,
     LATERAL (
       SELECT e.n,
              CASE WHEN c.first_ts >= %(start)s OR e.n < 2 THEN 0
                   ELSE greatest(0, floor((%(start)s - c.first_ts) * e.per_ms)::int - e.margin)
              END AS lo,
              CASE WHEN c.last_ts <= %(end)s OR e.n < 2 THEN e.n
                   ELSE least(e.n, ceil((%(end)s - c.first_ts) * e.per_ms)::int + 1 + e.margin)
              END AS hi
       FROM (SELECT length(c.ts) / 8 AS n,
                    (length(c.ts) / 8 - 1)::float8 / greatest(c.last_ts - c.first_ts, 1)
                      AS per_ms,
                    2 + length(c.ts) / 64 AS margin
             OFFSET 0) AS e
     ) AS w
WHERE c.tenant_id = %(tenant)s
  AND c.fingerprint = ANY(%(fps)s)  -- the planner sees how many (SET_TENANT_FOR_READ)
  AND c.first_ts BETWEEN %(start)s - 86400000 AND %(end)s AND c.last_ts >= %(start)s
"""
# Whole chunks, by series and first timestamp: where SELECT_SAMPLES' estimate fell short.
SELECT_WHOLE_CHUNKS = """
SELECT c.fingerprint, c.first_ts, length(c.ts) / 8, 0, c.ts, c.vals
FROM metric_samples AS c
JOIN unnest(%(fps)s::bigint[], %(firsts)s::bigint[]) AS u(fp, first_ts)
  ON c.tenant_id = %(tenant)s AND c.fingerprint = u.fp AND c.first_ts = u.first_ts
WHERE c.first_ts BETWEEN %(from)s AND %(to)s  -- constant bounds prune partitions
"""
# The fingerprints a query selects as the elements of one array_send (header cut off).
FINGERPRINTS_AS_ONE_ARRAY = (
    "SELECT substring(array_send(array_agg(q.fingerprint)) FROM 21) FROM ({query}) AS q"
)
SELECT_SERIES_LABELS = """
SELECT fingerprint, labels FROM metric_series
WHERE tenant_id = %(tenant)s AND fingerprint IN (SELECT unnest(%(fps)s::bigint[]))
"""
SELECT_METADATA = """
SELECT family, type, help, unit FROM metric_metadata
WHERE tenant_id = %(tenant)s AND (%(family)s::text IS NULL OR family = %(family)s)
ORDER BY family
LIMIT %(limit)s
"""
# The listing calls without match[]: the series bounds prefilter, the chunks decide.
SELECT_LABEL_NAMES = f"""
SELECT DISTINCT k FROM metric_series AS s, jsonb_object_keys(s.labels) AS k
WHERE s.tenant_id = %(tenant)s AND s.first_ts <= %(end)s AND s.last_ts >= %(start)s
  AND {HAS_SAMPLE_IN_WINDOW}
ORDER BY k
"""
SELECT_METRIC_NAMES = f"""
SELECT DISTINCT s.metric_name FROM metric_series AS s
WHERE s.tenant_id = %(tenant)s AND s.first_ts <= %(end)s AND s.last_ts >= %(start)s
  AND {HAS_SAMPLE_IN_WINDOW}
ORDER BY s.metric_name
"""
SELECT_LABEL_VALUES = f"""
SELECT DISTINCT s.labels ->> %(name)s AS v FROM metric_series AS s
WHERE s.tenant_id = %(tenant)s AND s.first_ts <= %(end)s AND s.last_ts >= %(start)s
  AND s.labels ? %(name)s AND {HAS_SAMPLE_IN_WINDOW}
ORDER BY v
"""


class Int8Array(bytes):
    """A `bigint[]` already in PostgreSQL's binary array format."""


class Int4Array(bytes):
    """An `integer[]` already in PostgreSQL's binary array format."""


class Float8Array(bytes):
    """A `double precision[]` already in PostgreSQL's binary array format."""


class _RawArrayDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Buffer) -> Buffer:
        return obj


class _Int8ArrayDumper(_RawArrayDumper):
    oid = 1016  # int8[]


class _Int4ArrayDumper(_RawArrayDumper):
    oid = 1007  # int4[]


class _Float8ArrayDumper(_RawArrayDumper):
    oid = 1022  # float8[]


def register_array_dumpers(adapters: AdaptersMap) -> None:
    adapters.register_dumper(Int8Array, _Int8ArrayDumper)
    adapters.register_dumper(Int4Array, _Int4ArrayDumper)
    adapters.register_dumper(Float8Array, _Float8ArrayDumper)


def _binary_array(column: array[Any], element_oid: int) -> bytes:
    """`array_send` format of a one-dimensional array without NULLs.

    Every element is `int32 length (8) + 8 bytes`, so the buffer starts as that template
    repeated and the values are written byte-plane by byte-plane with extended-slice
    assignment: eight C-level copies for the whole column instead of a Python call per
    element.
    """
    count = len(column)
    if sys.byteorder == "little":
        column.byteswap()  # the wire format is big-endian
    raw = column.tobytes()
    buf = bytearray((_FIELD8 + bytes(8)) * count)
    for plane in range(8):
        buf[4 + plane :: 12] = raw[plane::8]
    return struct.pack(">iiiii", 1, 0, element_oid, count, 1) + bytes(buf)


def int8_array(values: Sequence[int] | array[int]) -> Int8Array:
    return Int8Array(_binary_array(array("q", values), 20))


# A regex made only of literal alternatives ("GET|POST", "node") can become an equality.
_LITERAL_ALTERNATIVES = re.compile(r"[^\\.^$*+?()\[\]{}|]+(?:\|[^\\.^$*+?()\[\]{}|]+)*\Z")


def _literals(matcher: LabelMatcher) -> list[str] | None:
    """The values an `=` or `=~` matcher accepts, if they are a short list of non-empty ones."""
    if matcher.op is MatchOp.EQUAL:
        return [matcher.value] if matcher.value else None
    if matcher.op is MatchOp.REGEX and _LITERAL_ALTERNATIVES.match(matcher.value):
        options = matcher.value.split("|")
        return options if len(options) <= 100 else None
    return None


def _like(matcher: LabelMatcher) -> str | None:
    """A LIKE pattern equal to a `=~` matcher of the shape lit.*, .*lit or .*lit.* (a
    non-empty literal, so that it never matches the empty value of an absent label)."""
    shape = regex_shape(matcher.value) if matcher.op is MatchOp.REGEX else None
    if shape is None or not shape[1] or not (shape[0] or shape[2]):
        return None
    lead, literal, tail = shape
    escaped = literal.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("%" if lead else "") + escaped + ("%" if tail else "")


def pushed_down_exactly(matcher: LabelMatcher) -> bool:
    """True if `pushdown`'s condition for this matcher selects exactly what it matches (a
    list of non-empty literals is an equality test; RE2 anchors the alternatives; LIKE is
    a literal test anchored at both ends)."""
    return _literals(matcher) is not None or _like(matcher) is not None


def pushdown(matchers: Sequence[LabelMatcher]) -> tuple[str, dict[str, Any]]:
    """SQL conditions on metric_series implied by the matchers, and their parameters.

    Only matchers that require a label to hold one of a few non-empty values are pushed
    down: they map to the metric-name index or to `labels @> ...` on the GIN index; prefix,
    suffix and substring regexes become LIKE tests that spare reading the labels. The
    result selects a superset of the matching series; regexes with real syntax, negations
    and empty-value matchers are left to the exact check in Python, since PostgreSQL's
    regex dialect is not RE2 and a mistranslation would silently drop series.
    """
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for index, matcher in enumerate(matchers):
        key = f"m{index}"
        like = _like(matcher)
        if like is not None:
            params[key], params[f"{key}_name"] = like, matcher.name
            if matcher.name == "__name__":
                conditions.append(f"metric_name LIKE %({key})s")
            else:
                conditions.append(f"labels ->> %({key}_name)s LIKE %({key})s")
            continue
        options = _literals(matcher)
        if options is None:
            continue
        if matcher.name == "__name__":
            conditions.append(f"metric_name = ANY(%({key})s)")
            params[key] = options
            continue
        alternatives = []
        for position, option in enumerate(options):
            params[f"{key}_{position}"] = json.dumps({matcher.name: option})
            alternatives.append(f"labels @> %({key}_{position})s::jsonb")
        conditions.append("(" + " OR ".join(alternatives) + ")")
    return "".join(f" AND {c}" for c in conditions), params


# `/api/v1/status/tsdb`: counts over the tenant's series (row-level security applies too).
TSDB_HEAD = """
SELECT (SELECT count(*) FROM metric_series WHERE tenant_id = %(tenant)s),
       (SELECT count(*) FROM (SELECT DISTINCT e.key, e.value
                              FROM metric_series, jsonb_each_text(labels) AS e
                              WHERE tenant_id = %(tenant)s) AS pairs),
       c.n + h.n, least(c.lo, h.lo), greatest(c.hi, h.hi)
FROM (SELECT count(*) AS n, min(first_ts) AS lo, max(last_ts) AS hi
      FROM metric_samples WHERE tenant_id = %(tenant)s) AS c,
     (SELECT count(*) AS n, min(min_ts) AS lo, max(max_ts) AS hi  -- not compacted yet
      FROM metric_head WHERE tenant_id = %(tenant)s) AS h
"""
TSDB_BY_METRIC_NAME = """
SELECT metric_name, count(*) AS n FROM metric_series WHERE tenant_id = %(tenant)s
GROUP BY metric_name ORDER BY n DESC, metric_name LIMIT %(limit)s
"""
TSDB_VALUES_BY_LABEL = """
SELECT p.key, count(*), sum(length(p.value))
FROM (SELECT DISTINCT e.key, e.value FROM metric_series, jsonb_each_text(labels) AS e
      WHERE tenant_id = %(tenant)s) AS p
GROUP BY p.key
"""
TSDB_BY_LABEL_PAIR = """
SELECT e.key || '=' || e.value, count(*) AS n
FROM metric_series, jsonb_each_text(labels) AS e WHERE tenant_id = %(tenant)s
GROUP BY e.key, e.value ORDER BY n DESC, e.key, e.value LIMIT %(limit)s
"""


def unpack_int8_elements(elements: bytes) -> list[int]:
    """array_send elements of a bigint[] (header cut off): per element its length (8) and
    its 8 bytes, big-endian."""
    return [value for (value,) in struct.iter_unpack(">xxxxq", elements)]
