"""End-to-end metrics ingest: remote write body -> decoded batch -> PostgreSQL.

Runs an embedded PostgreSQL (pgserver) of its own, migrated from scratch, and writes
through `PostgresMetricStore` as the application role, row-level security included.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import psycopg

from orchestrix.adapters.metrics import RemoteWriteDecoder, encode_write_request
from orchestrix.adapters.postgres import migrations
from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.metric_store import PostgresMetricStore

T0 = 1_790_000_000_000
TENANT = "bench"

_DESCRIPTION = """
One request = decode a snappy remote write 1.0 body (warm series cache) and write it in
one transaction: series upsert where needed, then all samples in one INSERT of binary
arrays into the day-partitioned, primary-keyed, row-level-secured samples table. Each
request carries new timestamps (steady state: series known, samples new). Wall time is
what a sender waits; client CPU is this process only (PostgreSQL runs on the other core
of the same machine). Median of the measured requests, after one warm-up request that
creates the series and partitions.
"""


def _body(series: int, samples: int, round_: int) -> bytes:
    start = T0 + round_ * samples * 15_000
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
            [(start + j * 15_000, i * 0.25 + j) for j in range(samples)],
        )
        for i in range(series)
    )


def _measure(store: PostgresMetricStore, series: int, samples: int, requests: int) -> str:
    decoder = RemoteWriteDecoder()
    bodies = [_body(series, samples, r) for r in range(requests + 1)]
    store.write(TENANT, decoder.decode(bodies[0]))  # warm-up: series and partitions
    walls, cpus = [], []
    for body in bodies[1:]:
        wall, cpu = time.perf_counter(), time.process_time()
        store.write(TENANT, decoder.decode(body))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    total = series * samples
    wall_s, cpu_s = statistics.median(walls), statistics.median(cpus)
    return (
        f"| {series:,} series × {samples} | {requests} | {wall_s * 1e3:.1f} ms | "
        f"{total / wall_s:,.0f} | {cpu_s * 1e3:.1f} ms | {total / cpu_s:,.0f} |"
    )


def run() -> str:
    warnings.simplefilter("ignore")
    from pgserver import get_server

    with tempfile.TemporaryDirectory(prefix="orchestrix-bench-") as tmp:
        os.environ.setdefault("XDG_RUNTIME_DIR", tmp)
        server = get_server(Path(tmp) / "pg", cleanup_mode="stop")
        try:
            dsn = server.get_uri()
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench")
            dsn = psycopg.conninfo.make_conninfo(dsn, dbname="bench")
            migrations.apply(dsn)
            database = Database(dsn, max_size=2)
            database.open()
            store = PostgresMetricStore(database)
            rows = [_measure(store, 10_000, 10, 5), _measure(store, 2_000, 1, 30)]
            database.close()
        finally:
            server.cleanup()
    lines = [
        "## Metrics ingest into PostgreSQL (end to end)",
        "",
        " ".join(_DESCRIPTION.split()),
        "",
        "| request | requests | wall / request | samples/s (wall) | client CPU / request "
        "| samples/s per client core |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
