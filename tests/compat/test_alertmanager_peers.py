"""Real Alertmanager, Prometheus and amtool talking to Orchestrix over loopback HTTP.

- Alertmanager's webhook receiver pointed at Orchestrix delivers a firing, then a resolved
  alert, and both show up on the one Orchestrix alert;
- Prometheus configured with Orchestrix as its Alertmanager pushes its firing alerts;
- `amtool silence add/query/expire` work against Orchestrix' /api/v2.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrix.local.aws import free_port
from orchestrix.local.gateway import GatewayServer
from tests.api.conftest import Client, api_home, client, token  # noqa: F401
from tests.api.test_alerting_api import api, events, key  # noqa: F401

pytestmark = [pytest.mark.compat, pytest.mark.xdist_group("compat")]
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
PROMETHEUS = shutil.which("prometheus")
AMTOOL = shutil.which("amtool")


@pytest.fixture(scope="module")
def ours(api: Client) -> Iterator[str]:  # noqa: F811
    server = GatewayServer(api.gateway, free_port())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def tenant() -> str:
    return f"cmp-{time.time_ns() % 10**12}"


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for(condition: Any, seconds: float, what: str, log: Path | None = None) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    tail = log.read_text()[-2000:] if log and log.exists() else ""
    pytest.fail(f"{what} within {seconds} s\n{tail}")


def _alerts(api: Client, tenant: str, query: str = "") -> list[dict[str, Any]]:  # noqa: F811
    reply = api.get(f"/api/v1/alerts{query}", token(tenant, "viewer"))
    assert reply.status == 200, reply.body
    return reply.json["items"]  # type: ignore[no-any-return]


def _post_json(url: str, body: Any) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.mark.skipif(ALERTMANAGER is None, reason="prometheus-alertmanager is not installed")
def test_alertmanager_webhook_delivers_firing_then_resolved(
    api: Client,  # noqa: F811
    ours: str,
    tenant: str,
    tmp_path: Path,
) -> None:
    secret = key(api, tenant, "alerts:write")
    config = {
        "route": {
            "receiver": "orchestrix",
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "orchestrix",
                "webhook_configs": [
                    {
                        "url": f"{ours}/api/v1/integrations/alertmanager",
                        "send_resolved": True,
                        "http_config": {"basic_auth": {"username": "am", "password": secret}},
                    }
                ],
            }
        ],
    }
    (tmp_path / "am.yml").write_text(json.dumps(config))
    port = free_port()
    log = tmp_path / "alertmanager.log"
    process = _start(
        [
            str(ALERTMANAGER),
            f"--config.file={tmp_path / 'am.yml'}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        log,
    )
    am = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _ready(f"{am}/-/ready"), 30, "Alertmanager was not ready", log)
        now = datetime.now(UTC)
        alert = {
            "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical"},
            "annotations": {"summary": "db-1 disk is full"},
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
        }
        assert _post_json(f"{am}/api/v2/alerts", [alert]) == 200

        firing = _wait_for(
            lambda: _alerts(api, tenant, "?status=firing"), 30, "no firing alert arrived", log
        )
        assert firing[0]["labels"] == alert["labels"]
        assert firing[0]["annotations"] == alert["annotations"]
        assert firing[0]["source"] == "alertmanager"

        resolved_at = datetime.now(UTC).isoformat()
        _post_json(f"{am}/api/v2/alerts", [{**alert, "endsAt": resolved_at}])
        resolved = _wait_for(
            lambda: _alerts(api, tenant, "?status=resolved"), 30, "no resolution arrived", log
        )
        assert [a["id"] for a in resolved] == [firing[0]["id"]]
    finally:
        _stop(process)


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus is not installed")
def test_prometheus_pushes_its_alerts_to_orchestrix(
    api: Client,  # noqa: F811
    ours: str,
    tenant: str,
    tmp_path: Path,
) -> None:
    secret = key(api, tenant, "alerts:write")
    host = ours.removeprefix("http://")
    (tmp_path / "rules.yml").write_text(
        json.dumps(
            {
                "groups": [
                    {
                        "name": "always",
                        "rules": [
                            {
                                "alert": "AlwaysFiring",
                                "expr": "vector(1) > 0",
                                "labels": {"severity": "info"},
                                "annotations": {"summary": "value {{ $value }}"},
                            }
                        ],
                    }
                ]
            }
        )
    )
    config = {
        "global": {"evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yml")],
        "alerting": {
            "alertmanagers": [
                {
                    "api_version": "v2",
                    "static_configs": [{"targets": [host]}],
                    "basic_auth": {"username": "prometheus", "password": secret},
                }
            ]
        },
    }
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))
    log = tmp_path / "prometheus.log"
    process = _start(
        [
            str(PROMETHEUS),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{free_port()}",
            # Alerts evaluated before the Alertmanager list is discovered (~5 s) are dropped
            # and re-sent only after the resend delay (1 m by default).
            "--rules.alert.resend-delay=1s",
        ],
        log,
    )
    try:
        pushed = _wait_for(lambda: _alerts(api, tenant), 60, "Prometheus pushed nothing", log)
        assert pushed[0]["labels"] == {"alertname": "AlwaysFiring", "severity": "info"}
        assert pushed[0]["annotations"] == {"summary": "value 1"}
        assert pushed[0]["source"] == "prometheus" and pushed[0]["status"] == "firing"
    finally:
        _stop(process)


@pytest.mark.skipif(AMTOOL is None, reason="amtool (prometheus-alertmanager) is not installed")
def test_amtool_adds_queries_and_expires_silences(ours: str, tenant: str, tmp_path: Path) -> None:
    http_config = tmp_path / "http.yml"
    http_config.write_text(
        json.dumps({"authorization": {"type": "Bearer", "credentials": token(tenant, "responder")}})
    )

    def amtool(*args: str) -> str:
        run = subprocess.run(
            [
                str(AMTOOL),
                f"--alertmanager.url={ours}",
                f"--http.config.file={http_config}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout.strip()

    silence_id = amtool(
        "silence", "add", "alertname=Noisy", "service=~api.*", "--comment=deploy", "--duration=1h"
    )
    assert silence_id.startswith("sil_")
    assert amtool("silence", "query", "-q") == silence_id
    listed = amtool("silence", "query")
    assert "deploy" in listed and 'service=~"api.*"' in listed
    amtool("silence", "expire", silence_id)
    assert amtool("silence", "query", "-q") == ""
    assert silence_id in amtool("silence", "query", "--expired", "-q")
