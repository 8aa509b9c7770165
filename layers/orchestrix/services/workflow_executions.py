"""Use cases for workflow executions: start, read (refreshing from the engine), cancel,
approve, reject, and settle a terminal state exactly once (stored, then published)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from orchestrix.domain.errors import Conflict, NotFound
from orchestrix.domain.identity import Principal, Role, system_principal
from orchestrix.domain.ids import new_id
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.workflow.execution import (
    Approval,
    ApprovalStatus,
    EngineExecution,
    Execution,
    ExecutionStatus,
    StepRun,
    WorkflowVersion,
)
from orchestrix.domain.workflow.model import AnyStep, ParallelStep, WorkflowDefinition
from orchestrix.ports.clock import Clock
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.workflow_engine import ExecutionGone, TokenRefused, WorkflowEngine
from orchestrix.ports.workflow_store import WorkflowUnitOfWork, WorkflowUnitOfWorkFactory
from orchestrix.services.workflow_compiler import execution_input
from orchestrix.services.workflow_inputs import check_inputs

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


@dataclass(frozen=True)
class ExecutionView:
    execution: Execution
    status: ExecutionStatus  # waiting_approval while an approval is pending
    approval: Approval | None
    steps: list[StepRun]


def step_types(definition: Mapping[str, Any]) -> dict[str, str]:
    """Step id -> type for every step, those inside parallel branches included."""

    def walk(steps: Sequence[AnyStep]) -> Iterator[tuple[str, str]]:
        for step in steps:
            yield step.id, step.type
            if isinstance(step, ParallelStep):
                for branch in step.branches:
                    yield from walk(branch)

    return dict(walk(WorkflowDefinition.model_validate(definition).steps))


class ExecutionService:
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

    def execute(
        self,
        principal: Principal,
        workflow_id: str,
        inputs: dict[str, Any],
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> tuple[Execution, bool]:
        """Start a run of the current version; (execution, False) for a replayed key."""
        principal.require_role(Role.RESPONDER)
        now = self._clock.now()
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            workflow = uow.workflows.get_workflow(workflow_id)
            if workflow is None:
                raise NotFound("workflow", workflow_id)
            if idempotency_key:
                existing = uow.workflows.execution_by_key(workflow_id, idempotency_key)
                if existing is not None:
                    return existing, False
            version = self._version(uow, workflow_id, workflow.current_version)
            check_inputs(version.definition.get("inputs") or {}, inputs)
            execution_id = new_id("exe", int(now.timestamp() * 1000))
            execution = Execution(
                id=execution_id,
                tenant_id=principal.tenant_id,
                workflow_id=workflow_id,
                workflow_version=version.version,
                status=ExecutionStatus.RUNNING,
                input=inputs,
                sfn_execution_arn=self._engine.execution_arn(
                    version.state_machine_arn, execution_id
                ),
                started_by=principal.subject,
                started_at=now,
                idempotency_key=idempotency_key,
            )
            uow.workflows.add_execution(execution)
            uow.record("workflow.execute", "execution", execution_id, after=_snapshot(execution))
            uow.commit()
        meta = {
            "tenant_id": principal.tenant_id,
            "workflow_id": workflow_id,
            "version": version.version,
            "execution_id": execution_id,
        }
        try:
            self._engine.start(
                version.state_machine_arn, execution_id, execution_input(inputs, None, meta)
            )
        except Exception as exc:
            log.exception("could not start %s", execution_id)
            failed = replace(
                execution,
                status=ExecutionStatus.FAILED,
                finished_at=self._clock.now(),
                error="StartFailed",
                cause=str(exc)[:1000],
            )
            self._settle(principal.tenant_id, failed)
            return failed, True
        return execution, True

    def list(
        self,
        principal: Principal,
        page: PageRequest,
        workflow_id: str | None = None,
        status: ExecutionStatus | None = None,
    ) -> Page[tuple[Execution, ExecutionStatus]]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            if self._refresh_lists:
                listed = uow.workflows.list_executions(page, workflow_id, None)
                running = [e for e in listed.items if not e.status.terminal]
            else:
                running = []
        for execution in running:
            self._refresh(principal.tenant_id, execution)
        stored = None if status is ExecutionStatus.WAITING_APPROVAL else status
        with self._uow(principal.tenant_id, principal.actor) as uow:
            found = uow.workflows.list_executions(page, workflow_id, stored)
            shown = [(e, self._shown(uow, e)) for e in found.items]
        if status is ExecutionStatus.WAITING_APPROVAL:
            shown = [pair for pair in shown if pair[1] is ExecutionStatus.WAITING_APPROVAL]
        return Page(shown, found.next_cursor)

    def get(self, principal: Principal, execution_id: str) -> ExecutionView:
        principal.require_role(Role.VIEWER)
        execution = self._refresh(principal.tenant_id, self._find(principal, execution_id))
        with self._uow(principal.tenant_id, principal.actor) as uow:
            version = self._version(uow, execution.workflow_id, execution.workflow_version)
            approval = uow.workflows.pending_approval(execution.id)
            status = self._shown(uow, execution)
        steps = self._engine.steps(execution.sfn_execution_arn, step_types(version.definition))
        return ExecutionView(execution, status, approval, steps)

    def cancel(
        self, principal: Principal, execution_id: str, reason: str | None, request_id: str | None
    ) -> Execution:
        principal.require_role(Role.RESPONDER)
        execution = self._open(principal, execution_id)
        cause = reason or f"cancelled by {principal.subject}"
        self._engine.stop(execution.sfn_execution_arn, cause)
        cancelled = replace(
            execution,
            status=ExecutionStatus.CANCELLED,
            finished_at=self._clock.now(),
            cancel_reason=cause,
        )
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            uow.record(
                "execution.cancel",
                "execution",
                execution_id,
                before=_snapshot(execution),
                after=_snapshot(cancelled),
            )
            uow.commit()
        return self._settle(principal.tenant_id, cancelled)

    def approve(
        self, principal: Principal, execution_id: str, reason: str | None, request_id: str | None
    ) -> Approval:
        return self._decide(principal, execution_id, True, reason, request_id)

    def reject(
        self, principal: Principal, execution_id: str, reason: str, request_id: str | None
    ) -> Approval:
        return self._decide(principal, execution_id, False, reason, request_id)

    def register_approval(
        self,
        tenant_id: str,
        execution_id: str,
        step_id: str,
        token: str,
        message: str,
        timeout_s: int,
    ) -> None:
        """Called by the approval step's Lambda: the token the API answers later."""
        now = self._clock.now()
        approval = Approval(
            execution_id=execution_id,
            step_id=step_id,
            token=token,
            message=message,
            status=ApprovalStatus.PENDING,
            requested_at=now,
            expires_at=now + timedelta(seconds=timeout_s),
        )
        actor = system_principal(tenant_id, "workflow-step").actor
        with self._uow(tenant_id, actor) as uow:
            uow.workflows.add_approval(approval)
            uow.commit()

    def track(self, tenant_id: str, execution_arn: str) -> Execution | None:
        """Called on a Step Functions status-change event: settle a terminal state."""
        with self._uow(tenant_id, system_principal(tenant_id, "execution-tracker").actor) as uow:
            execution = uow.workflows.execution_by_arn(execution_arn)
        return None if execution is None else self._refresh(tenant_id, execution)

    # -- internals ---------------------------------------------------------------------

    def _decide(
        self,
        principal: Principal,
        execution_id: str,
        approved: bool,
        reason: str | None,
        request_id: str | None,
    ) -> Approval:
        principal.require_role(Role.RESPONDER)
        execution = self._open(principal, execution_id)
        now = self._clock.now()
        status = ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            pending = uow.workflows.pending_approval(execution.id)
            if pending is None or not uow.workflows.decide_approval(
                pending.token, status, now, principal.subject, reason
            ):
                raise Conflict(f"execution {execution_id!r} is not waiting for an approval")
            if not approved:
                uow.workflows.set_reject_reason(execution.id, reason or "rejected")
            try:
                if approved:
                    answer = {"approved": True, "by": principal.subject, "reason": reason}
                    self._engine.approve(pending.token, answer)
                else:
                    self._engine.reject(pending.token, reason or "rejected")
            except TokenRefused as exc:
                raise Conflict(
                    f"the approval of {execution_id!r} can no longer be answered"
                ) from exc
            decided = replace(
                pending, status=status, decided_at=now, decided_by=principal.subject, reason=reason
            )
            uow.record(
                f"execution.{'approve' if approved else 'reject'}",
                "execution",
                execution.id,
                after={"step_id": pending.step_id, "status": status.value, "reason": reason},
            )
            uow.commit()
        return decided

    def _find(self, principal: Principal, execution_id: str) -> Execution:
        with self._uow(principal.tenant_id, principal.actor) as uow:
            execution = uow.workflows.get_execution(execution_id)
        if execution is None:
            raise NotFound("execution", execution_id)
        return execution

    def _open(self, principal: Principal, execution_id: str) -> Execution:
        execution = self._refresh(principal.tenant_id, self._find(principal, execution_id))
        if execution.status.terminal:
            raise Conflict(f"execution {execution_id!r} has already ended {execution.status}")
        return execution

    def _version(self, uow: WorkflowUnitOfWork, workflow_id: str, number: int) -> WorkflowVersion:
        version = uow.workflows.get_version(workflow_id, number)
        if version is None:
            raise NotFound("workflow", workflow_id)
        return version

    def _shown(self, uow: WorkflowUnitOfWork, execution: Execution) -> ExecutionStatus:
        if execution.status is ExecutionStatus.RUNNING and uow.workflows.pending_approval(
            execution.id
        ):
            return ExecutionStatus.WAITING_APPROVAL
        return execution.status

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


def _snapshot(execution: Execution) -> dict[str, Any]:
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
