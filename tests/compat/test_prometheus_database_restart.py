"""Remote write survives a database restart: Prometheus retries, and nothing is lost.

A real Prometheus scrapes itself every second and remote-writes to the in-process gateway,
whose metric store lives in a PostgreSQL server of this test's own. That server is stopped
for a few seconds mid-stream and started again. We must answer 503 meanwhile (so that
Prometheus retries instead of dropping), and afterwards hold exactly as many samples as
Prometheus says it delivered.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from orchestrix import bootstrap
from orchestrix.adapters.postgres import migrations
from orchestrix.adapters.postgres.database import Database
from orchestrix.local.aws import free_port
from orchestrix.local.functions import FunctionHost
from orchestrix.local.gateway import Gateway, GatewayServer
from tests.api.conftest import (  # noqa: F401
    Client,
    api,  # noqa: F401
    api_home,
    client,
)
from tests.api.test_metrics_api import ingest_key

pytestmark = [pytest.mark.compat, pytest.mark.xdist_group("compat")]
PROMETHEUS = shutil.which("prometheus")
OUTAGE_S = 5.0
# Prometheus 2.42 counts every attempt in samples_total and every re-attempt in
# samples_retried_total, so delivered = total - retried - failed.
COUNTERS = (
    "prometheus_remote_storage_samples_total",
    "prometheus_remote_storage_samples_retried_total",
    "prometheus_remote_storage_samples_failed_total",
    "prometheus_remote_storage_samples_dropped_total",
    "prometheus_remote_storage_samples_pending",
)


class RecordingGateway(Gateway):
    """The gateway, noting the status of every remote write it answered."""

    def __init__(self) -> None:
        # Like API Gateway, cache the authorizer's answer: with the database down the
        # authorizer cannot look keys up, and the write route is what is under test.
        super().__init__(FunctionHost(), authorizer_cache_seconds=300)
        self.write_statuses: list[int] = []

    def dispatch(self, method: str, raw_path: str, headers: Any, body: bytes) -> Any:
        answer = super().dispatch(method, raw_path, headers, body)
        if raw_path.startswith("/api/v1/metrics/write"):
            self.write_statuses.append(answer[0])
        return answer


@dataclass
class OwnPostgres:
    """A pgserver instance that this test may stop and start at will."""

    data: Path
    socket_dir: str
    user: str | None
    dsn: str
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.data / "log"

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import POSTGRES_BIN_PATH

        command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.data), *args]
        subprocess.run(command, check=True, user=self.user, capture_output=True, timeout=30)

    def stop(self) -> None:
        self._pg_ctl("-w", "stop", "-m", "fast")

    def start(self) -> None:
        options = f"-h '' -k {self.socket_dir}"
        self._pg_ctl("-w", "-o", options, "-l", str(self.log), "start")


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnPostgres]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver import get_server

        server = get_server(tmp_path_factory.mktemp("restartable") / "pg", cleanup_mode="stop")
    info = server.get_postmaster_info()
    root = server.get_uri()
    with psycopg.connect(root, autocommit=True) as conn:
        conn.execute("CREATE DATABASE metrics")
    dsn = psycopg.conninfo.make_conninfo(root, dbname="metrics")
    migrations.apply(dsn)
    own = OwnPostgres(server.pgdata, str(info.socket_dir), server.system_user, dsn)
    yield own
    # pgserver only knows the first postmaster: stop the restarted one ourselves.
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        own.stop()
    server.cleanup()


@pytest.fixture(scope="module")
def gateway(api: Client, own_postgres: OwnPostgres) -> Iterator[RecordingGateway]:  # noqa: F811
    """Point the whole app (keys, authorizer, metric store) at the restartable server."""
    saved = dict(bootstrap._overrides)
    database = Database(own_postgres.dsn, max_size=4)
    bootstrap.configure(database=database)
    try:
        yield RecordingGateway()
    finally:
        # Back to exactly the overrides before: no `database` pinned for later tests.
        bootstrap._overrides.clear()
        bootstrap.configure(**saved)
        database.close()


def _prometheus_counters(base: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = dict.fromkeys(COUNTERS, 0.0)
    for line in text.splitlines():
        name, _, rest = line.partition("{")
        if name in found:
            found[name] += float(rest.rsplit(" ", 1)[1])
    return found


def _stored_samples(dsn: str, tenant: str) -> int:
    """Distinct samples stored: the head compacted first (compaction keeps one sample per
    series and instant), then counted in the chunks and whatever head arrived since."""
    bootstrap.postgres_metric_store().compact(tenant)
    with psycopg.connect(dsn) as conn:  # the owner: no row-level security in the way
        row = conn.execute(
            "SELECT (SELECT coalesce(sum(length(ts) / 8), 0) FROM metric_samples"
            "        WHERE tenant_id = %(t)s)"
            "     + (SELECT coalesce(sum(samples), 0) FROM metric_head WHERE tenant_id = %(t)s)",
            {"t": tenant},
        ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _wait_for(condition, seconds: float, what: str) -> Any:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.25)
    pytest.fail(f"{what} within {seconds} s")


def _config(port: int, ours: str, key: str, scrape: bool) -> str:
    jobs = [{"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}]
    return json.dumps(  # JSON is valid YAML
        {
            "global": {"scrape_interval": "1s"},
            "scrape_configs": jobs if scrape else [],
            "remote_write": [
                {
                    "url": f"{ours}/api/v1/metrics/write",
                    "basic_auth": {"username": "prometheus", "password": key},
                    "remote_timeout": "10s",
                    "queue_config": {
                        "batch_send_deadline": "1s",
                        "max_shards": 1,
                        "min_backoff": "100ms",
                        "max_backoff": "1s",
                    },
                }
            ],
        }
    )


def test_samples_sent_while_the_database_restarts_are_all_stored(
    api: Client,  # noqa: F811
    gateway: RecordingGateway,
    own_postgres: OwnPostgres,
    tmp_path: Path,
) -> None:
    if PROMETHEUS is None:
        pytest.skip("the prometheus binary is not installed (Debian package `prometheus`)")
    tenant = f"restart-{uuid.uuid4().hex[:8]}"
    key = ingest_key(api, tenant)
    server = GatewayServer(gateway, free_port())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ours = f"http://127.0.0.1:{server.server_address[1]}"
    port = free_port()
    prometheus = f"http://127.0.0.1:{port}"
    config = tmp_path / "prometheus.yml"
    config.write_text(_config(port, ours, key, scrape=True))
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "GOMAXPROCS": "1"},
    )
    try:
        # Given Prometheus is remote-writing to us
        _wait_for(lambda: _stored_samples(own_postgres.dsn, tenant) > 0, 30, "no sample arrived")
        time.sleep(2)

        # When PostgreSQL stops mid-stream for a few seconds and comes back
        own_postgres.stop()
        time.sleep(OUTAGE_S)
        own_postgres.start()

        # and, once Prometheus has caught up, it stops scraping (so its counters hold still)
        _wait_for(
            lambda: gateway.write_statuses and gateway.write_statuses[-1] == 204,
            60,
            "remote write did not recover after the restart",
        )
        config.write_text(_config(port, ours, key, scrape=False))
        urllib.request.urlopen(urllib.request.Request(f"{prometheus}/-/reload", method="POST"))
        time.sleep(3)  # the last scrape's staleness markers join the queue
        settled = _wait_for(
            lambda: (
                (c := _prometheus_counters(prometheus))[COUNTERS[-1]] == 0
                and c == _prometheus_counters(prometheus)
                and gateway.write_statuses[-1] == 204
                and c
            ),
            30,
            "Prometheus' queue did not drain",
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        server.shutdown()
        server.server_close()

    # Then we refused while it was down, Prometheus retried, and every sample it delivered
    # is stored exactly once
    total, retried, failed, dropped, _ = (settled[name] for name in COUNTERS)
    assert 503 in gateway.write_statuses
    assert retried > 0
    assert (failed, dropped) == (0, 0)
    assert _stored_samples(own_postgres.dsn, tenant) == total - retried
