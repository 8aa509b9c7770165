"""A real Prometheus scraping itself and remote-writing to Orchestrix over HTTP.

What Prometheus stores and what it sent us must answer the same PromQL the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from orchestrix.local.aws import free_port
from orchestrix.local.gateway import GatewayServer
from tests.api.conftest import (  # noqa: F401
    Client,
    api,  # noqa: F401
    api_home,
    client,
    token,
)
from tests.api.test_metrics_api import ingest_key

pytestmark = [pytest.mark.compat, pytest.mark.xdist_group("compat")]
PROMETHEUS = shutil.which("prometheus")
RATE_WINDOW = "10s"


@dataclass
class Peers:
    prometheus: str  # base URL of Prometheus' own API
    orchestrix: str  # base URL of our Prometheus-compatible API
    viewer_token: str


def _get(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())  # type: ignore[no-any-return]


def _query(base: str, q: str, at: float, headers: dict[str, str] | None = None) -> list[Any]:
    params = urllib.parse.urlencode({"query": q, "time": f"{at:.3f}"})
    reply = _get(f"{base}/api/v1/query?{params}", headers)
    assert reply["status"] == "success", reply
    return reply["data"]["result"]  # type: ignore[no-any-return]


def _wait_for(condition, seconds: float, what: str) -> Any:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"{what} within {seconds} s")


@pytest.fixture(scope="module")
def peers(api: Client, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peers]:  # noqa: F811
    if PROMETHEUS is None:
        pytest.skip("the prometheus binary is not installed (Debian package `prometheus`)")
    tenant = f"compat-{time.time_ns() % 10**9}"
    key = ingest_key(api, tenant)
    server = GatewayServer(api.gateway, free_port())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ours = f"http://127.0.0.1:{server.server_address[1]}"
    port = free_port()
    work = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
        ],
        "remote_write": [
            {
                "url": f"{ours}/api/v1/metrics/write",
                "basic_auth": {"username": "prometheus", "password": key},
                # One shard sends in order: once a later `up` arrived, all before it did.
                "queue_config": {"batch_send_deadline": "1s", "max_shards": 1},
            }
        ],
    }
    (work / "prometheus.yml").write_text(json.dumps(config))  # JSON is valid YAML
    log = (work / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield Peers(f"http://127.0.0.1:{port}", f"{ours}/prometheus", token(tenant, "viewer"))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        server.shutdown()
        server.server_close()


def _ours(peers: Peers, q: str, at: float) -> list[Any]:
    return _query(peers.orchestrix, q, at, {"Authorization": f"Bearer {peers.viewer_token}"})


def _latest_up(peers: Peers, at: float, theirs: bool = False) -> float:
    """Timestamp of the newest `up` sample at or before `at`, as one side sees it."""
    q = 'timestamp(up{job="prometheus"})'
    found = _query(peers.prometheus, q, at) if theirs else _ours(peers, q, at)
    return float(found[0]["value"][1]) if found else 0.0


def _by_labels(result: list[Any]) -> dict[str, float]:
    return {json.dumps(s["metric"], sort_keys=True): float(s["value"][1]) for s in result}


def _agree(ours: dict[str, float], theirs: dict[str, float]) -> None:
    assert ours.keys() == theirs.keys()
    for labels, value in theirs.items():
        assert ours[labels] == pytest.approx(value, rel=1e-6, abs=1e-12), labels


def test_prometheus_remote_write_lands_and_answers_like_prometheus(peers: Peers) -> None:
    # Given Prometheus has been scraping itself and remote-writing to us
    _wait_for(
        lambda: (
            _ours(peers, 'up{job="prometheus"}', time.time())
            and _ours(peers, "prometheus_http_requests_total", time.time())
        ),
        30,
        "up and prometheus_http_requests_total were not queryable through our API",
    )
    first_scrape = min(
        float(s["value"][1])
        for s in _query(peers.prometheus, 'timestamp(up{job="prometheus"})', time.time())
    )
    # An evaluation time half-way between scrapes, a full rate window after the first one,
    # so that neither the window's edges nor Prometheus 2's closed windows matter.
    _wait_for(lambda: time.time() > first_scrape + 13, 30, "Prometheus did not keep scraping")
    latest = float(
        _query(peers.prometheus, 'timestamp(up{job="prometheus"})', time.time())[0]["value"][1]
    )
    at = latest - 1.5
    _wait_for(
        lambda: (
            float(
                (_ours(peers, 'timestamp(up{job="prometheus"})', at + 2) or [{"value": [0, "0"]}])[
                    0
                ]["value"][1]
            )
            > at
        ),
        30,
        "remote write did not catch up",
    )

    # Then both answer the same queries at the same time with the same values
    for q in (
        'up{job="prometheus"}',
        "prometheus_http_requests_total",
        f"rate(prometheus_http_requests_total[{RATE_WINDOW}])",
        f"sum by (code) (rate(prometheus_http_requests_total[{RATE_WINDOW}]))",
        f"sum by (job) (rate(prometheus_tsdb_head_samples_appended_total[{RATE_WINDOW}]))",
    ):
        theirs = _by_labels(_query(peers.prometheus, q, at))
        assert theirs, q
        _agree(_by_labels(_ours(peers, q, at)), theirs)
