"""SQL of the PostgreSQL trace store (see 0012_traces.sql for the tables)."""

from __future__ import annotations

DAY_NS = 86_400_000_000_000
CALLEE_KINDS = (2, 5)  # SERVER, CONSUMER
CALLER_KINDS = (3, 4)  # CLIENT, PRODUCER
ERROR = 2

SET_TENANT = "SELECT set_config('app.tenant_id', %s, true)"
ENSURE_TENANT = "INSERT INTO tenants (id) VALUES (%s) ON CONFLICT DO NOTHING"
ENSURE_PARTITIONS = "SELECT orchestrix_ensure_span_partitions(%s, %s)"
DROP_PARTITIONS = "SELECT orchestrix_drop_span_partitions(%s)"

SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, start_ns, duration_ns, service, name, kind, "
    "status_code, status_message, trace_state, scope, resource, attributes, events, links"
)

# COPY FROM is refused under row-level security: the batch travels as one array per column,
# in binary (%b): text arrays of strings cost a regex escape per element in the client.
# A span already stored (an exporter's retry) is skipped; RETURNING names the new ones.
INSERT_SPANS = f"""
INSERT INTO trace_spans (tenant_id, {SPAN_COLUMNS})
SELECT %(tenant)s, u.*
FROM unnest(
    %(trace_ids)b::bytea[], %(span_ids)b::bytea[], %(parents)b::bytea[],
    %(starts)b::bigint[], %(durations)b::bigint[], %(services)b::text[], %(names)b::text[],
    %(kinds)b::int2[], %(codes)b::int2[], %(messages)b::text[], %(states)b::text[],
    %(scopes)b::text[]::jsonb[], %(resources)b::text[]::jsonb[],
    %(attributes)b::text[]::jsonb[], %(events)b::text[]::jsonb[], %(links)b::text[]::jsonb[]
) AS u
ON CONFLICT DO NOTHING
RETURNING trace_id, span_id, start_ns
"""

# Calls completed by this write: a new callee whose caller parent is stored (in this write
# or before), and a new caller whose callee child was stored before this write. Driven by
# the new spans' primary keys, so its cost follows the batch, not the table.
NEW_CALLS = f"""
WITH new(trace_id, span_id) AS (
    SELECT * FROM unnest(%(trace_ids)b::bytea[], %(span_ids)b::bytea[])
)
SELECT c.service, s.service, (c.status_code = {ERROR} OR s.status_code = {ERROR}),
       s.duration_ns, c.duration_ns
FROM new n
JOIN trace_spans s ON s.tenant_id = %(tenant)s AND s.trace_id = n.trace_id
                  AND s.span_id = n.span_id
JOIN trace_spans c ON c.tenant_id = %(tenant)s AND c.trace_id = s.trace_id
                  AND c.span_id = s.parent_span_id
WHERE s.kind IN {CALLEE_KINDS} AND c.kind IN {CALLER_KINDS}
UNION ALL
SELECT c.service, s.service, (c.status_code = {ERROR} OR s.status_code = {ERROR}),
       s.duration_ns, c.duration_ns
FROM new n
JOIN trace_spans c ON c.tenant_id = %(tenant)s AND c.trace_id = n.trace_id
                  AND c.span_id = n.span_id
JOIN trace_spans s ON s.tenant_id = %(tenant)s AND s.trace_id = c.trace_id
                  AND s.parent_span_id = c.span_id
WHERE c.kind IN {CALLER_KINDS} AND s.kind IN {CALLEE_KINDS}
  AND (s.trace_id, s.span_id) NOT IN (SELECT trace_id, span_id FROM new)
"""

# Rows in fingerprint order, so that two writers lock shared counters in the same order.
# The timestamp moves past the previous one even if this writer's clock lags another's.
ADD_COUNTERS = """
INSERT INTO span_metric_counters AS c (tenant_id, fingerprint, value, updated_ms)
SELECT %(tenant)s, u.fp, u.inc, %(now)s
FROM unnest(%(fps)b::bigint[], %(incs)b::float8[]) AS u(fp, inc)
ORDER BY u.fp
ON CONFLICT (tenant_id, fingerprint) DO UPDATE
    SET value = c.value + excluded.value,
        updated_ms = greatest(c.updated_ms + 1, excluded.updated_ms)
RETURNING fingerprint, value, updated_ms, (xmax = 0) AS inserted
"""

TRACE = f"""
SELECT {SPAN_COLUMNS} FROM trace_spans
WHERE tenant_id = %(tenant)s AND trace_id = %(trace_id)s
ORDER BY start_ns, span_id
LIMIT %(limit)s
"""

# One row per trace with a span matching every condition, keyed by its first matching span.
SEARCH = """
SELECT trace_id, min(start_ns) AS first_ns,
       (array_agg(span_id ORDER BY start_ns, span_id))[1:%(per_trace)s] AS matched
FROM trace_spans
WHERE tenant_id = %(tenant)s AND start_ns >= %(start)s AND start_ns < %(end)s
  AND (%(service)s::text IS NULL OR service = %(service)s)
  AND (%(operation)s::text IS NULL OR name = %(operation)s)
  AND (%(min_ns)s::bigint IS NULL OR duration_ns >= %(min_ns)s)
  AND (%(max_ns)s::bigint IS NULL OR duration_ns <= %(max_ns)s)
  AND (%(status)s::int2 IS NULL OR status_code = %(status)s)
GROUP BY trace_id
HAVING %(after_ns)s::bigint IS NULL
    OR (min(start_ns), trace_id) < (%(after_ns)s::bigint, %(after_id)s::bytea)
ORDER BY first_ns DESC, trace_id DESC
LIMIT %(limit)s
"""

# The root is the span without a parent (else the earliest one).
TRACE_SUMMARIES = """
SELECT trace_id, min(start_ns), max(start_ns + duration_ns), count(*),
       (array_agg(service ORDER BY parent_span_id IS NOT NULL, start_ns))[1],
       (array_agg(name ORDER BY parent_span_id IS NOT NULL, start_ns))[1]
FROM trace_spans
WHERE tenant_id = %(tenant)s AND trace_id = ANY(%(trace_ids)s::bytea[])
GROUP BY trace_id
"""

SPANS_BY_KEY = f"""
SELECT {SPAN_COLUMNS} FROM trace_spans
WHERE tenant_id = %(tenant)s
  AND (trace_id, span_id) IN (SELECT * FROM unnest(%(trace_ids)b::bytea[], %(span_ids)b::bytea[]))
"""

SERVICE_EDGES = f"""
SELECT c.service, s.service, count(*),
       count(*) FILTER (WHERE c.status_code = {ERROR} OR s.status_code = {ERROR}),
       avg(s.duration_ns) / 1e6,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.duration_ns) / 1e6,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_ns) / 1e6
FROM trace_spans s
JOIN trace_spans c ON c.tenant_id = s.tenant_id AND c.trace_id = s.trace_id
                  AND c.span_id = s.parent_span_id
WHERE s.tenant_id = %(tenant)s AND s.start_ns >= %(start)s AND s.start_ns < %(end)s
  AND s.kind IN {CALLEE_KINDS} AND c.kind IN {CALLER_KINDS}
GROUP BY 1, 2
ORDER BY 1, 2
"""

TAG_VALUES = """
SELECT DISTINCT {column} FROM trace_spans
WHERE tenant_id = %(tenant)s AND start_ns >= %(start)s AND start_ns < %(end)s
ORDER BY 1
LIMIT %(limit)s
"""
