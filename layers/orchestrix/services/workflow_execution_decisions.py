"""Deciding a running workflow execution: cancel it, or answer its pending approval."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from orchestrix.domain.errors import Conflict
from orchestrix.domain.identity import Principal, Role, system_principal
from orchestrix.domain.workflow.execution import (
    Approval,
    ApprovalStatus,
    Execution,
    ExecutionStatus,
)
from orchestrix.ports.workflow_engine import TokenRefused
from orchestrix.services.workflow_execution_settlement import (
    ExecutionSettlement,
    execution_snapshot,
)


class ExecutionDecisions(ExecutionSettlement):
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
                before=execution_snapshot(execution),
                after=execution_snapshot(cancelled),
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

    def _open(self, principal: Principal, execution_id: str) -> Execution:
        execution = self._refresh(principal.tenant_id, self._find(principal, execution_id))
        if execution.status.terminal:
            raise Conflict(f"execution {execution_id!r} has already ended {execution.status}")
        return execution
