"""Auto-remediation: the record of one attempt and what the remediation service needs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from orchestrix.domain.alerting.alerts import Alert
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.alert_ports import AlertingRepos


class RemediationStatus(StrEnum):
    RUNNING = "running"
    RESOLVED = "resolved"  # the re-check found the alert's condition gone
    ESCALATED = "escalated"  # still breaching (or the workflow failed): handed to people
    FAILED = "failed"  # the remediation machinery itself failed


@dataclass(frozen=True)
class Remediation:
    id: str
    tenant_id: str
    alert_id: str
    rule_id: str | None
    workflow_id: str
    attempt: int
    status: RemediationStatus
    sfn_execution_arn: str  # the remediation state machine's execution
    started_at: datetime
    execution_id: str | None = None  # the workflow execution it started
    execution_status: str | None = None
    recheck_at: datetime | None = None
    reason: str | None = None
    finished_at: datetime | None = None

    @property
    def execution_name(self) -> str:
        return f"{self.alert_id}-{self.attempt}"

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alert_id": self.alert_id,
            "rule_id": self.rule_id,
            "workflow_id": self.workflow_id,
            "attempt": self.attempt,
            "status": self.status.value,
            "execution_id": self.execution_id,
            "execution_status": self.execution_status,
            "reason": self.reason,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


class RemediationRepository(Protocol):
    def add(self, remediation: Remediation) -> bool:
        """False (nothing written) when the alert already has a running remediation."""
        ...

    def get(self, remediation_id: str) -> Remediation | None: ...
    def running(self, alert_id: str) -> Remediation | None: ...
    def by_execution(self, execution_id: str) -> Remediation | None:
        """The remediation that started this workflow run, if one did."""
        ...

    def all_running(self) -> list[Remediation]:
        """The tenant's running remediations, oldest first."""
        ...

    def next_attempt(self, alert_id: str) -> int: ...
    def update(self, remediation: Remediation) -> None: ...
    def for_alert(self, alert_id: str) -> list[Remediation]: ...


class RemediationMachine(Protocol):
    """The `remediation` state machine."""

    def execution_arn(self, name: str) -> str: ...
    def start(self, name: str, execution_input: Mapping[str, Any]) -> None: ...
    def has_ended(self, execution_arn: str) -> bool: ...
    def knows(self, execution_arn: str) -> bool:
        """False when the engine has no such execution (the local one forgets all of them
        when it restarts)."""
        ...


class WorkflowRunner(Protocol):
    """Starts and reads workflow executions on behalf of the remediation."""

    def start(
        self, tenant_id: str, workflow_id: str, alert: Alert, idempotency_key: str
    ) -> tuple[str, str]:
        """(execution id, status) of the run started with the alert as its input."""
        ...

    def status(self, tenant_id: str, execution_id: str) -> str: ...
    def error(self, tenant_id: str, execution_id: str) -> str | None:
        """The error the run ended with; None while it runs or once it succeeded."""
        ...


# The alerting repositories and the remediation one, on a unit of work's transaction.
RemediationReposFactory = Callable[[UnitOfWork], tuple[AlertingRepos, RemediationRepository]]
