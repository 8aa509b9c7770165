"""Putting workflows back into an engine that lost its state.

The local runtime's Step Functions (moto) keeps state machines and executions in memory, so
after `orchestrix dev` restarts, the engine knows nothing the database knows. `recreate_machines`
and `recover_executions` rebuild it for one tenant:

- every workflow version's state machine is created again from its stored ASL (the same name,
  so the same ARN the version and its executions recorded);
- an execution stored as running that the engine no longer knows:
  - waiting for an approval that has not expired: started again from the beginning with the
    same input and the same name (so the same execution ARN; a run a remediation started gets
    its alert back, which only the remediation's record holds). The steps before the approval
    run again (they ran on a runtime that is gone; the state they produced went with it),
    then the approval is requested again with a new task token and its full timeout, and the
    same `POST /executions/{id}/approve` (or reject, cancel) answers it. The approval pending
    before the restart is closed as cancelled. Audited as `execution.restart`.
  - waiting for an approval that expired while the runtime was stopped: timed out, as the
    engine would have ended it.
  - anything else (between steps, in a wait): failed with error `RuntimeRestarted`. A step
    may have been half done; running it again unasked could repeat a remediation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from orchestrix.domain.identity import system_principal
from orchestrix.domain.workflow.execution import (
    ApprovalStatus,
    Execution,
    ExecutionStatus,
)
from orchestrix.ports.workflow_engine import ExecutionGone
from orchestrix.services.workflow_compiler import execution_input
from orchestrix.services.workflow_execution_settlement import (
    ExecutionSettlement,
    execution_snapshot,
)

log = logging.getLogger(__name__)

RESTARTED_ERROR = "RuntimeRestarted"
_GONE = "the local runtime stopped while this execution was running; it was not resumed"
_EXPIRED = "the approval expired while the local runtime was stopped"
# (tenant, execution id) -> the alert the run was started for, as its templates read it.
AlertOf = Callable[[str, str], Mapping[str, Any] | None]


@dataclass
class Recovered:
    machines: int = 0
    restarted: list[str] = field(default_factory=list)  # waiting for their approval again
    failed: list[str] = field(default_factory=list)  # RuntimeRestarted
    timed_out: list[str] = field(default_factory=list)


def execution_meta(execution: Execution) -> dict[str, object]:
    """What the platform passes every run in `$.meta` (tenant, workflow, version, id)."""
    return {
        "tenant_id": execution.tenant_id,
        "workflow_id": execution.workflow_id,
        "version": execution.workflow_version,
        "execution_id": execution.id,
    }


class ExecutionRecovery(ExecutionSettlement):
    def recreate_machines(self, tenant_id: str) -> int:
        """Create every version's state machine again; how many."""
        actor = system_principal(tenant_id, "runtime-recovery").actor
        with self._uow(tenant_id, actor) as uow:
            versions = uow.workflows.all_versions()
        for version in versions:
            name = self._engine.machine_name(tenant_id, version.workflow_id, version.version)
            self._engine.create_machine(name, version.asl)
        return len(versions)

    def recover_executions(self, tenant_id: str, alert_of: AlertOf | None = None) -> Recovered:
        """Settle or start again every running execution the engine lost (after
        `recreate_machines`); `alert_of` gives back a remediation run's alert."""
        actor = system_principal(tenant_id, "runtime-recovery").actor
        with self._uow(tenant_id, actor) as uow:
            unfinished = uow.workflows.unfinished_executions()
            machines = {
                (e.workflow_id, e.workflow_version): version.state_machine_arn
                for e in unfinished
                if (version := uow.workflows.get_version(e.workflow_id, e.workflow_version))
            }
        result = Recovered()
        for execution in unfinished:
            if self._engine_knows(execution):
                continue  # the engine kept it (it was not restarted): nothing to do
            machine = machines.get((execution.workflow_id, execution.workflow_version))
            self._recover(tenant_id, actor, execution, machine, result, alert_of)
        return result

    def waiting_again(self, tenant_id: str, execution_id: str) -> bool:
        """True once a restarted execution asks for its approval again (or has ended)."""
        actor = system_principal(tenant_id, "runtime-recovery").actor
        with self._uow(tenant_id, actor) as uow:
            execution = uow.workflows.get_execution(execution_id)
            pending = uow.workflows.pending_approval(execution_id)
        if execution is None or pending is not None:
            return True
        return self._refresh(tenant_id, execution).status.terminal

    def _engine_knows(self, execution: Execution) -> bool:
        try:
            self._engine.describe(execution.sfn_execution_arn)
        except ExecutionGone:
            return False
        return True

    def _recover(
        self,
        tenant_id: str,
        actor: str,
        execution: Execution,
        machine: str | None,
        result: Recovered,
        alert_of: AlertOf | None,
    ) -> None:
        now = self._clock.now()
        with self._uow(tenant_id, actor) as uow:
            pending = uow.workflows.pending_approval(execution.id)
        same_arn = machine is not None and (
            self._engine.execution_arn(machine, execution.id) == execution.sfn_execution_arn
        )
        if pending is None or machine is None or not same_arn:
            self._end(tenant_id, execution, ExecutionStatus.FAILED, RESTARTED_ERROR, _GONE)
            result.failed.append(execution.id)
            return
        if pending.expires_at <= now:
            self._end(tenant_id, execution, ExecutionStatus.TIMED_OUT, "States.Timeout", _EXPIRED)
            result.timed_out.append(execution.id)
            return
        with self._uow(tenant_id, actor) as uow:
            uow.workflows.close_pending_approvals(execution.id, ApprovalStatus.CANCELLED)
            uow.record(
                "execution.restart",
                "execution",
                execution.id,
                before=execution_snapshot(execution),
                after={
                    "status": execution.status.value,
                    "reason": "the local runtime restarted while the execution waited for "
                    f"the approval of step {pending.step_id!r}; started again from the "
                    "first step",
                },
            )
            uow.commit()
        alert = alert_of(tenant_id, execution.id) if alert_of else None
        try:
            self._engine.start(
                machine,
                execution.id,
                execution_input(execution.input, alert, execution_meta(execution)),
            )
        except Exception as exc:
            log.exception("could not restart %s", execution.id)
            self._end(tenant_id, execution, ExecutionStatus.FAILED, "StartFailed", str(exc)[:1000])
            result.failed.append(execution.id)
            return
        result.restarted.append(execution.id)

    def _end(
        self,
        tenant_id: str,
        execution: Execution,
        status: ExecutionStatus,
        error: str,
        cause: str,
    ) -> None:
        ended = replace(
            execution, status=status, finished_at=self._clock.now(), error=error, cause=cause
        )
        self._settle(tenant_id, ended)
