"""The ports the incident services need, reached from a unit of work (Postgres or fakes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from orchestrix.domain.escalation import EscalationPolicy, Step
from orchestrix.domain.ids import new_id
from orchestrix.domain.incidents import (
    AlertSnapshot,
    Incident,
    IncidentSettings,
    TimelineEntry,
    TimelineKind,
)
from orchestrix.domain.notifications import Notice
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.intelligence_stores import IntelligenceStores


class IncidentRepository(Protocol):
    def add(self, incident: Incident) -> None: ...

    def save(self, incident: Incident) -> None: ...

    def get(self, incident_id: str) -> Incident | None: ...

    def lock(self, incident_id: str) -> Incident | None:
        """The incident, locked until the unit of work ends."""
        ...

    def search(
        self,
        page: PageRequest,
        status: str | None = None,
        severity: str | None = None,
        service: str | None = None,
    ) -> Page[Incident]: ...

    def in_range(self, start: datetime, end: datetime) -> list[Incident]: ...

    def lock_group(self, group_key: str) -> None:
        """Serialise alert intake for one group key until the unit of work ends."""
        ...

    def open_in_group(self, group_key: str, since: datetime) -> Incident | None: ...

    def link_alert(self, incident_id: str, alert: AlertSnapshot, at: datetime) -> bool: ...

    def resolve_alert(self, alert_id: str, at: datetime) -> list[str]: ...

    def alerts(self, incident_id: str) -> list[dict[str, Any]]: ...

    def add_timeline(self, entry: TimelineEntry) -> None: ...

    def timeline(self, incident_id: str) -> list[TimelineEntry]: ...


class IncidentSettingsRepository(Protocol):
    def get(self) -> IncidentSettings: ...

    def save(self, settings: IncidentSettings, at: datetime) -> None: ...


class EscalationPolicyRepository(Protocol):
    def add(self, policy: EscalationPolicy) -> None: ...

    def save(self, policy: EscalationPolicy) -> None: ...

    def get(self, policy_id: str) -> EscalationPolicy | None: ...

    def delete(self, policy_id: str) -> None: ...

    def list(self, page: PageRequest) -> Page[EscalationPolicy]: ...


class EscalationStepRepository(Protocol):
    def add(self, incident_id: str, step: Step, schedule_name: str, due_at: datetime) -> None: ...

    def claim(self, incident_id: str, step: Step, at: datetime) -> bool:
        """Mark a scheduled step done; False if it already ran or was cancelled."""
        ...

    def cancel_scheduled(self, incident_id: str, at: datetime) -> list[str]:
        """Cancel every scheduled step; return their schedule names."""
        ...


class TargetDirectory(Protocol):
    """Who escalation targets reach. None: no such schedule/team in this tenant."""

    def on_call(self, schedule_id: str, at: datetime) -> list[str] | None: ...

    def team_members(self, team_id: str) -> list[str] | None: ...

    def member_exists(self, member_id: str) -> bool: ...


class Notifier(Protocol):
    """The part of NotificationService escalation uses."""

    def notify_member(
        self, tenant_id: str, member_id: str, notice: Notice, actor: str
    ) -> list[str]: ...

    def cancel_pending(self, tenant_id: str, context_key: str, context_value: str) -> int: ...


@dataclass(frozen=True)
class IncidentStores:
    incidents: Callable[[UnitOfWork], IncidentRepository]
    settings: Callable[[UnitOfWork], IncidentSettingsRepository]
    policies: Callable[[UnitOfWork], EscalationPolicyRepository]
    steps: Callable[[UnitOfWork], EscalationStepRepository]
    targets: Callable[[UnitOfWork], TargetDirectory]
    # Correlation rules, inhibition and the service graph; None: group keys only.
    intelligence: IntelligenceStores | None = field(default=None)


def timeline_entry(
    incident_id: str,
    kind: TimelineKind,
    actor: str,
    message: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    return TimelineEntry(
        id=new_id("tle", int(at.timestamp() * 1000)),
        incident_id=incident_id,
        at=at,
        kind=kind,
        actor=actor,
        message=message,
        data=data or {},
    )
