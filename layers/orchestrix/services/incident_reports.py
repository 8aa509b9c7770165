"""Incident reports: counts, mean time to acknowledge/resolve, SLA breaches, by dimension."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean

from orchestrix.domain.errors import ValidationFailed
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.incidents import Incident
from orchestrix.ports.unit_of_work import UnitOfWorkFactory
from orchestrix.services.incident_stores import IncidentStores


@dataclass
class Stats:
    count: int = 0
    acknowledged: int = 0
    resolved: int = 0
    mtta_seconds: float | None = None
    mttr_seconds: float | None = None
    ack_breaches: int = 0
    resolve_breaches: int = 0


@dataclass(frozen=True)
class IncidentReport:
    start: datetime
    end: datetime
    total: Stats
    by_severity: dict[str, Stats] = field(default_factory=dict)
    by_team: dict[str, Stats] = field(default_factory=dict)
    by_service: dict[str, Stats] = field(default_factory=dict)


def summarise(incidents: list[Incident]) -> Stats:
    """MTTA over acknowledged incidents, MTTR over resolved ones, both from trigger time."""
    acks = [
        (i.acknowledged_at - i.triggered_at).total_seconds() for i in incidents if i.acknowledged_at
    ]
    fixes = [(i.resolved_at - i.triggered_at).total_seconds() for i in incidents if i.resolved_at]
    return Stats(
        count=len(incidents),
        acknowledged=len(acks),
        resolved=len(fixes),
        mtta_seconds=fmean(acks) if acks else None,
        mttr_seconds=fmean(fixes) if fixes else None,
        ack_breaches=sum("ack" in i.sla_breaches for i in incidents),
        resolve_breaches=sum("resolve" in i.sla_breaches for i in incidents),
    )


def _grouped(incidents: list[Incident], key: str) -> dict[str, Stats]:
    groups: dict[str, list[Incident]] = defaultdict(list)
    for incident in incidents:
        value = getattr(incident, key)
        groups[str(value.value if hasattr(value, "value") else value or "none")].append(incident)
    return {name: summarise(members) for name, members in sorted(groups.items())}


class IncidentReportService:
    def __init__(self, uow: UnitOfWorkFactory, stores: IncidentStores) -> None:
        self._uow = uow
        self._stores = stores

    def report(self, principal: Principal, start: datetime, end: datetime) -> IncidentReport:
        """Incidents triggered in [start, end)."""
        principal.require_role(Role.VIEWER)
        if end <= start:
            raise ValidationFailed.single(("query", "to"), "must be after from")
        with self._uow(principal.tenant_id, principal.actor) as uow:
            incidents = self._stores.incidents(uow).in_range(start, end)
        return IncidentReport(
            start=start,
            end=end,
            total=summarise(incidents),
            by_severity=_grouped(incidents, "severity"),
            by_team=_grouped(incidents, "team_id"),
            by_service=_grouped(incidents, "service"),
        )
