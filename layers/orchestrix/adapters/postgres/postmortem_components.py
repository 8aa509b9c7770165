"""Builds the post-mortem service from bootstrap's components (per call: it is cheap)."""

from __future__ import annotations

from typing import Any

import psycopg

from orchestrix import bootstrap
from orchestrix.adapters.postgres.incident_components import STORES as INCIDENT_STORES
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.postmortem_narrative import NarrativeWriter
from orchestrix.services.postmortem_overdue import OverdueActionItems
from orchestrix.services.postmortem_ports import PostmortemStores
from orchestrix.services.postmortems import PostmortemService


def _conn(uow: UnitOfWork) -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] = uow.conn  # type: ignore[attr-defined]
    return conn


def _postmortems(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.postmortems import PostgresPostmortemRepository

    return PostgresPostmortemRepository(_conn(uow), uow.tenant_id)


def _evidence(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.postmortems import PostgresIncidentEvidence

    return PostgresIncidentEvidence(_conn(uow))


STORES = PostmortemStores(postmortems=_postmortems, evidence=_evidence)


def postmortem_service() -> PostmortemService:
    from orchestrix.adapters.postgres.intelligence_components import model_allowance

    # Drafts spend the tenant's model allowance like analyses do.
    allowance = model_allowance()

    def narrative(tenant_id: str) -> NarrativeWriter:
        return NarrativeWriter(allowance.for_tenant(tenant_id) if allowance else None)

    return PostmortemService(
        bootstrap.unit_of_work,
        INCIDENT_STORES,
        STORES,
        narrative,
        bootstrap.event_publisher(),
        bootstrap.clock(),
    )


def overdue_action_items() -> OverdueActionItems:
    return OverdueActionItems(
        bootstrap.unit_of_work, STORES, bootstrap.event_publisher(), bootstrap.clock()
    )
