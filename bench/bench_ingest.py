"""End-to-end metrics ingest: remote write body -> decoded batch -> PostgreSQL, against
Prometheus receiving the same bodies in the same run; then reading an hour of what was
written, against the layout writes had before the head (one chunk row per series per
request).

Runs an embedded PostgreSQL (pgserver) of its own, migrated from scratch, and writes
through `PostgresMetricStore` as the application role, row-level security included.
"""

from __future__ import annotations

import http.client
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil  # type: ignore[import-untyped]
import psycopg

from bench.embedded import migrated_database, one_backend
from orchestrix.adapters.metrics import RemoteWriteDecoder, encode_write_request
from orchestrix.adapters.metrics.batch import DecodedBatch
from orchestrix.adapters.postgres import metric_sql as sql
from orchestrix.adapters.postgres.metric_store import PostgresMetricStore
from orchestrix.promql import Engine
from orchestrix.promql.storage import LabelMatcher

T0 = 1_790_000_000_000 - 1_790_000_000_000 % 3_600_000  # an hour boundary
SCRAPE_MS = 15_000
TENANT = "bench"
LEGACY_TENANT = "bench-legacy"
HOUR_MS = 3_600_000
READ_QUERY = "sum by (mode) (rate(node_metric_1[5m]))"

_DESCRIPTION = """
One request = decode a snappy remote write 1.0 body (warm series cache) and store it: one
transaction appending the request as one row to the tenant's head (series upsert where
needed), committed asynchronously (synchronous_commit off for that transaction:
Prometheus' own durability, see README). Each request carries the next scrape's timestamps
(15 s apart: steady state, series known, samples new). Once the head holds 200,000 samples
(or 500 requests, or 5 minutes), the request that notices compacts it before answering:
the head's rows become one chunk per series (an hour's chunks merged into one once it is
over, where they average under 60 samples), which that request's sender waits for.
Hence two figures: the median request (what a sender usually waits) and the sustained rate
over all requests, compactions included. CPU: this process (decode + SQL client) and the
PostgreSQL backend serving it (read from /proc, 10 ms resolution, so summed over the run).
"""


def _body(series: int, samples: int, round_: int) -> bytes:
    start = T0 + round_ * samples * SCRAPE_MS
    return encode_write_request(
        (
            {
                "__name__": f"node_metric_{i % 300}",
                "instance": f"10.0.{i % 50}.{i % 200}:9100",
                "job": "node",
                "cpu": str(i % 16),
                "mode": ("user", "system", "idle", "iowait")[i % 4],
                "series": str(i),
            },
            [(start + j * SCRAPE_MS, i * 0.25 + j + round_) for j in range(samples)],
        )
        for i in range(series)
    )


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


@dataclass(frozen=True)
class _Run:
    series: int
    samples: int
    walls: list[float]  # per request, s
    cpus: list[float]
    server_cpus: list[float]
    compactions: list[int]  # indices of the requests that compacted
    compacted_samples: int

    @property
    def per_request(self) -> int:
        return self.series * self.samples


def _write_all(
    store: PostgresMetricStore,
    backend: psutil.Process,
    tenant: str,
    bodies: Sequence[bytes],
    series: int,
) -> _Run:
    """Every body but the first (the warm-up: series and partitions) measured."""
    decoder = RemoteWriteDecoder()
    store.write(tenant, decoder.decode(bodies[0]))
    bodies = bodies[1:]
    walls, cpus, server_cpus, compactions, moved = [], [], [], [], 0
    for index, body in enumerate(bodies):
        wall, cpu, server = time.perf_counter(), time.process_time(), _cpu(backend)
        result = store.write(tenant, decoder.decode(body))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        server_cpus.append(_cpu(backend) - server)
        if result.compacted is not None:
            compactions.append(index)
            moved += result.compacted.samples
    samples = len(decoder.decode(bodies[0]).values) // series
    return _Run(series, samples, walls, cpus, server_cpus, compactions, moved)


def _ours_row(run: _Run) -> str:
    n = len(run.walls)
    plain = [w for i, w in enumerate(run.walls) if i not in run.compactions]
    median = statistics.median(plain)
    sustained = run.per_request * n / sum(run.walls)
    plain_server = sum(s for i, s in enumerate(run.server_cpus) if i not in run.compactions)
    return (
        f"| {run.series:,} series × {run.samples} | {n} | {median * 1e3:.1f} ms "
        f"| {run.per_request / median:,.0f} | {statistics.median(run.cpus) * 1e3:.1f} ms "
        f"| {plain_server / max(1, n - len(run.compactions)) * 1e3:.1f} ms "
        f"| {len(run.compactions)} | {sum(run.walls) / n * 1e3:.1f} ms | {sustained:,.0f} "
        f"| {run.per_request * n / (sum(run.cpus) + sum(run.server_cpus)):,.0f} |"
    )


def _compaction_row(run: _Run) -> str:
    if not run.compactions:
        return f"| {run.series:,} series × {run.samples} | no compaction in the run | | | |"
    plain = statistics.median(w for i, w in enumerate(run.walls) if i not in run.compactions)
    extra = [run.walls[i] - plain for i in run.compactions]
    server = [run.server_cpus[i] for i in run.compactions]
    per_run = run.compacted_samples / len(run.compactions)
    return (
        f"| {run.series:,} series × {run.samples} | {len(run.compactions)} "
        f"| {per_run:,.0f} | {statistics.mean(extra) * 1e3:.0f} ms "
        f"| {statistics.mean(extra) / per_run * 1e9:,.0f} ns "
        f"| {statistics.mean(server) * 1e3:.0f} ms |"
    )


def _prometheus(bodies: Sequence[bytes]) -> list[float] | None:
    """Wall time per request of Prometheus' own remote write receiver for the same bodies
    (one keep-alive connection on loopback, until it answers 204); None if not installed."""
    binary = shutil.which("prometheus")
    if binary is None:
        return None
    from bench.bench_promql import _start_prometheus

    with tempfile.TemporaryDirectory(prefix="orchestrix-bench-") as tmp:
        process, base = _start_prometheus(
            binary, Path(tmp) / "data", "--web.enable-remote-write-receiver"
        )
        try:
            conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)
            headers = {
                "Content-Type": "application/x-protobuf",
                "Content-Encoding": "snappy",
                "X-Prometheus-Remote-Write-Version": "0.1.0",
            }
            walls = []
            for body in bodies:
                started = time.perf_counter()
                conn.request("POST", "/api/v1/write", body, headers)
                response = conn.getresponse()
                response.read()
                walls.append(time.perf_counter() - started)
                assert response.status == 204, response.status
            conn.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    return walls


def _prometheus_row(series: int, samples: int, walls: list[float] | None) -> str:
    if walls is None:
        return f"| {series:,} series × {samples} | Prometheus not installed | | | |"
    measured = walls[1:]  # the first request is the warm-up, as for ours
    median = statistics.median(measured)
    total = series * samples
    return (
        f"| {series:,} series × {samples} | {len(measured)} | {median * 1e3:.1f} ms "
        f"| {total / median:,.0f} | {total * len(measured) / sum(measured):,.0f} |"
    )


def _legacy_write(store: PostgresMetricStore, batch: DecodedBatch) -> None:
    """A request stored as writes stored it before the head: one chunk row per series."""
    ts = np.asarray(batch.timestamps_ms, dtype=np.int64)
    values = np.asarray(batch.values, dtype=np.float64)
    offsets = np.asarray(batch.offsets, dtype=np.int64)
    from orchestrix.adapters.postgres.metric_columns import int4_array_of, int8_array_of

    params = {
        "tenant": LEGACY_TENANT,
        "fps": int8_array_of(np.asarray([k.fingerprint for k in batch.series], dtype=np.int64)),
        "firsts": int8_array_of(ts[offsets[:-1]]),
        "lasts": int8_array_of(ts[offsets[1:] - 1]),
        "lo": int4_array_of(offsets[:-1]),
        "hi": int4_array_of(offsets[1:]),
        "ts": ts.astype(">i8").tobytes(),
        "values": values.astype(">f8").tobytes(),
    }
    with store._connection() as conn, conn.transaction():
        conn.execute(sql.SET_TENANT_FOR_WRITE, (LEGACY_TENANT,))
        with conn.cursor(binary=True) as cur:
            sql.register_array_dumpers(cur.adapters)
            cur.execute(sql.INSERT_CHUNKS, params)


def _median_ms(fn: Callable[[], object], repeat: int = 7) -> float:
    fn()
    walls = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - started)
    return statistics.median(walls) * 1e3


def _read_rows(store: PostgresMetricStore, owner_dsn: str, bodies: Sequence[bytes]) -> list[str]:
    """Reading the first hour of what was written, as the head left it and in the old layout."""
    decoder = RemoteWriteDecoder()
    for body in bodies:
        batch = decoder.decode(body)
        if batch.timestamps_ms[0] >= T0 + HOUR_MS:
            break
        _legacy_write(store, batch)
    # The old layout's series rows, as its writes upserted them (copied as the owner).
    with psycopg.connect(owner_dsn) as conn:
        conn.execute(
            "INSERT INTO metric_series SELECT %s, fingerprint, metric_name, labels, first_ts,"
            " last_ts FROM metric_series WHERE tenant_id = %s",
            (LEGACY_TENANT, TENANT),
        )
    everything = [LabelMatcher.of("job", "=", "node")]
    end = T0 + HOUR_MS - 1
    lines = []
    for label, tenant in (("head, compacted", TENANT), ("one row per request", LEGACY_TENANT)):
        reader = store.reader(tenant)
        columns = reader.select_columns(everything, T0, end)
        with store._connection() as conn:
            conn.execute(sql.SET_TENANT, (tenant,))
            rows = conn.execute(
                "SELECT count(*) FROM metric_samples WHERE first_ts BETWEEN %s AND %s", (T0, end)
            ).fetchone()
            conn.rollback()
        select_ms = _median_ms(lambda r=reader: r.select_columns(everything, T0, end))
        engine = Engine(reader)
        query_ms = _median_ms(lambda e=engine: e.range(READ_QUERY, T0 + 300_000, end, 60_000))
        lines.append(
            f"| {label} | {rows[0] if rows else 0:,} | {len(columns.timestamps):,} "
            f"| {select_ms:.1f} ms | {query_ms:.1f} ms |"
        )
    return lines


ROUNDS = 3


def _ratios(run: _Run, theirs: list[float]) -> tuple[float, float]:
    """Ours / Prometheus: median request (ours without compaction), and sustained."""
    ours = statistics.median(w for i, w in enumerate(run.walls) if i not in run.compactions)
    measured = theirs[1:]
    sustained = (sum(run.walls) / len(run.walls)) / (sum(measured) / len(measured))
    return ours / statistics.median(measured), sustained


def run() -> str:
    small = [_body(2_000, 1, r) for r in range(401)]  # 100 min of scrapes
    large = [_body(10_000, 10, r) for r in range(41)]  # 10 samples each: 102.5 min
    small_runs: list[_Run] = []
    prometheus_runs: list[list[float] | None] = []
    with migrated_database() as dsn:
        database, backend = one_backend(dsn)
        store = PostgresMetricStore(database)
        # Rounds alternate with Prometheus' so that a busy moment of the machine hits both.
        for round_ in range(ROUNDS):
            tenant = TENANT if round_ == 0 else f"{TENANT}-{round_}"
            small_runs.append(_write_all(store, backend, tenant, small, 2_000))
            prometheus_runs.append(_prometheus(small))
        reads = _read_rows(store, dsn, small)
        large_run = _write_all(store, backend, "bench-large", large, 10_000)
        database.close()
    prometheus_large = _prometheus(large)
    lines = [
        "## Metrics ingest into PostgreSQL (end to end)",
        "",
        " ".join(_DESCRIPTION.split()),
        "",
        "| request | requests | median wall / request | samples/s (median) "
        "| our CPU / request (median) | PostgreSQL CPU / request (no compaction) "
        "| compactions | mean wall / request (all) | samples/s sustained "
        "| samples/s per core (both, all) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(_ours_row(r) for r in small_runs),
        _ours_row(large_run),
        "",
        "Reference, same bodies, same run: Prometheus 2.42 (Debian) receiving them on its "
        "remote write endpoint (`--web.enable-remote-write-receiver`) over HTTP on loopback "
        "(its own durability: a write-ahead log it does not fsync per request; its head "
        "compaction runs in the background, after 2 h of data), a fresh server per round:",
        "",
        "| request | requests | median wall / request | samples/s (median) | samples/s sustained |",
        "|---|---:|---:|---:|---:|",
        *(_prometheus_row(2_000, 1, walls) for walls in prometheus_runs),
        _prometheus_row(10_000, 10, prometheus_large),
        "",
    ]
    pairs = [
        _ratios(r, walls) for r, walls in zip(small_runs, prometheus_runs, strict=True) if walls
    ]
    if pairs:
        rounds = ", ".join(f"{m:.2f} / {s:.2f}" for m, s in pairs)
        lines += [
            f"2,000 series × 1, ours / Prometheus (wall), median of {len(pairs)} rounds: "
            f"median request **{statistics.median(m for m, _ in pairs):.2f}**, sustained "
            f"**{statistics.median(s for _, s in pairs):.2f}** (below 1: faster than "
            f"Prometheus; per round, median / sustained: {rounds}).",
            "",
        ]
    if prometheus_large is not None:
        median, sustained = _ratios(large_run, prometheus_large)
        lines += [
            f"10,000 series × 10, ours / Prometheus (wall), one round: median request "
            f"**{median:.2f}**, sustained **{sustained:.2f}**.",
            "",
        ]
    lines += [
        "Compaction (the requests that compacted, in the runs above): extra wall time over "
        "the median request, and the PostgreSQL CPU of those requests.",
        "",
        "| request | compactions | samples moved each | extra wall each | per sample "
        "| PostgreSQL CPU each |",
        "|---|---:|---:|---:|---:|---:|",
        *(_compaction_row(r) for r in small_runs),
        _compaction_row(large_run),
        "",
        "Reading back the first hour of the first 2,000 series × 1 run (240 requests), as "
        "compaction left it, against the same requests stored as writes "
        "stored them before the head (one chunk row per series per request). "
        "`select` = `select_columns` of all 2,000 series over the hour (what the engine "
        "reads); query = `sum by (mode) (rate(node_metric_1[5m]))` over the hour at 1 min "
        "steps. Median of 7.",
        "",
        "| layout | chunk rows in the hour | samples read | select | query |",
        "|---|---:|---:|---:|---:|",
        *reads,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
