"""The engine that runs compiled workflows (Step Functions on AWS, moto's engine locally)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from orchestrix.domain.workflow.execution import EngineExecution, StepRun


class ExecutionGone(Exception):
    """The engine has no such execution (never started, or purged)."""


class TokenRefused(Exception):
    """The approval's task token is no longer answerable (answered, timed out, stopped)."""


class WorkflowEngine(Protocol):
    def machine_name(self, tenant_id: str, workflow_id: str, version: int) -> str: ...

    def create_machine(self, name: str, asl: Mapping[str, Any]) -> str:
        """Create (or replace) the state machine; returns its ARN."""
        ...

    def execution_arn(self, machine_arn: str, name: str) -> str: ...

    def start(self, machine_arn: str, name: str, execution_input: Mapping[str, Any]) -> str: ...

    def describe(self, execution_arn: str) -> EngineExecution: ...

    def steps(self, execution_arn: str, step_types: Mapping[str, str]) -> list[StepRun]:
        """Per-step progress from the history; `step_types` maps step id -> type."""
        ...

    def stop(self, execution_arn: str, cause: str) -> None: ...

    def approve(self, token: str, output: Mapping[str, Any]) -> None: ...

    def reject(self, token: str, reason: str) -> None: ...
