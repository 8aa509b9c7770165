"""Builds the remediation service (the evaluator's `RemediationTrigger` and the actions of the
`remediation` state machine) from bootstrap's components."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from orchestrix import bootstrap
from orchestrix.adapters.aws.state_machines import StepFunctionsRemediationMachine, declared_arn
from orchestrix.domain.alerting.alerts import Alert
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.workflow.execution import EngineExecution, StepRun
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.ports.workflow_engine import WorkflowEngine
from orchestrix.services.alert_ports import AlertingRepos
from orchestrix.services.remediation import JOB, RemediationService, alert_input
from orchestrix.services.remediation_ports import RemediationRepository
from orchestrix.services.workflow_executions import ExecutionService

if TYPE_CHECKING:
    from orchestrix.services.remediation_recovery import RemediationRecovery

S = TypeVar("S", bound=RemediationService)
MACHINE = "remediation"
# Locally the clock can jump (`orchestrix tick --advance`): look at it every second.
LOCAL_POLL_SECONDS = 1
POLL_SECONDS = 10


def repos(uow: UnitOfWork) -> tuple[AlertingRepos, RemediationRepository]:
    from orchestrix.adapters.postgres.alerting_components import repos as alerting_repos
    from orchestrix.adapters.postgres.remediations import PostgresRemediationRepository

    conn: psycopg.Connection[Any] = uow.conn  # type: ignore[attr-defined]
    return alerting_repos(uow), PostgresRemediationRepository(conn)


class _WithAlert:
    """The workflow engine, adding the alert to the input of the run it starts (templates
    read it as `alert.*`); everything else goes straight through."""

    def __init__(self, engine: WorkflowEngine, alert: Mapping[str, Any]) -> None:
        self._engine = engine
        self._alert = dict(alert)

    def machine_name(self, tenant_id: str, workflow_id: str, version: int) -> str:
        return self._engine.machine_name(tenant_id, workflow_id, version)

    def create_machine(self, name: str, asl: Mapping[str, Any]) -> str:
        return self._engine.create_machine(name, asl)

    def execution_arn(self, machine_arn: str, name: str) -> str:
        return self._engine.execution_arn(machine_arn, name)

    def start(self, machine_arn: str, name: str, execution_input: Mapping[str, Any]) -> str:
        return self._engine.start(machine_arn, name, {**execution_input, "alert": self._alert})

    def describe(self, execution_arn: str) -> EngineExecution:
        return self._engine.describe(execution_arn)

    def steps(self, execution_arn: str, step_types: Mapping[str, str]) -> list[StepRun]:
        return self._engine.steps(execution_arn, step_types)

    def stop(self, execution_arn: str, cause: str) -> None:
        self._engine.stop(execution_arn, cause)

    def approve(self, token: str, output: Mapping[str, Any]) -> None:
        self._engine.approve(token, output)

    def reject(self, token: str, reason: str) -> None:
        self._engine.reject(token, reason)


class ExecutionRunner:
    """`WorkflowRunner` through the workflows' own execution service, as a responder."""

    def _principal(self, tenant_id: str) -> Principal:
        return Principal(
            tenant_id, f"system:{JOB}", roles=frozenset({Role.RESPONDER}), kind="system"
        )

    def _service(self, engine: WorkflowEngine) -> ExecutionService:
        from orchestrix.adapters.postgres.workflow_store import PostgresWorkflowUnitOfWork

        def uow(tenant_id: str, actor: str, request_id: str | None = None) -> Any:
            return PostgresWorkflowUnitOfWork(
                bootstrap.database(), bootstrap.clock(), tenant_id, actor, request_id
            )

        return ExecutionService(
            uow,
            engine,
            bootstrap.clock(),
            bootstrap.event_publisher(),
            refresh_lists=bootstrap.settings().local,
        )

    def start(
        self, tenant_id: str, workflow_id: str, alert: Alert, idempotency_key: str
    ) -> tuple[str, str]:
        service = self._service(_WithAlert(bootstrap.workflow_engine(), alert_input(alert)))
        inputs = dict(alert.labels)  # a runbook's inputs are the alert's labels
        execution, _ = service.execute(
            self._principal(tenant_id), workflow_id, inputs, idempotency_key
        )
        return execution.id, execution.status.value

    def status(self, tenant_id: str, execution_id: str) -> str:
        view = bootstrap.execution_service().get(self._principal(tenant_id), execution_id)
        return view.status.value

    def error(self, tenant_id: str, execution_id: str) -> str | None:
        view = bootstrap.execution_service().get(self._principal(tenant_id), execution_id)
        return view.execution.error


def remediation_machine_arn() -> str:
    s = bootstrap.settings()
    return declared_arn(s.state_machine_prefix, MACHINE, bootstrap.function_arn(MACHINE))


def remediation_service(
    wait_seconds: int | None = None, poll_seconds: int | None = None
) -> RemediationService:
    return _build(RemediationService, wait_seconds, poll_seconds)


def remediation_recovery() -> RemediationRecovery:
    """For the local runtime's start: the remediations its restart interrupted."""
    from orchestrix.services.remediation_recovery import RemediationRecovery

    return _build(RemediationRecovery, None, None)


def _build(kind: type[S], wait_seconds: int | None, poll_seconds: int | None) -> S:
    from orchestrix.adapters.postgres.alerting_components import metric_reader
    from orchestrix.services.remediation import DEFAULT_WAIT_SECONDS
    from orchestrix.services.rule_evaluation import EvaluationBudget

    settings = bootstrap.settings()
    local = settings.local
    return kind(
        bootstrap.unit_of_work,
        repos,
        StepFunctionsRemediationMachine(
            lambda: bootstrap.boto3_client("stepfunctions"), remediation_machine_arn()
        ),
        ExecutionRunner(),
        metric_reader,
        bootstrap.event_publisher(),
        bootstrap.clock(),
        wait_seconds=DEFAULT_WAIT_SECONDS if wait_seconds is None else wait_seconds,
        poll_seconds=poll_seconds or (LOCAL_POLL_SECONDS if local else POLL_SECONDS),
        budget=EvaluationBudget(
            query_timeout_s=settings.rule_query_timeout_s,
            tick_s=settings.rule_tick_budget_s,
            max_samples=settings.query_max_samples,
        ),
    )
