"""Persistence of workflows, versions, executions and approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.workflow.execution import (
    Approval,
    ApprovalStatus,
    Execution,
    ExecutionStatus,
    Workflow,
    WorkflowVersion,
)
from orchestrix.ports.unit_of_work import UnitOfWork


class WorkflowRepository(Protocol):
    def add_workflow(self, workflow: Workflow) -> None: ...

    def get_workflow(
        self, workflow_id: str, *, include_deleted: bool = False
    ) -> Workflow | None: ...

    def list_workflows(self, page: PageRequest) -> Page[Workflow]: ...

    def save_workflow(self, workflow: Workflow) -> None: ...

    def name_taken(self, name: str, except_id: str | None = None) -> bool: ...

    def add_version(self, version: WorkflowVersion) -> None: ...

    def get_version(self, workflow_id: str, version: int) -> WorkflowVersion | None: ...

    def all_versions(self) -> list[WorkflowVersion]:
        """Every version of every workflow of the tenant, deleted workflows included."""
        ...

    def add_execution(self, execution: Execution) -> None: ...

    def get_execution(self, execution_id: str) -> Execution | None: ...

    def execution_by_key(self, workflow_id: str, key: str) -> Execution | None: ...

    def execution_by_arn(self, arn: str) -> Execution | None: ...

    def list_executions(
        self, page: PageRequest, workflow_id: str | None, status: ExecutionStatus | None
    ) -> Page[Execution]: ...

    def unfinished_executions(self) -> list[Execution]:
        """Every execution of the tenant not yet stored as ended, oldest first."""
        ...

    def finish_execution(self, execution: Execution) -> bool:
        """Store a terminal state unless one is stored already; True when this call did."""
        ...

    def set_reject_reason(self, execution_id: str, reason: str) -> None: ...

    def add_approval(self, approval: Approval) -> None: ...

    def pending_approval(self, execution_id: str) -> Approval | None: ...

    def decide_approval(
        self,
        token: str,
        status: ApprovalStatus,
        at: datetime,
        by: str | None,
        reason: str | None,
    ) -> bool: ...

    def close_pending_approvals(self, execution_id: str, status: ApprovalStatus) -> None: ...


class WorkflowUnitOfWork(UnitOfWork, Protocol):
    workflows: WorkflowRepository

    def __enter__(self) -> WorkflowUnitOfWork: ...


class WorkflowUnitOfWorkFactory(Protocol):
    def __call__(
        self, tenant_id: str, actor: str, request_id: str | None = None
    ) -> WorkflowUnitOfWork: ...
