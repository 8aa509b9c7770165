"""Real ASL executions on moto's Step Functions engine, step Lambdas in-process, and a real
HTTP server on 127.0.0.1 standing in for the services a workflow calls."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws
from workflow_runtime import (
    APPROVAL_FUNCTION,
    REGION,
    STEP_FUNCTION,
    LocalHttp,
    Runtime,
    boto3_caller,
    release_running,
)

from orchestrix.adapters.http_client import send
from orchestrix.domain.egress import EgressPolicy
from orchestrix.local import lambda_hook
from orchestrix.services.workflow_steps import StepTools, run_step


@pytest.fixture
def local_http() -> Iterator[LocalHttp]:

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with state.lock:
                state.received.append((self.command, self.path, body))
            time.sleep(state.delays.get(self.path, 0.0))
            if self.path in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = state.next_status(self.path)
            payload = json.dumps({"path": self.path, "status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # clients that gave up (timeout tests) are expected

    server = QuietServer(("127.0.0.1", 0), Handler)
    state = LocalHttp(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    approvals: queue.Queue[dict[str, Any]] = queue.Queue()
    tools = StepTools(egress=EgressPolicy.for_stage(local=True), http_client=send, aws=boto3_caller)

    def step_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return run_step(event, tools)

    def approval_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        shown = run_step(event, tools)
        approvals.put({"token": event["token"], "meta": event["context"]["meta"], **shown})
        return shown

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(
            RoleName="orchestrix-step",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lam = boto3.client("lambda", region_name=REGION)
        arns = {}
        for name in (STEP_FUNCTION, APPROVAL_FUNCTION):
            arns[name] = lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": lambda_hook.placeholder_zip()},
            )["FunctionArn"]
        sfn = boto3.client("stepfunctions", region_name=REGION)
        with lambda_hook.installed(
            {STEP_FUNCTION: step_handler, APPROVAL_FUNCTION: approval_handler}
        ):
            try:
                yield Runtime(sfn, arns[STEP_FUNCTION], arns[APPROVAL_FUNCTION], approvals)
            finally:
                release_running(sfn)
