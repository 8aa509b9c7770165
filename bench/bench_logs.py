"""Logs: OTLP ingest against a bare COPY of the same rows, and search latency on a big table.

Runs an embedded PostgreSQL (pgserver) of its own, migrated from scratch. Ingest goes
through the real path minus HTTP: OTLP protobuf body -> decoder -> `PostgresLogStore` as
the application role (row-level security on). The reference writes the very same rows
with `COPY ... FROM STDIN` as the table owner (COPY is refused under row-level security),
into the same table with the same indexes, in the same run.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import psutil  # type: ignore[import-untyped]
import psycopg
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from bench.embedded import migrated_database, one_backend
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.logs.bodies import decode
from orchestrix.adapters.metrics.batch import fingerprint
from orchestrix.adapters.postgres.log_store import PostgresLogStore
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.logs import LogBatch, StreamBatch
from orchestrix.logql.model import LogSelector
from orchestrix.logql.parse import parse
from orchestrix.services.logs import LogService, MatrixResult

S = 1_000_000_000
TENANT = "bench"
SERVICES = 20
LINES_PER_REQUEST = 5_000
REQUESTS = 10
# The search table: LOGS_BENCH_LINES lines (default 10 M, built in a few minutes).
SEARCH_LINES = int(os.environ.get("LOGS_BENCH_LINES", "10000000"))
SEARCH_STREAMS = 100
REPEATS = 5

_INGEST = f"""
One request = an OTLP/HTTP protobuf `ExportLogsServiceRequest` of {LINES_PER_REQUEST:,} log
records ({SERVICES} services, ~90-byte lines with severity, trace/span ids and two
attributes) decoded, validated and written in one transaction by `PostgresLogStore` as the
application role (row-level security applies): stream upsert where needed, then one INSERT
of unnest()ed arrays into the day-partitioned table, which maintains its B-tree indexes,
the generated `tsvector` and its GIN index. The reference is `COPY log_entries FROM STDIN`
of exactly the rows the decoder produced, as the table owner, into the same table in the
same run. Median of {REQUESTS} requests after a warm-up. CPU per core = lines per
CPU-second of this process plus the PostgreSQL backend (read from /proc).
"""
_SEARCH = """
Search latency through `PostgresLogStore` / `LogService` (application role, row-level
security) on a table of {lines:,} lines in {streams} streams over 24 hours (one day
partition), median of {repeats} warm runs. No pg_trgm in the embedded PostgreSQL, so a
substring filter scans the lines of the selected streams and time range (Aurora has
pg_trgm: the migration adds a trigram index there). Table built in {build:.0f} s.
"""


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _otlp_body(start_ns: int) -> bytes:
    request = ExportLogsServiceRequest()
    per_service = LINES_PER_REQUEST // SERVICES
    for service in range(SERVICES):
        resource_logs = request.resource_logs.add()
        attrs = resource_logs.resource.attributes
        attrs.add(key="service.name").value.string_value = f"svc-{service}"
        attrs.add(key="deployment.environment").value.string_value = "prod"
        records = resource_logs.scope_logs.add().log_records
        for i in range(per_service):
            record = records.add(
                time_unix_nano=start_ns + i * 1_000_000 + service,
                severity_text="INFO" if i % 10 else "ERROR",
                severity_number=9 if i % 10 else 17,
                trace_id=(i * 7919 + service).to_bytes(16, "big"),
                span_id=(i + 1).to_bytes(8, "big"),
            )
            record.body.string_value = (
                f"GET /api/v1/orders/{i * 31 % 9973} status={200 if i % 10 else 503} "
                f"duration_ms={i % 977} user=u{i % 5003}"
            )
            record.attributes.add(key="http.method").value.string_value = "GET"
            record.attributes.add(key="retry").value.int_value = i % 3
    return bytes(request.SerializeToString())


def _decode(body: bytes, now_ns: int) -> LogBatch:
    return decode(
        "otlp",
        body,
        content_type="application/x-protobuf",
        content_encoding=None,
        bounds=(0, now_ns + 600 * S),
        now_ns=now_ns,
    )


def _copy(owner_dsn: str, tenant: str, batch: LogBatch) -> None:
    with psycopg.connect(owner_dsn) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY log_entries (tenant_id, ts, stream_id, line, metadata) FROM STDIN"
        ) as copy:
            for stream in batch.streams:
                for ts, line, metadata in zip(
                    stream.timestamps, stream.lines, stream.metadata, strict=True
                ):
                    copy.write_row((tenant, ts, stream.fingerprint, line, metadata))
        conn.commit()


def _ingest(owner_dsn: str, store: PostgresLogStore, backend: psutil.Process) -> list[str]:
    now = 1_800_000_000 * S
    bodies = [_otlp_body(now - (r + 1) * 60 * S) for r in range(REQUESTS + 1)]
    store.write(TENANT, _decode(bodies[0], now))  # warm-up: streams and partitions
    walls, cpus = [], []
    for body in bodies[1:]:
        wall, cpu, server = time.perf_counter(), time.process_time(), _cpu(backend)
        store.write(TENANT, _decode(body, now))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu + _cpu(backend) - server)
    batches = [_decode(body, now) for body in bodies[1:]]
    copies = []
    for index, batch in enumerate(batches):
        started = time.perf_counter()
        _copy(owner_dsn, f"copy-{index}", batch)
        copies.append(time.perf_counter() - started)
    ours, copied = (
        LINES_PER_REQUEST / statistics.median(walls),
        LINES_PER_REQUEST / statistics.median(copies),
    )
    per_core = LINES_PER_REQUEST * REQUESTS / sum(cpus)
    return [
        "| path | wall / request | lines/s (wall) | lines/s per core |",
        "|---|---:|---:|---:|",
        f"| OTLP protobuf → decoder → store (RLS) | {statistics.median(walls) * 1e3:.0f} ms "
        f"| {ours:,.0f} | {per_core:,.0f} |",
        f"| bare `COPY` of the same rows (owner) | {statistics.median(copies) * 1e3:.0f} ms "
        f"| {copied:,.0f} | — |",
        "",
        f"Ratio OTLP ingest / bare COPY (wall): **{ours / copied:.2f}**.",
    ]


def _fill(owner_dsn: str, store: PostgresLogStore, day_ns: int) -> float:
    """SEARCH_LINES lines in SEARCH_STREAMS streams over one day, written by SQL."""
    started = time.perf_counter()
    streams = LogBatch()
    for s in range(SEARCH_STREAMS):  # the streams through the store, the lines by SQL
        labels = (("app", f"app-{s}"), ("env", "prod"))
        stream = StreamBatch(labels, fingerprint(labels), [day_ns], ["first"], [None])
        streams.streams.append(stream)
    store.write("big", streams)
    ids = [s.fingerprint for s in streams.streams]
    step = 86_000 * S // SEARCH_LINES
    with psycopg.connect(owner_dsn) as conn:
        conn.execute(
            """
            INSERT INTO log_entries (tenant_id, ts, stream_id, line)
            SELECT 'big', %(day)s::bigint + i::bigint * %(step)s::bigint,
                   (%(ids)s::bigint[])[1 + i %% %(n)s],
                   'GET /api/v1/items/' || (i %% 9973) || ' status='
                   || (CASE WHEN i %% 97 = 0 THEN 503 ELSE 200 END)
                   || CASE WHEN i %% 1009 = 0 THEN ' upstream timeout' ELSE '' END
                   || ' user=' || substr(md5(i::text), 1, 8)
            FROM generate_series(1, %(lines)s) AS i
            """,
            {"day": day_ns, "step": step, "ids": ids, "n": len(ids), "lines": SEARCH_LINES},
        )
        # The lines bypassed the store: widen the streams' recorded time bounds to match.
        conn.execute(
            "UPDATE log_streams SET last_ts = %s WHERE tenant_id = 'big'", (day_ns + 86_400 * S,)
        )
        conn.execute("ANALYZE log_entries")
        conn.commit()
    return time.perf_counter() - started


def _median_ms(action: Callable[[], object]) -> float:
    action()  # warm
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e3


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a pipe ends a Markdown table cell, even in code


def _search(service: LogService, day_ns: int) -> list[str]:
    viewer = Principal("big", "bench", roles=frozenset({Role.VIEWER}))
    end = day_ns + 86_400 * S
    rows = [
        "| query | what it exercises | lines returned | median latency |",
        "|---|---|---:|---:|",
    ]
    for text, what, extra in (
        ('{app="app-7"}', "newest 100 lines of one stream (of 100)", None),
        ('{env="prod"} |= "upstream timeout"', "substring over all streams (1 in 1009)", None),
        ('{app="app-7"} |= "status=503"', "substring within one stream", None),
        ('{env="prod"} |~ "user=ab[0-9]"', "RE2 regex over all streams", None),
        ('{env="prod"}', "full-text `q=timeout` (tsvector GIN)", "timeout"),
    ):
        selector = parse(text)
        if extra:
            assert isinstance(selector, LogSelector)
            selector = LogSelector(selector.matchers, selector.filters, extra)
        found: list[int] = []

        def run(selector=selector, found=found) -> None:  # type: ignore[no-untyped-def]
            hits = service.search(viewer, selector, day_ns, end, limit=100)
            found[:] = [len(hits.records)]

        ms = _median_ms(run)
        rows.append(f"| `{_cell(text)}` | {what} | {found[0]} | {ms:.1f} ms |")
    metric = 'sum by (app) (count_over_time({env="prod"} |= "status=503" [5m]))'

    series: list[int] = []

    def count() -> None:
        found = service.query(viewer, metric, end - 3600 * S, end, step_ns=300 * S, limit=100,
                              direction="backward")  # fmt: skip
        assert isinstance(found, MatrixResult)
        series[:] = [sum(len(s.points) for s in found.series)]

    ms = _median_ms(count)
    rows.append(f"| `{_cell(metric)}` | 1 h range, 5 m steps | {series[0]} points | {ms:.1f} ms |")
    return rows


def run() -> str:
    with migrated_database() as dsn:
        database, backend = one_backend(dsn)
        store = PostgresLogStore(database)
        ingest = _ingest(dsn, store, backend)
        day = 1_700_006_400 * S  # 2023-11-15T00:00Z, a day of its own
        build = _fill(dsn, store, day)
        service = LogService(store, AdjustableClock(), retention_days=10_000)
        search = _search(service, day)
        database.close()
    return (
        "\n".join(
            [
                "## Logs: OTLP ingest vs bare COPY, and search latency",
                "",
                " ".join(_INGEST.split()),
                "",
                *ingest,
                "",
                " ".join(
                    _SEARCH.format(
                        lines=SEARCH_LINES, streams=SEARCH_STREAMS, repeats=REPEATS, build=build
                    ).split()
                ),
                "",
                *search,
            ]
        )
        + "\n"
    )


if __name__ == "__main__":
    print(run())
