"""Settling a workflow execution's terminal state exactly once: stored, then published.

Every execution use case reads the engine's view through `_refresh`, so whichever caller
first sees an execution end (a read, a decision, the status-change event) stores it, and
only that caller publishes the event. `ExecutionSettlement` also holds the service's ports.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from orchestrix.domain.errors import NotFound
from orchestrix.domain.identity import Principal, system_principal
from orchestrix.domain.workflow.execution import (
    ApprovalStatus,
    EngineExecution,
    Execution,
    ExecutionStatus,
)
from orchestrix.ports.clock import Clock
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.workflow_engine import ExecutionGone, WorkflowEngine
from orchestrix.ports.workflow_store import WorkflowUnitOfWorkFactory

log = logging.getLogger(__name__)

_FINAL: Mapping[str, ExecutionStatus] = {
    "SUCCEEDED": ExecutionStatus.SUCCEEDED,
    "FAILED": ExecutionStatus.FAILED,
    "TIMED_OUT": ExecutionStatus.TIMED_OUT,
    "ABORTED": ExecutionStatus.CANCELLED,
}
# What happens to an approval still pending when its execution ends.
_APPROVAL_AFTER = {
    ExecutionStatus.TIMED_OUT: ApprovalStatus.EXPIRED,
    ExecutionStatus.CANCELLED: ApprovalStatus.CANCELLED,
}


class ExecutionSettlement:
    """The ports every execution use case shares, and the one way an execution ends."""

    def __init__(
        self,
        uow: WorkflowUnitOfWorkFactory,
        engine: WorkflowEngine,
        clock: Clock,
        events: EventPublisher,
        *,
        refresh_lists: bool = False,
    ) -> None:
        self._uow = uow
        self._engine = engine
        self._clock = clock
        self._events = events
        self._refresh_lists = refresh_lists  # locally nothing else reports status changes

    def track(self, tenant_id: str, execution_arn: str) -> Execution | None:
        """Called on a Step Functions status-change event: settle a terminal state."""
        with self._uow(tenant_id, system_principal(tenant_id, "execution-tracker").actor) as uow:
            execution = uow.workflows.execution_by_arn(execution_arn)
        return None if execution is None else self._refresh(tenant_id, execution)

    def _find(self, principal: Principal, execution_id: str) -> Execution:
        with self._uow(principal.tenant_id, principal.actor) as uow:
            execution = uow.workflows.get_execution(execution_id)
        if execution is None:
            raise NotFound("execution", execution_id)
        return execution

    def _refresh(self, tenant_id: str, execution: Execution) -> Execution:
        if execution.status.terminal:
            return execution
        try:
            engine = self._engine.describe(execution.sfn_execution_arn)
        except ExecutionGone:
            engine = EngineExecution("FAILED", error="ExecutionNotFound", cause="never started")
        final = _FINAL.get(engine.status)
        if final is None:
            return execution
        if final is ExecutionStatus.FAILED and engine.error == "States.Timeout":
            final = ExecutionStatus.TIMED_OUT  # an approval (or task) ran out of time
        cause = engine.cause
        if engine.error == "Rejected":
            cause = execution.reject_reason or cause  # the engine may drop a rejection's cause
        ended = replace(
            execution,
            status=final,
            output=engine.output if final is ExecutionStatus.SUCCEEDED else None,
            finished_at=engine.stopped_at or self._clock.now(),
            error=engine.error,
            cause=cause,
        )
        return self._settle(tenant_id, ended)

    def _settle(self, tenant_id: str, ended: Execution) -> Execution:
        """Store a terminal state; the one caller that stores it publishes the event."""
        actor = system_principal(tenant_id, "workflow-engine").actor
        with self._uow(tenant_id, actor) as uow:
            first = uow.workflows.finish_execution(ended)
            uow.workflows.close_pending_approvals(
                ended.id, _APPROVAL_AFTER.get(ended.status, ApprovalStatus.CANCELLED)
            )
            stored = uow.workflows.get_execution(ended.id) or ended
            uow.commit()
        if first:
            try:
                self._events.publish(
                    tenant_id, f"workflow.execution.{ended.status.value}", _event(ended)
                )
            except Exception:
                log.exception("could not publish the end of %s", ended.id)
        return stored


def execution_snapshot(execution: Execution) -> dict[str, Any]:
    """An execution as the audit log records it."""
    return {
        "id": execution.id,
        "workflow_id": execution.workflow_id,
        "workflow_version": execution.workflow_version,
        "status": execution.status.value,
        "input": execution.input,
        "idempotency_key": execution.idempotency_key,
        "cancel_reason": execution.cancel_reason,
    }


def _event(execution: Execution) -> dict[str, Any]:
    return {
        "execution_id": execution.id,
        "workflow_id": execution.workflow_id,
        "workflow_version": execution.workflow_version,
        "status": execution.status.value,
        "error": execution.error,
        "cause": execution.cause,
        "started_at": execution.started_at.isoformat(),
        "finished_at": execution.finished_at.isoformat() if execution.finished_at else None,
    }
