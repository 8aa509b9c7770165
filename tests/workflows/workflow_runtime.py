"""Helpers for real ASL executions on moto: a local HTTP target and a runtime handle."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess

from orchestrix.domain.workflow.validation import parse_workflow
from orchestrix.services.workflow_compiler import compile_workflow, execution_input

REGION = "us-east-1"
STEP_FUNCTION = "workflow-step"
APPROVAL_FUNCTION = "workflow-approval"
FINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")

logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)


@dataclass
class LocalHttp:
    """Answers GETs from a per-path script of statuses and records every request."""

    url: str
    scripts: dict[str, list[int]] = field(default_factory=dict)
    received: list[tuple[str, str, bytes]] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)  # path -> Location (302)
    delays: dict[str, float] = field(default_factory=dict)  # path -> seconds before answering
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, *statuses: int) -> None:
        with self.lock:
            self.scripts[path] = list(statuses)

    def next_status(self, path: str) -> int:
        with self.lock:
            script = self.scripts.get(path, [200])
            return script.pop(0) if len(script) > 1 else script[0]

    def bodies(self, path: str) -> list[Any]:
        with self.lock:
            return [json.loads(body) for _, p, body in self.received if p == path]


def boto3_caller(
    tenant_id: str, service: str, operation: str, params: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The emulator checks no IAM: every tenant acts with the test's own clients."""
    from botocore import xform_name

    client = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
    result: Mapping[str, Any] = getattr(client, xform_name(operation))(**params)
    return result


@dataclass
class Runtime:
    sfn: Any
    step_arn: str
    approval_arn: str
    approvals: queue.Queue[dict[str, Any]]
    counter: int = 0

    @property
    def functions(self) -> dict[str, str]:
        kinds = ("http", "notify", "aws", "condition")
        return {kind: self.step_arn for kind in kinds} | {"approval": self.approval_arn}

    def start(
        self,
        definition: dict[str, Any],
        inputs: dict[str, Any],
        alert: dict[str, Any] | None = None,
    ) -> str:
        workflow = parse_workflow(definition)
        asl = compile_workflow(workflow, self.functions)
        self.counter += 1
        machine = self.sfn.create_state_machine(
            name=f"{workflow.name}-v{self.counter}",
            definition=json.dumps(asl),
            roleArn="arn:aws:iam::123456789012:role/orchestrix-states",
        )["stateMachineArn"]
        started = self.sfn.start_execution(
            stateMachineArn=machine,
            name=f"run-{self.counter}",
            input=json.dumps(execution_input(inputs, alert, {"tenant_id": "t-1"})),
        )
        return str(started["executionArn"])

    def wait_until_done(self, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] in FINAL:
                return described
            time.sleep(0.05)
        raise AssertionError(f"{execution_arn} still running after {timeout}s")

    def next_approval(self, timeout: float = 15.0) -> dict[str, Any]:
        return self.approvals.get(timeout=timeout)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.sfn.get_execution_history(
            executionArn=execution_arn, maxResults=1000
        )["events"]
        return sorted(events, key=lambda e: e["id"])


def release_running(sfn: Any) -> None:
    """Stop what a failed test left running: moto keeps a task-token wait alive after
    stop_execution, so answer its pending callbacks too."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends["123456789012"][REGION]
    for execution in backend._get_executions():
        if str(getattr(execution.exec_status, "value", execution.exec_status)) != "RUNNING":
            continue
        with contextlib.suppress(ClientError):
            sfn.stop_execution(executionArn=execution.execution_arn)
        worker = execution.exec_worker
        if worker is None:
            continue
        callbacks = worker.env.callback_pool_manager
        for token in list(callbacks._pool):
            callbacks.notify(token, CallbackOutcomeSuccess(callback_id=token, output="{}"))
