"""The WorkflowEngine on AWS Step Functions (and on moto's engine, which runs the same ASL).

One state machine per workflow version, `{prefix}-{tenant}-{workflow}-v{n}`: versions are
immutable and moto cannot start executions of published versions or aliases, so a machine
per version works the same in both places.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from orchestrix.adapters.aws.execution_history import step_runs
from orchestrix.adapters.aws.state_machines import stage_prefix
from orchestrix.domain.workflow.error_text import error_message, without_traces
from orchestrix.domain.workflow.execution import EngineExecution, StepRun
from orchestrix.ports.workflow_engine import ExecutionGone, TokenRefused

MAX_NAME = 80
_TOKEN_ERRORS = ("InvalidToken", "TaskDoesNotExist", "TaskTimedOut")


class StepFunctionsEngine:
    def __init__(self, client: Any, prefix: str, role_arn: str, *, local: bool = False) -> None:
        self._sfn = client
        self._prefix = stage_prefix(prefix)
        self._role_arn = role_arn
        self._local = local

    def machine_name(self, tenant_id: str, workflow_id: str, version: int) -> str:
        name = f"{self._prefix}-{tenant_id}-{workflow_id}-v{version}"
        if len(name) <= MAX_NAME:
            return name
        # Too long for Step Functions: keep the readable ends, make the middle a hash.
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        tail = f"-{digest}-v{version}"
        return f"{self._prefix[: MAX_NAME - len(tail)]}{tail}"

    def create_machine(self, name: str, asl: Mapping[str, Any]) -> str:
        definition = json.dumps(asl, separators=(",", ":"))
        try:
            created = self._sfn.create_state_machine(
                name=name, definition=definition, roleArn=self._role_arn, type="STANDARD"
            )
        except ClientError as exc:
            if _code(exc) != "StateMachineAlreadyExists":
                raise
            arn = self._machine_arn(name)
            self._sfn.update_state_machine(stateMachineArn=arn, definition=definition)
            return arn
        return str(created["stateMachineArn"])

    def _machine_arn(self, name: str) -> str:
        for page in self._sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == name:
                    return str(machine["stateMachineArn"])
        raise ExecutionGone(f"state machine {name} vanished")

    def execution_arn(self, machine_arn: str, name: str) -> str:
        return f"{machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"

    def start(self, machine_arn: str, name: str, execution_input: Mapping[str, Any]) -> str:
        started = self._sfn.start_execution(
            stateMachineArn=machine_arn, name=name, input=json.dumps(execution_input)
        )
        return str(started["executionArn"])

    def describe(self, execution_arn: str) -> EngineExecution:
        try:
            described = self._sfn.describe_execution(executionArn=execution_arn)
        except ClientError as exc:
            if _code(exc) == "ExecutionDoesNotExist":
                raise ExecutionGone(execution_arn) from exc
            raise
        output = described.get("output")
        cause = error_message(described.get("cause"))  # never store a stack trace
        return EngineExecution(
            status=str(described["status"]),
            output=without_traces(json.loads(output)) if output else None,
            error=described.get("error"),
            cause=None if cause is None else str(cause),
            stopped_at=described.get("stopDate"),
        )

    def steps(self, execution_arn: str, step_types: Mapping[str, str]) -> list[StepRun]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            try:
                page = self._sfn.get_execution_history(**kwargs)
            except ClientError as exc:
                if _code(exc) == "ExecutionDoesNotExist":
                    return []
                raise
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                break
            kwargs["nextToken"] = token
        return step_runs(events, step_types)

    def stop(self, execution_arn: str, cause: str) -> None:
        try:
            self._sfn.stop_execution(executionArn=execution_arn, error="Cancelled", cause=cause)
        except ClientError as exc:
            if _code(exc) != "ExecutionDoesNotExist":
                raise
        if self._local:
            release_token_waits(execution_arn)

    def approve(self, token: str, output: Mapping[str, Any]) -> None:
        try:
            self._sfn.send_task_success(taskToken=token, output=json.dumps(output))
        except ClientError as exc:
            if _code(exc) in _TOKEN_ERRORS:
                raise TokenRefused(str(exc)) from exc
            raise

    def reject(self, token: str, reason: str) -> None:
        try:
            self._sfn.send_task_failure(taskToken=token, error="Rejected", cause=reason[:32768])
        except ClientError as exc:
            if _code(exc) in _TOKEN_ERRORS:
                raise TokenRefused(str(exc)) from exc
            raise


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def release_token_waits(execution_arn: str) -> None:
    """moto only: a stopped execution waiting on a task token stays RUNNING until the token is
    answered (AWS aborts it at once), so answer its pending callbacks; it then ends ABORTED."""
    with contextlib.suppress(ImportError):
        from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        for regions in list(stepfunctions_parser_backends.values()):
            for backend in list(regions.values()):
                for execution in backend._get_executions():
                    if execution.execution_arn != execution_arn:
                        continue
                    worker = execution.exec_worker
                    if worker is None:
                        continue
                    callbacks = worker.env.callback_pool_manager
                    for token in list(callbacks._pool):
                        callbacks.notify(
                            token, CallbackOutcomeSuccess(callback_id=token, output="{}")
                        )
