"""Stored workflows, their versions, executions and approvals (plain records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ExecutionStatus(StrEnum):
    RUNNING = "running"
    WAITING_APPROVAL = "waiting_approval"  # shown only: stored as running + a pending approval
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def terminal(self) -> bool:
        return self not in (ExecutionStatus.RUNNING, ExecutionStatus.WAITING_APPROVAL)


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Workflow:
    id: str
    tenant_id: str
    name: str
    description: str
    current_version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    deleted_at: datetime | None = None


@dataclass(frozen=True)
class WorkflowVersion:
    workflow_id: str
    version: int
    definition: dict[str, Any]
    asl: dict[str, Any]
    state_machine_arn: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class Execution:
    id: str
    tenant_id: str
    workflow_id: str
    workflow_version: int
    status: ExecutionStatus
    input: dict[str, Any]
    sfn_execution_arn: str
    started_by: str
    started_at: datetime
    idempotency_key: str | None = None
    output: dict[str, Any] | None = None
    finished_at: datetime | None = None
    error: str | None = None
    cause: str | None = None
    cancel_reason: str | None = None
    reject_reason: str | None = None


@dataclass(frozen=True)
class Approval:
    execution_id: str
    step_id: str
    token: str
    message: str
    status: ApprovalStatus
    requested_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None


@dataclass
class StepRun:
    """One step as the execution history shows it (the latest visit when a step repeats)."""

    id: str
    type: str
    status: str  # running | waiting_approval | succeeded | failed | cancelled
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output: Any = None
    error: dict[str, Any] | None = None
    attempts: int = 0


@dataclass(frozen=True)
class EngineExecution:
    """What the workflow engine says about a run."""

    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    output: dict[str, Any] | None = None
    error: str | None = None
    cause: str | None = None
    stopped_at: datetime | None = None
