"""The state machines declared in `wiring.STATE_MACHINES`: their names and ARNs as the
functions that start them compute them, and the Step Functions adapter for the remediation one.

The CDK names each `<stage prefix>-<name>` (its STATE_MACHINE_PREFIX ends with the dash; a
hand-set one may not); the ARN's partition, region and account are those of the stage's
functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError


def stage_prefix(prefix: str) -> str:
    """STATE_MACHINE_PREFIX without its trailing dash: every machine name adds its own, so
    `orchestrix-dev-` and `orchestrix-dev` both give `orchestrix-dev-<name>`."""
    return prefix.removesuffix("-")


def declared_name(prefix: str, name: str) -> str:
    return f"{stage_prefix(prefix)}-{name}"


def declared_arn(prefix: str, name: str, any_function_arn: str) -> str:
    """`any_function_arn`: arn:<partition>:lambda:<region>:<account>:function:<name>."""
    parts = any_function_arn.split(":")
    partition, region, account = parts[1], parts[3], parts[4]
    return f"arn:{partition}:states:{region}:{account}:stateMachine:{declared_name(prefix, name)}"


class StepFunctionsRemediationMachine:
    """`RemediationMachine` on Step Functions; the client is made on first use, so building
    the rule evaluator costs nothing when no alert needs remediation."""

    def __init__(self, client: Callable[[], Any], machine_arn: str) -> None:
        self._client = client
        self._arn = machine_arn

    @property
    def _sfn(self) -> Any:
        return self._client()

    def execution_arn(self, name: str) -> str:
        return f"{self._arn.replace(':stateMachine:', ':execution:', 1)}:{name}"

    def start(self, name: str, execution_input: Mapping[str, Any]) -> None:
        try:
            self._sfn.start_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps(execution_input)
            )
        except ClientError as exc:
            # A retried start of the same attempt: the execution already exists.
            if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise

    def has_ended(self, execution_arn: str) -> bool:
        status = self._status(execution_arn)
        return status is None or status != "RUNNING"

    def knows(self, execution_arn: str) -> bool:
        return self._status(execution_arn) is not None

    def _status(self, execution_arn: str) -> str | None:
        try:
            described = self._sfn.describe_execution(executionArn=execution_arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return None
            raise
        return str(described["status"])
