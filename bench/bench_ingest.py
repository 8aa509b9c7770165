"""End-to-end metrics ingest: remote write body -> decoded batch -> PostgreSQL.

Runs an embedded PostgreSQL (pgserver) of its own, migrated from scratch, and writes
through `PostgresMetricStore` as the application role, row-level security included.
"""

from __future__ import annotations

import http.client
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]

from bench.embedded import migrated_database, one_backend
from orchestrix.adapters.metrics import RemoteWriteDecoder, encode_write_request
from orchestrix.adapters.postgres.metric_store import PostgresMetricStore

T0 = 1_790_000_000_000
TENANT = "bench"

_DESCRIPTION = """
One request = decode a snappy remote write 1.0 body (warm series cache) and write it in one
transaction: series upsert where needed, then the samples as chunks (one row per series and
day) in one INSERT of binary arrays into the day-partitioned, primary-keyed, row-level-
secured samples table, committed asynchronously (synchronous_commit off for that
transaction: Prometheus' own durability, see README). Each request carries new timestamps
(steady state: series known, samples new). Median of the measured requests, after one warm-
up request that creates the series and partitions. "Per core" is ambiguous, so three
figures: samples per CPU-second of this process (decode + SQL client), of the PostgreSQL
backend serving it (read from /proc, 10 ms resolution), and of both together (the whole cost
of ingest on one core). Wall time is what a sender waits (client and server run one after
the other).
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


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _measure(
    store: PostgresMetricStore, backend: psutil.Process, series: int, samples: int, requests: int
) -> str:
    decoder = RemoteWriteDecoder()
    bodies = [_body(series, samples, r) for r in range(requests + 1)]
    store.write(TENANT, decoder.decode(bodies[0]))  # warm-up: series and partitions
    walls, cpus, server_cpus = [], [], []
    for body in bodies[1:]:
        wall, cpu, server = time.perf_counter(), time.process_time(), _cpu(backend)
        store.write(TENANT, decoder.decode(body))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        server_cpus.append(_cpu(backend) - server)
    total = series * samples
    wall_s, cpu_s = statistics.median(walls), statistics.median(cpus)
    # Summed over the run, not medians: the backend's CPU clock ticks every 10 ms.
    server_s = sum(server_cpus) / requests
    both_s = (sum(cpus) + sum(server_cpus)) / requests
    return (
        f"| {series:,} series × {samples} | {requests} | {wall_s * 1e3:.1f} ms | "
        f"{total / wall_s:,.0f} | {cpu_s * 1e3:.1f} ms | {total / cpu_s:,.0f} | "
        f"{server_s * 1e3:.1f} ms | {total / server_s:,.0f} | {total / both_s:,.0f} |"
    )


def _prometheus_row(series: int, samples: int, requests: int) -> str:
    """The same bodies sent to Prometheus' own remote write receiver, one keep-alive
    connection on loopback; wall time until it answers 204."""
    binary = shutil.which("prometheus")
    if binary is None:
        return f"| {series:,} series × {samples} | Prometheus not installed | | |"
    from bench.bench_promql import _start_prometheus

    bodies = [_body(series, samples, r) for r in range(requests + 1)]
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
            prometheus = psutil.Process(process.pid)
            walls, cpus = [], []
            for index, body in enumerate(bodies):
                started, cpu = time.perf_counter(), _cpu(prometheus)
                conn.request("POST", "/api/v1/write", body, headers)
                response = conn.getresponse()
                response.read()
                if index:  # the first request is the warm-up, as for ours
                    walls.append(time.perf_counter() - started)
                    cpus.append(_cpu(prometheus) - cpu)
                assert response.status == 204, response.status
            conn.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    wall_s, cpu_s = statistics.median(walls), sum(cpus) / requests
    total = series * samples
    return (
        f"| {series:,} series × {samples} | {requests} | {wall_s * 1e3:.1f} ms "
        f"| {total / wall_s:,.0f} | {cpu_s * 1e3:.1f} ms | {total / cpu_s:,.0f} |"
    )


def run() -> str:
    with migrated_database() as dsn:
        database, backend = one_backend(dsn)
        store = PostgresMetricStore(database)
        rows = [
            _measure(store, backend, 10_000, 10, 10),
            _measure(store, backend, 2_000, 1, 50),
        ]
        database.close()
    lines = [
        "## Metrics ingest into PostgreSQL (end to end)",
        "",
        " ".join(_DESCRIPTION.split()),
        "",
        "| request | requests | wall / request | samples/s (wall) | our CPU / request "
        "| samples/s per core (ours) | PostgreSQL CPU / request "
        "| samples/s per core (PostgreSQL) | samples/s per core (both) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Reference, same bodies, same run: Prometheus 2.42 (Debian) receiving them on its "
        "remote write endpoint (`--web.enable-remote-write-receiver`) over HTTP on loopback "
        "(its own durability: a write-ahead log it does not fsync per request). Median wall "
        "time per request, and Prometheus' CPU (all its threads) per request:",
        "",
        "| request | requests | wall / request | samples/s (wall) | Prometheus CPU / request "
        "| samples/s per core |",
        "|---|---:|---:|---:|---:|---:|",
        _prometheus_row(10_000, 10, 10),
        _prometheus_row(2_000, 1, 50),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
