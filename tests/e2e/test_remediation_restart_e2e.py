"""Auto-remediations survive a restart of `orchestrix dev`: one waiting for its re-check goes
on where it stood; one whose workflow was mid-step ends failed, saying the runtime restarted,
instead of showing `running` forever."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrix.local.aws import free_port
from tests.e2e import test_remediation_e2e as remediation
from tests.e2e.conftest import DevServer, start_dev, stop_dev, wait_for_execution
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


def _workflow(dev: DevServer, token: str, name: str, *steps: dict[str, Any]) -> str:
    body = {"name": name, "steps": [*steps, {"id": "done", "type": "succeed"}]}
    return _create(dev, token, "/api/v1/workflows", body)


def _post(step_id: str, url: str, body: dict[str, str]) -> dict[str, Any]:
    request = {"method": "POST", "url": url, "body": body}
    return {"id": step_id, "type": "http", "request": request, "expect_status": [200]}


def _execution_status(dev: DevServer, token: str, rule_id: str) -> str:
    return str(_firing(dev, token, rule_id)["remediations"][0]["execution_status"])


def test_remediations_are_resumed_or_failed_after_a_restart(
    tmp_path: Any, runbook_target: tuple[str, list[Any]]
) -> None:
    url, received = runbook_target
    home = tmp_path / ".orchestrix"
    home.mkdir()
    first = start_dev(home, free_port())
    admin = first.token(TENANT, "admin")
    try:
        # given three firing rules whose remediations are at three points: one whose fix ran
        # and that waits five minutes for its re-check, one whose workflow waits for an
        # approval, one whose workflow is in the middle of an hour-long step
        key = first.cli("api-key", "create", "--tenant", TENANT, "--scope", "metrics:write")
        assert key.returncode == 0, key.stderr
        secret = key.stdout.split()[0]
        metrics = 'e2e_backlog{queue="mail"} 40\ne2e_stuck{queue="jobs"} 3\ne2e_disk_full 1\n'
        _import_metrics(first, secret, metrics)
        drain = _workflow(first, admin, "drain", _post("drain", f"{url}/drain", {"q": "mail"}))
        ask = {"id": "ask", "type": "approval", "message": "restart the workers?"}
        restart = _post("restart", f"{url}/restart", {"alert": "{{ alert.id }}"})
        asks = _workflow(first, admin, "restart-workers", ask, restart)
        pause = {"id": "pause", "type": "wait", "seconds": 3600}
        slow = _workflow(first, admin, "slow-cleanup", pause)
        backlog = _rule(first, admin, "Backlog", "e2e_backlog > 10", drain)
        stuck = _rule(first, admin, "Stuck", "e2e_stuck > 0", asks)
        disk = _rule(first, admin, "DiskFull", "e2e_disk_full > 0", slow)
        assert first.cli("tick", "--advance", "2m").returncode == 0
        _until("the drain ran", lambda: _execution_status(first, admin, backlog) == "succeeded")
        _until("the approval", lambda: _execution_status(first, admin, stuck) == "waiting_approval")
        _until("the cleanup began", lambda: _execution_status(first, admin, disk) == "running")
    finally:
        # when the server stops and starts again on the same data
        assert stop_dev(first) == 0
    second = start_dev(home, free_port())
    try:
        # then the console says what happened to each (once the approval is asked again)
        line = "2 remediation(s) resumed; 1 interrupted remediation(s) failed"
        _until("the console line", lambda: line in second.log.read_text())
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
        # the one waiting for an approval takes the same approve call, and its step still
        # sees the alert it was started for
        waiting = _firing(second, admin, stuck)
        run = waiting["remediations"][0]["execution_id"]
        wait_for_execution(second, admin, run, "waiting_approval")
        _until(
            "the approval asked again",
            lambda: second.request("GET", f"/api/v1/executions/{run}", admin)[2]["approval"],
        )
        code, _, _ = second.request("POST", f"/api/v1/executions/{run}/approve", admin, {})
        assert code == 200
        # (seen succeeded by the remediation itself: its re-check is due five minutes later)
        _until("the run succeeded", lambda: _execution_status(second, admin, stuck) == "succeeded")
        # the resumed ones go on: once the metrics are healthy and the re-check is due, both
        # alerts are resolved, and each fix ran once
        healthy = 'e2e_backlog{queue="mail"} 0\ne2e_stuck{queue="jobs"} 0\ne2e_disk_full 1\n'
        _import_metrics(second, secret, healthy)
        assert second.cli("tick", "--advance", "5m").returncode == 0

        def resolved(rule_id: str) -> dict[str, Any] | None:
            shown = _firing(second, admin, rule_id)
            ended = shown["remediations"][0]["status"] != "running"
            return shown if ended and shown["status"] == "resolved" else None

        for rule_id in (backlog, stuck):
            final = _until("the alert resolved", lambda rule_id=rule_id: resolved(rule_id))
            assert [r["status"] for r in final["remediations"]] == ["resolved"]
        assert sorted(map(str, received)) == sorted(
            map(str, [{"q": "mail"}, {"alert": waiting["id"]}])
        )
    finally:
        assert stop_dev(second) == 0
