"""The README's workflow walk-through against a real `orchestrix dev`, as curl would do it."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import DevServer, wait_for_execution

pytestmark = pytest.mark.e2e


@pytest.fixture
def service() -> Iterator[tuple[str, list[bytes]]]:
    """A service whose /health answers 503 and whose /hook records what it is sent."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join()


def test_restart_workflow_runs_end_to_end_on_the_dev_server(
    dev: DevServer, service: tuple[str, list[bytes]]
) -> None:
    # given an ECS service in the dev server's local AWS, and the issue's workflow
    host, received = service
    aws = json.loads((dev.home / "aws.json").read_text())
    ecs = boto3.client(
        "ecs",
        endpoint_url=aws["endpoint_url"],
        region_name=aws["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "api", "image": "api:1", "memory": 128}]
    )
    ecs.create_service(cluster="prod", serviceName="api", taskDefinition="api", desiredCount=1)
    tenant = f"e2e-{uuid.uuid4().hex[:8]}"
    editor, responder = dev.token(tenant, "editor"), dev.token(tenant, "responder")
    definition = {
        "name": "restart-api",
        "inputs": {"type": "object", "properties": {"service": {"type": "string"}}},
        "steps": [
            {
                "id": "check",
                "type": "http",
                "request": {"url": "http://{{ inputs.service }}/health"},
            },
            {
                "id": "down",
                "type": "condition",
                "if": {"path": "steps.check.status", "op": "ne", "value": 200},
                "then": "ask",
                "else": "ok",
            },
            {"id": "ask", "type": "approval", "message": "Restart {{ inputs.service }}?"},
            {
                "id": "restart",
                "type": "aws",
                "action": "ecs:UpdateService",
                "params": {"cluster": "prod", "service": "api", "forceNewDeployment": True},
            },
            {"id": "settle", "type": "wait", "seconds": 1},
            {
                "id": "tell",
                "type": "notify",
                "channel": {"type": "webhook", "url": f"http://{host}/hook"},
                "message": "{{ inputs.service }}: {{ steps.check.status }}",
            },
            {"id": "ok", "type": "succeed"},
        ],
    }

    # when it is created, run, and approved over HTTP
    code, _, created = dev.request("POST", "/api/v1/workflows", editor, definition)
    assert code == 201, created
    code, _, started = dev.request(
        "POST",
        f"/api/v1/workflows/{created['id']}/execute",
        responder,
        {"input": {"service": host}},
    )
    assert code == 201, started
    wait_for_execution(dev, responder, started["id"], "waiting_approval")
    code, _, _ = dev.request("POST", f"/api/v1/executions/{started['id']}/approve", responder, {})
    assert code == 200
    done = wait_for_execution(dev, responder, started["id"], "succeeded")

    # then every step succeeded and the receiver got the message once
    assert [s["id"] for s in done["steps"]] == [
        "check", "down", "ask", "restart", "settle", "tell", "ok"
    ]  # fmt: skip
    assert [json.loads(body)["message"] for body in received] == [f"{host}: 503"]
