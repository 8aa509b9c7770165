"""The local stack, end to end, as the README's walk-through uses it."""

from __future__ import annotations

import subprocess
import time

import pytest

from orchestrix.local.aws import free_port
from tests.e2e.conftest import start_dev, stop_dev

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


def _processes_mentioning(text: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if text in line and "ps -eo" not in line]
