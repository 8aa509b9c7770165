"""Workflows survive a restart of `orchestrix dev`, although its AWS emulator keeps them in
memory: state machines come back from the database, approval waits are started again."""

from __future__ import annotations

import pytest

from orchestrix.local.aws import free_port
from tests.e2e.conftest import DevServer, start_dev, stop_dev, wait_for_execution

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

APPROVAL = {
    "name": "approve-then-succeed",
    "steps": [
        {"id": "ask", "type": "approval", "message": "Go on?"},
        {"id": "done", "type": "succeed"},
    ],
}
LONG_WAIT = {
    "name": "long-wait",
    "steps": [{"id": "pause", "type": "wait", "seconds": 3600}, {"id": "done", "type": "succeed"}],
}


def _execute(dev: DevServer, token: str, workflow_id: str) -> str:
    code, _, started = dev.request("POST", f"/api/v1/workflows/{workflow_id}/execute", token, {})
    assert code == 201, started
    return str(started["id"])


def test_workflows_and_approval_waits_survive_a_clean_restart(tmp_path):
    home = tmp_path / ".orchestrix"
    home.mkdir()
    first = start_dev(home, free_port())
    editor, responder = first.token("restart", "editor"), first.token("restart", "responder")
    try:
        # given a workflow waiting for an approval and another one in a long wait
        code, _, approval = first.request("POST", "/api/v1/workflows", editor, APPROVAL)
        assert code == 201, approval
        code, _, waiting = first.request("POST", "/api/v1/workflows", editor, LONG_WAIT)
        assert code == 201, waiting
        asked = _execute(first, responder, approval["id"])
        wait_for_execution(first, responder, asked, "waiting_approval")
        paused = _execute(first, responder, waiting["id"])
        assert first.request("GET", f"/api/v1/executions/{paused}", responder)[2]["status"] == (
            "running"
        )
    finally:
        # when the server stops cleanly and starts again on the same data
        assert stop_dev(first) == 0
    second = start_dev(home, free_port())
    try:
        # then the workflow runs again (its state machine is back) ...
        again = _execute(second, responder, approval["id"])
        wait_for_execution(second, responder, again, "waiting_approval")
        code, _, _ = second.request("POST", f"/api/v1/executions/{again}/approve", responder, {})
        assert code == 200
        wait_for_execution(second, responder, again, "succeeded")
        # ... the execution that waited before the restart still waits, and the same
        # approve call completes it
        shown = wait_for_execution(second, responder, asked, "waiting_approval")
        assert shown["approval"]["step_id"] == "ask"
        code, _, decided = second.request(
            "POST", f"/api/v1/executions/{asked}/approve", responder, {"reason": "after restart"}
        )
        assert code == 200, decided
        done = wait_for_execution(second, responder, asked, "succeeded")
        assert [s["id"] for s in done["steps"]] == ["ask", "done"]
        # ... the one interrupted in its wait failed, saying why
        failed = wait_for_execution(second, responder, paused, "failed")
        assert failed["error"] == "RuntimeRestarted"
        assert "local runtime stopped" in failed["cause"]
        # ... and the restart of the approval wait is on the console and in the audit log
        assert "1 execution(s) waiting for approval again" in second.log.read_text()
        admin = second.token("restart", "admin")
        code, _, audit = second.request("GET", "/api/v1/audit-logs?action=execution.restart", admin)
        assert code == 200
        assert [entry["resource_id"] for entry in audit["items"]] == [asked]
    finally:
        assert stop_dev(second) == 0
