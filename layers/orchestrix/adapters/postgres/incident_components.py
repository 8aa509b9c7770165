"""Builds the incident, escalation, SLA and report services from bootstrap's components.

Built per call (they are cheap) so they always see the clock and settings bootstrap holds;
the notification service is only built when an escalation actually pages or stops.
"""

from __future__ import annotations

from typing import Any

import psycopg

from orchestrix import bootstrap
from orchestrix.adapters.postgres.intelligence_components import STORES as INTELLIGENCE_STORES
from orchestrix.adapters.postgres.intelligence_components import analysis_service
from orchestrix.domain.notifications import Notice
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.escalation import EscalationService
from orchestrix.services.escalation_policies import EscalationPolicyService
from orchestrix.services.incident_reports import IncidentReportService
from orchestrix.services.incident_stores import IncidentStores
from orchestrix.services.incidents import IncidentService
from orchestrix.services.sla import SlaService


def _conn(uow: UnitOfWork) -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] = uow.conn  # type: ignore[attr-defined]
    return conn


def _incidents(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.incident_repository import PostgresIncidentRepository

    return PostgresIncidentRepository(_conn(uow), uow.tenant_id)


def _settings(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.incident_settings import PostgresIncidentSettingsRepository

    return PostgresIncidentSettingsRepository(_conn(uow), uow.tenant_id)


def _policies(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.escalation_repository import (
        PostgresEscalationPolicyRepository,
    )

    return PostgresEscalationPolicyRepository(_conn(uow))


def _steps(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.escalation_repository import (
        PostgresEscalationStepRepository,
    )

    return PostgresEscalationStepRepository(_conn(uow), uow.tenant_id)


def _targets(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.escalation_repository import PostgresTargetDirectory

    return PostgresTargetDirectory(_conn(uow))


STORES = IncidentStores(
    incidents=_incidents,
    settings=_settings,
    policies=_policies,
    steps=_steps,
    targets=_targets,
    intelligence=INTELLIGENCE_STORES,
)


class LazyNotifier:
    """The notification service, built on first use (it needs KMS and channel senders)."""

    def notify_member(
        self, tenant_id: str, member_id: str, notice: Notice, actor: str
    ) -> list[str]:
        from orchestrix.adapters.notify.components import notification_service

        return notification_service().notify_member(tenant_id, member_id, notice, actor)

    def cancel_pending(self, tenant_id: str, context_key: str, context_value: str) -> int:
        from orchestrix.adapters.notify.components import notification_service

        return notification_service().cancel_pending(tenant_id, context_key, context_value)


def escalation_service() -> EscalationService:
    return EscalationService(
        bootstrap.unit_of_work,
        STORES,
        LazyNotifier(),
        bootstrap.one_time_scheduler(),
        bootstrap.event_publisher(),
        bootstrap.clock(),
    )


def sla_service() -> SlaService:
    return SlaService(
        bootstrap.unit_of_work,
        STORES,
        bootstrap.one_time_scheduler(),
        bootstrap.event_publisher(),
        bootstrap.clock(),
    )


def incident_service() -> IncidentService:
    return IncidentService(
        bootstrap.unit_of_work,
        STORES,
        escalation_service(),
        sla_service(),
        bootstrap.event_publisher(),
        bootstrap.clock(),
        analysis_service(),
    )


def escalation_policy_service() -> EscalationPolicyService:
    return EscalationPolicyService(bootstrap.unit_of_work, STORES, bootstrap.clock())


def incident_report_service() -> IncidentReportService:
    return IncidentReportService(bootstrap.unit_of_work, STORES)
