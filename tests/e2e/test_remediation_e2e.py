"""Auto-remediation against a real `orchestrix dev`: metrics in, a workflow, a rule naming it,
ticks; the workflow runs with the alert's labels and the alert is resolved once healthy."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.conftest import DevServer


@pytest.fixture
def runbook_target() -> Iterator[tuple[str, list[Any]]]:
    """The service the remediation workflow calls: records each POST body, answers 200."""
    received: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(json.loads(self.rfile.read(length) or b"null"))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join()


def _import_metrics(dev: DevServer, secret: str, text: str) -> None:
    request = urllib.request.Request(
        dev.url + "/api/v1/metrics/import",
        data=text.encode(),
        method="POST",
        headers={"Content-Type": "text/plain; version=0.0.4", "Authorization": f"Bearer {secret}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 204


def _alert(dev: DevServer, token: str, alert_id: str) -> dict[str, Any]:
    status, _, body = dev.request("GET", f"/api/v1/alerts/{alert_id}", token)
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def _until(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_rule_with_a_remediation_workflow_resolves_its_alert(
    dev: DevServer, runbook_target: tuple[str, list[Any]]
) -> None:
    url, received = runbook_target
    tenant = f"e2e-remediate-{uuid.uuid4().hex[:8]}"
    admin = dev.token(tenant, "admin")
    created = dev.cli("api-key", "create", "--tenant", tenant, "--scope", "metrics:write")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.split()[0]

    # Given stuck jobs, a workflow that restarts the worker, and a rule that runs it
    _import_metrics(dev, secret, 'e2e_jobs_stuck{queue="billing"} 40\n')
    status, _, workflow = dev.request(
        "POST",
        "/api/v1/workflows",
        admin,
        {
            "name": "restart-worker",
            "steps": [
                {
                    "id": "restart",
                    "type": "http",
                    "request": {
                        "method": "POST",
                        "url": f"{url}/restart",
                        "body": {"queue": "{{ alert.labels.queue }}", "alert": "{{ alert.id }}"},
                    },
                    "expect_status": [200],
                },
                {"id": "done", "type": "succeed"},
            ],
        },
    )
    assert status == 201, workflow
    status, _, rule = dev.request(
        "POST",
        "/api/v1/alert-rules",
        admin,
        {
            "name": "JobsStuck",
            "expr": "e2e_jobs_stuck > 10",
            "for": "1m",
            "severity": "critical",
            "remediation_workflow_id": workflow["id"],
        },
    )
    assert status == 201, rule

    # When two minutes pass, the rule fires and its remediation starts
    ticked = dev.cli("tick", "--advance", "2m")
    assert ticked.returncode == 0, ticked.stdout + ticked.stderr
    status, _, listed = dev.request("GET", f"/api/v1/alerts?rule_id={rule['id']}", admin)
    assert status == 200, listed
    (alert,) = listed["items"]
    assert alert["status"] == "firing"

    # Then the workflow execution, with the alert's labels as its input, reaches succeeded
    def workflow_done() -> dict[str, Any] | None:
        shown = _alert(dev, admin, alert["id"])["remediations"]
        return shown[0] if shown and shown[0]["execution_status"] == "succeeded" else None

    remediation = _until("the remediation workflow succeeded", workflow_done)
    status, _, execution = dev.request(
        "GET", f"/api/v1/executions/{remediation['execution_id']}", admin
    )
    assert status == 200, execution
    assert execution["status"] == "succeeded"
    assert execution["input"] == alert["labels"]
    assert alert["labels"] == {"alertname": "JobsStuck", "queue": "billing", "severity": "critical"}
    assert received == [{"queue": "billing", "alert": alert["id"]}]

    # When the jobs drain and the re-check comes (five minutes later on the local clock)
    _import_metrics(dev, secret, 'e2e_jobs_stuck{queue="billing"} 0\n')
    assert dev.cli("tick", "--advance", "5m").returncode == 0

    # Then the remediation is over and the alert is resolved
    def resolved() -> dict[str, Any] | None:
        shown = _alert(dev, admin, alert["id"])
        ended = shown["remediations"][0]["status"] != "running"
        return shown if ended and shown["status"] == "resolved" else None

    final = _until("the alert resolved", resolved)
    assert [(r["status"], r["workflow_id"]) for r in final["remediations"]] == [
        ("resolved", workflow["id"])
    ]
