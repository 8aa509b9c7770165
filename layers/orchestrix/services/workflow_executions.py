"""Use cases for workflow executions: start and read them (refreshing from the engine).

`ExecutionService` is what handlers and routes call. Cancelling and answering approvals live
in `workflow_execution_decisions`, storing and publishing terminal states (and the ports) in
`workflow_execution_settlement`; the service inherits both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from orchestrix.domain.errors import NotFound
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.workflow.execution import (
    Approval,
    Execution,
    ExecutionStatus,
    StepRun,
    WorkflowVersion,
)
from orchestrix.domain.workflow.model import AnyStep, ParallelStep, WorkflowDefinition
from orchestrix.ports.workflow_store import WorkflowUnitOfWork
from orchestrix.services.workflow_compiler import execution_input
from orchestrix.services.workflow_execution_decisions import ExecutionDecisions
from orchestrix.services.workflow_execution_settlement import execution_snapshot
from orchestrix.services.workflow_inputs import check_inputs
from orchestrix.services.workflow_recovery import execution_meta

log = logging.getLogger(__name__)


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


class ExecutionService(ExecutionDecisions):
    """The execution use cases: starting and reading below, deciding and settling inherited."""

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
            uow.record(
                "workflow.execute", "execution", execution_id, after=execution_snapshot(execution)
            )
            uow.commit()
        meta = execution_meta(execution)
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
