"""SQL of the metrics head and its compaction (0015_metric_head.sql)."""

from __future__ import annotations

# Arbitrary, fixed: the first key of the per-tenant advisory lock a compaction holds (the
# second is the tenant's hashtext). A writer that does not get it leaves the compaction to
# the one that did and just appends.
COMPACTION_LOCK = 0x0C4E_1501

# One round trip: append the request (unless the same request is already there) and read
# what the head held before it, for the writer to decide whether it is time to compact.
# The outer query runs on the statement's snapshot, so it does not see the row it adds.
APPEND = """
WITH added AS (
  INSERT INTO metric_head (tenant_id, digest, min_ts, max_ts, series, samples, body)
  VALUES (%(tenant)s, %(digest)b, %(min)s, %(max)s, %(series)s, %(samples)s, %(body)b)
  ON CONFLICT (tenant_id, digest) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM added), count(*), coalesce(sum(h.samples), 0),
       coalesce(extract(epoch FROM now() - min(h.created_at)), 0)::float8
FROM metric_head AS h WHERE h.tenant_id = %(tenant)s
"""

# Reads: the head rows that may hold samples in [start, end], oldest write first. The whole
# body for samples; for the listing calls only its prefix up to the values.
SELECT_HEAD = """
SELECT seq, body FROM metric_head
WHERE tenant_id = %(tenant)s AND min_ts <= %(end)s AND max_ts >= %(start)s
ORDER BY seq
"""
SELECT_HEAD_PREFIX = """
SELECT seq, substring(body FROM 1 FOR 8 + 16 * series + 8 * samples) FROM metric_head
WHERE tenant_id = %(tenant)s AND min_ts <= %(end)s AND max_ts >= %(start)s
ORDER BY seq
"""

# -- compaction -----------------------------------------------------------------------------
TRY_LOCK = "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))"
HEAD_DAYS = """
SELECT DISTINCT min_ts / 86400000, max_ts / 86400000 FROM metric_head WHERE tenant_id = %s
"""
# Oldest writes first, and not all of a huge head at once (what one run holds in memory):
# rows while the samples before them stay under the budget, so at least one; the rest waits
# for the next run (compacting oldest first keeps "the newer write wins" true across runs).
SELECT_HEAD_FOR_COMPACTION = """
SELECT h.digest, h.seq, h.body FROM metric_head AS h
WHERE h.tenant_id = %(tenant)s AND h.digest IN (
  SELECT r.digest FROM (
    SELECT digest, sum(samples) OVER (ORDER BY seq) - samples AS before
    FROM metric_head WHERE tenant_id = %(tenant)s
  ) AS r
  WHERE r.before < %(budget)s)
ORDER BY h.seq
"""
DELETE_HEAD = "DELETE FROM metric_head WHERE tenant_id = %(tenant)s AND digest = ANY(%(digests)s)"
SELECT_STATE = "SELECT chunks_max_ts, open_windows FROM metric_compaction WHERE tenant_id = %s"
# A tenant compacting for the first time may have chunks written before the head existed:
# the newest of those that could overlap (chunks never cross midnight) stands in.
NEWEST_CHUNK_FROM = """
SELECT max(last_ts) FROM metric_samples WHERE tenant_id = %(tenant)s AND first_ts >= %(from)s
"""
SAVE_STATE = """
INSERT INTO metric_compaction (tenant_id, chunks_max_ts, open_windows)
VALUES (%(tenant)s, %(max_ts)s, %(windows)s)
ON CONFLICT (tenant_id) DO UPDATE
SET chunks_max_ts = excluded.chunks_max_ts, open_windows = excluded.open_windows
"""

# The stored chunks overlapping the new ones (series, [first, last]), as one row: each
# chunk's series, first instant and size as array_send elements, and all their samples'
# bytes (the aggregates see the rows in one order): they are merged with the head and
# rewritten. Chunks never cross midnight, so an overlapping chunk starts on the day of
# `first`.
_CHUNKS_AS_ONE_ROW = """
SELECT substring(array_send(array_agg(c.fingerprint)) FROM 21),
       substring(array_send(array_agg(c.first_ts)) FROM 21),
       substring(array_send(array_agg(length(c.ts) / 8)) FROM 21),
       string_agg(c.ts, ''::bytea),
       string_agg(c.vals, ''::bytea)
FROM ({chunks}) AS c
"""
OVERLAPPING_CHUNKS = _CHUNKS_AS_ONE_ROW.format(
    chunks="""
SELECT c.fingerprint, c.first_ts, c.ts, c.vals
FROM unnest(%(fps)s::bigint[], %(firsts)s::bigint[], %(lasts)s::bigint[]) AS u(fp, lo, hi)
JOIN metric_samples AS c
  ON c.tenant_id = %(tenant)s AND c.fingerprint = u.fp
 AND c.first_ts BETWEEN u.lo - u.lo %% 86400000 AND u.hi AND c.last_ts >= u.lo
WHERE c.first_ts BETWEEN %(from)s AND %(to)s  -- constant bounds prune partitions
"""
)
# The small chunks starting in an hour window merged into one per series, server-side
# (never past midnight: each chunk ends on the day it starts). Compaction's
# chunks of one series never overlap, so concatenating their bytes in time order keeps the
# samples sorted and unique (no sort, no round trip of the samples). Only series whose chunks there
# hold fewer than `small` samples on average (SMALL_CHUNK_SAMPLES): a read pays ~1.5 us per
# chunk row and ~0.2 us per sample (docs/benchmarks.md), so merging larger chunks would
# cost the writer more than it saves readers. Series whose chunks there overlap (written
# before the head existed) are left as they are: reads take one value per instant anyway.
# The DELETE's rows are invisible to the INSERT's unique check (deleted by this very
# statement), so the merged chunk may reuse the first one's key.
MERGE_WINDOW = """
WITH gone AS (
  DELETE FROM metric_samples AS c
  WHERE c.tenant_id = %(tenant)s AND c.first_ts >= %(start)s AND c.first_ts < %(end)s
    AND c.fingerprint IN (
      SELECT o.fingerprint FROM (
        SELECT fingerprint, first_ts, length(ts) / 8 AS samples,
               lag(last_ts) OVER (PARTITION BY fingerprint ORDER BY first_ts) AS previous
        FROM metric_samples
        WHERE tenant_id = %(tenant)s AND first_ts >= %(start)s AND first_ts < %(end)s
      ) AS o
      GROUP BY o.fingerprint
      HAVING count(*) > 1 AND sum(o.samples) < %(small)s * count(*)
         AND bool_and(o.previous IS NULL OR o.previous < o.first_ts))
  RETURNING c.fingerprint, c.first_ts, c.last_ts, c.ts, c.vals
)
INSERT INTO metric_samples (tenant_id, fingerprint, first_ts, last_ts, ts, vals)
SELECT %(tenant)s, g.fingerprint, min(g.first_ts), max(g.last_ts),
       string_agg(g.ts, ''::bytea ORDER BY g.first_ts),
       string_agg(g.vals, ''::bytea ORDER BY g.first_ts)
FROM gone AS g
GROUP BY g.fingerprint
"""
DELETE_CHUNKS = """
DELETE FROM metric_samples AS c
USING unnest(%(fps)s::bigint[], %(firsts)s::bigint[]) AS u(fp, first_ts)
WHERE c.tenant_id = %(tenant)s AND c.fingerprint = u.fp AND c.first_ts = u.first_ts
  AND c.first_ts BETWEEN %(from)s AND %(to)s
"""
HEADS_OLDER_THAN = "SELECT orchestrix_metric_heads_older_than(%s)"
