"""Auto-remediations survive a restart of `orchestrix dev`: one waiting for its re-check goes
on where it stood; one whose workflow was mid-step ends failed, saying the runtime restarted,
instead of showing `running` forever."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrix.local.aws import free_port
from tests.e2e import test_remediation_e2e as remediation
from tests.e2e.conftest import DevServer, start_dev, stop_dev
from tests.e2e.test_remediation_e2e import _alert, _import_metrics, _until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
runbook_target = remediation.runbook_target  # the fixture
TENANT = "restart-remediate"


def _create(dev: DevServer, token: str, path: str, body: dict[str, Any]) -> str:
    status, _, created = dev.request("POST", path, token, body)
    assert status == 201, created
    return str(created["id"])


def _rule(dev: DevServer, token: str, name: str, expr: str, workflow_id: str) -> str:
    rule = {"name": name, "expr": expr, "for": "1m", "severity": "warning"}
    return _create(
        dev, token, "/api/v1/alert-rules", {**rule, "remediation_workflow_id": workflow_id}
    )


def _firing(dev: DevServer, token: str, rule_id: str) -> dict[str, Any]:
    status, _, listed = dev.request("GET", f"/api/v1/alerts?rule_id={rule_id}", token)
    assert status == 200, listed
    (alert,) = listed["items"]
    return _alert(dev, token, alert["id"])


def test_remediations_are_resumed_or_failed_after_a_restart(
    tmp_path: Any, runbook_target: tuple[str, list[Any]]
) -> None:
    url, received = runbook_target
    home = tmp_path / ".orchestrix"
    home.mkdir()
    first = start_dev(home, free_port())
    admin = first.token(TENANT, "admin")
    try:
        # given two firing rules: one remediation whose fix ran and now waits five minutes
        # for its re-check, one whose workflow is in the middle of an hour-long step
        key = first.cli("api-key", "create", "--tenant", TENANT, "--scope", "metrics:write")
        assert key.returncode == 0, key.stderr
        secret = key.stdout.split()[0]
        _import_metrics(first, secret, 'e2e_backlog{queue="mail"} 40\ne2e_disk_full 1\n')
        drain = {
            "name": "drain",
            "steps": [
                {
                    "id": "drain",
                    "type": "http",
                    "request": {"method": "POST", "url": f"{url}/drain", "body": {"q": "mail"}},
                    "expect_status": [200],
                },
                {"id": "done", "type": "succeed"},
            ],
        }
        slow = {
            "name": "slow-cleanup",
            "steps": [
                {"id": "pause", "type": "wait", "seconds": 3600},
                {"id": "done", "type": "succeed"},
            ],
        }
        backlog = _rule(
            first,
            admin,
            "Backlog",
            "e2e_backlog > 10",
            _create(first, admin, "/api/v1/workflows", drain),
        )
        disk = _rule(
            first,
            admin,
            "DiskFull",
            "e2e_disk_full > 0",
            _create(first, admin, "/api/v1/workflows", slow),
        )
        assert first.cli("tick", "--advance", "2m").returncode == 0
        _until(
            "the drain succeeded",
            lambda: (
                _firing(first, admin, backlog)["remediations"][0]["execution_status"] == "succeeded"
            ),
        )
        _until(
            "the slow cleanup started",
            lambda: _firing(first, admin, disk)["remediations"][0]["execution_status"] == "running",
        )
    finally:
        # when the server stops and starts again on the same data
        assert stop_dev(first) == 0
    second = start_dev(home, free_port())
    try:
        # then the console says what happened to each
        line = "1 remediation(s) resumed; 1 interrupted remediation(s) failed"
        assert line in second.log.read_text()
        # the interrupted one ended failed, saying why, with its alert left firing for people
        interrupted = _firing(second, admin, disk)
        (failed,) = interrupted["remediations"]
        assert failed["status"] == "failed"
        assert failed["reason"].startswith("interrupted: the local runtime restarted")
        assert interrupted["status"] == "firing"
        code, _, audit = second.request(
            "GET", f"/api/v1/audit-logs?resource_id={failed['id']}", admin
        )
        assert code == 200, audit
        assert "remediation.failed" in {entry["action"] for entry in audit["items"]}
        # the resumed one goes on: once the backlog is gone and the re-check is due, the alert
        # is resolved, and the fix ran once
        _import_metrics(second, secret, 'e2e_backlog{queue="mail"} 0\ne2e_disk_full 1\n')
        assert second.cli("tick", "--advance", "5m").returncode == 0

        def resolved() -> dict[str, Any] | None:
            shown = _firing(second, admin, backlog)
            ended = shown["remediations"][0]["status"] != "running"
            return shown if ended and shown["status"] == "resolved" else None

        final = _until("the backlog alert resolved", resolved)
        assert [r["status"] for r in final["remediations"]] == ["resolved"]
        assert received == [{"q": "mail"}]
    finally:
        assert stop_dev(second) == 0
