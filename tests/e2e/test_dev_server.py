"""The local stack, end to end, as the README's walk-through uses it."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request

import pytest

from orchestrix.local.aws import free_port
from tests.e2e.conftest import BIN, DevServer, start_dev, stop_dev

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_walkthrough_create_key_then_read_audit(dev):
    admin = dev.token("walk", "admin")
    status, headers, created = dev.request(
        "POST", "/api/v1/api-keys", admin, {"name": "prometheus", "scopes": ["metrics:write"]}
    )
    assert status == 201
    status, _, audit = dev.request("GET", "/api/v1/audit-logs?action=api_key.create", admin)
    assert status == 200
    assert audit["items"][0]["resource_id"] == created["id"]
    assert audit["items"][0]["request_id"] == headers["X-Request-Id"]


def test_cli_creates_an_ingestion_key_the_server_accepts(dev):
    result = dev.cli("api-key", "create", "--tenant", "clikeys", "--scope", "alerts:write")
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert secret.startswith("orx_")
    # authenticated (403: keys carry scopes, not management roles), not 401
    assert dev.request("GET", "/api/v1/api-keys", secret)[0] == 403
    admin = dev.token("clikeys", "admin")
    names = [k["name"] for k in dev.request("GET", "/api/v1/api-keys", admin)[2]["items"]]
    assert names == ["cli"]


def test_tick_advances_the_clock_and_fires_due_schedules(dev):
    # Rule evaluation runs only while some tenant has a rule: give it one.
    admin = dev.token("e2e-tick", "admin")
    rule = {"name": "Never", "expr": "vector(1) > 2"}
    assert dev.request("POST", "/api/v1/alert-rules", admin, rule)[0] == 201
    result = dev.cli("tick", "--advance", "2m")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "evaluate-rules -> evaluate_rules  ok" in result.stdout


def test_tick_rejects_a_bad_duration(dev):
    result = dev.cli("tick", "--advance", "soon")
    assert result.returncode == 1
    assert "not a duration" in result.stderr


def test_stop_leaves_no_process_and_data_survives_restart(tmp_path):
    home = tmp_path / ".orchestrix"
    home.mkdir()
    first = start_dev(home, free_port())
    admin = first.token("persist", "admin")
    status, _, created = first.request(
        "POST", "/api/v1/api-keys", admin, {"name": "keep-me", "scopes": ["logs:write"]}
    )
    assert status == 201
    assert stop_dev(first) == 0
    leftovers = _processes_mentioning(str(home))
    deadline = time.monotonic() + 10  # PostgreSQL's postmaster takes a moment to exit
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.2)
        leftovers = _processes_mentioning(str(home))
    assert leftovers == []

    second = start_dev(home, free_port())
    try:
        status, _, body = second.request("GET", f"/api/v1/api-keys/{created['id']}", admin)
        assert (status, body["name"]) == (200, "keep-me")
    finally:
        assert stop_dev(second) == 0


def test_clean_stop_after_a_killed_server_leaves_no_postgres(tmp_path):
    # given a server killed with SIGKILL (its PostgreSQL keeps running, its handle stays
    # listed), then started again on the same data
    home = tmp_path / ".orchestrix"
    home.mkdir()
    killed = start_dev(home, free_port())
    killed.process.kill()
    killed.process.wait(timeout=30)
    assert _postgres_of(home) != []  # the orphan the next start takes over
    second = start_dev(home, free_port())
    admin = second.token("afterkill", "admin")
    assert second.request("GET", "/api/v1/api-keys", admin)[0] == 200
    # when it stops cleanly
    assert stop_dev(second) == 0
    # then no PostgreSQL of this data directory is left
    leftovers = _postgres_of(home)
    deadline = time.monotonic() + 10
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.2)
        leftovers = _postgres_of(home)
    assert leftovers == []


def test_port_in_use_is_one_clear_line_and_a_failure(tmp_path):
    home = tmp_path / ".orchestrix"
    home.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "ORCHESTRIX_HOME": str(home), "PORT": str(port)}
        env.pop("DATABASE_URL", None)
        result = subprocess.run(
            [str(BIN / "orchestrix"), "dev"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert output == f"port {port} is in use: set PORT=<another port> (or pass --port) and retry"
    assert _postgres_of(home) == []  # nothing was started for nothing


def test_instant_query_without_time_sees_samples_imported_after_a_tick(dev: DevServer):
    # given the local clock moved an hour ahead of the wall clock
    key = dev.cli("api-key", "create", "--tenant", "clocked", "--scope", "metrics:write")
    assert key.returncode == 0, key.stderr
    tick = dev.cli("tick", "--advance", "1h")
    assert tick.returncode == 0, tick.stdout + tick.stderr
    # when a sample without timestamp is imported (stamped with the local clock) ...
    request = urllib.request.Request(
        dev.url + "/api/v1/metrics/import",
        data=b'walkthrough_requests_total{job="api"} 1034\n',
        method="POST",
        headers={
            "Content-Type": "text/plain",
            "Authorization": f"Bearer {key.stdout.strip()}",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 204
    # ... and queried without `time`
    reader = dev.token("clocked", "viewer")
    status, _, body = dev.request(
        "GET", "/api/v1/metrics/query?query=sum+by+(job)+(walkthrough_requests_total)", reader
    )
    # then the instant query evaluates at the same clock and finds it
    assert status == 200
    assert [(r["metric"], r["value"][1]) for r in body["data"]["result"]] == [
        ({"job": "api"}, "1034")
    ]


def _postgres_of(home) -> list[str]:
    return [line for line in _processes_mentioning(str(home / "pg")) if "postgres" in line]


def _processes_mentioning(text: str) -> list[str]:
    # -ww: without a terminal ps cuts lines at 80 columns, before the data directory's path
    out = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if text in line and "-eo pid,args" not in line]
