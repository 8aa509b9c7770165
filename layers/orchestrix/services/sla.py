"""SLA tracking: time to acknowledge and time to resolve, against per-severity targets.

A breach is detected twice over: a one-time schedule fires at each deadline (so an incident
nobody touches still breaches on time), and acknowledging or resolving late records the
breach too (so a missed schedule cannot hide one).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final, Literal

from orchestrix.domain.incidents import Incident, IncidentSettings, TimelineKind
from orchestrix.ports.clock import Clock
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.scheduler import OneTimeScheduler
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from orchestrix.services.incident_stores import IncidentStores, timeline_entry

SLA_FUNCTION: Final = "sla_check"
ACTOR: Final = "system:sla"
Kind = Literal["ack", "resolve"]


def deadline(incident: Incident, settings: IncidentSettings, kind: Kind) -> datetime | None:
    target = settings.sla.get(incident.severity)
    minutes = None if target is None else getattr(target, f"{kind}_minutes")
    return None if minutes is None else incident.triggered_at + timedelta(minutes=minutes)


def missed(incident: Incident, settings: IncidentSettings, kind: Kind, at: datetime) -> bool:
    """Whether `kind` happening (or not having happened) at `at` breaks the target."""
    due = deadline(incident, settings, kind)
    return due is not None and at > due and kind not in incident.sla_breaches


def schedule_name(incident_id: str, kind: Kind) -> str:
    return f"sla-{incident_id}-{kind}"


class SlaService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        stores: IncidentStores,
        scheduler: OneTimeScheduler,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._stores = stores
        self._scheduler = scheduler
        self._events = events
        self._clock = clock

    def plan(self, incident: Incident, settings: IncidentSettings) -> None:
        """After the incident is committed: a check at each deadline."""
        for kind in ("ack", "resolve"):
            due = deadline(incident, settings, kind)
            if due is not None:
                # Scheduler times are whole seconds: fire just after the deadline, not before.
                due = due.replace(microsecond=0) + timedelta(seconds=1)
                payload = {
                    "tenant_id": incident.tenant_id,
                    "incident_id": incident.id,
                    "kind": kind,
                }
                self._scheduler.schedule(
                    schedule_name(incident.id, kind), due, SLA_FUNCTION, payload
                )

    def breach(self, uow: UnitOfWork, incident: Incident, kind: Kind) -> Incident:
        """Inside a transaction holding the incident: record one breach (timeline, audit)."""
        now = self._clock.now()
        updated = replace(incident, sla_breaches=(*incident.sla_breaches, kind), updated_at=now)
        self._stores.incidents(uow).save(updated)
        what = "acknowledged" if kind == "ack" else "resolved"
        entry = timeline_entry(
            incident.id,
            TimelineKind.SLA_BREACHED,
            ACTOR,
            f"not {what} within the {incident.severity.value} target",
            now,
            {"kind": kind},
        )
        self._stores.incidents(uow).add_timeline(entry)
        uow.record("incident.sla_breached", "incident", incident.id, after={"kind": kind})
        return updated

    def published(self, tenant_id: str, incident: Incident, kind: Kind) -> None:
        detail = {"incident": incident.snapshot(), "kind": kind}
        self._events.publish(tenant_id, "incident.sla_breached", detail)

    def check(self, tenant_id: str, incident_id: str, kind: Kind) -> bool:
        """The deadline schedule fired: breach unless the incident got there in time."""
        with self._uow(tenant_id, ACTOR) as uow:
            incident = self._stores.incidents(uow).lock(incident_id)
            if incident is None:
                return False
            settings = self._stores.settings(uow).get()
            done_at = incident.acknowledged_at if kind == "ack" else incident.resolved_at
            if kind == "ack" and done_at is None:
                done_at = incident.resolved_at  # resolving without acknowledging counts
            at = done_at or self._clock.now()
            if not missed(incident, settings, kind, at):
                return False
            incident = self.breach(uow, incident, kind)
            uow.commit()
        self.published(tenant_id, incident, kind)
        return True

    def cancel(self, incident_id: str, kinds: tuple[Kind, ...]) -> None:
        for kind in kinds:
            self._scheduler.cancel(schedule_name(incident_id, kind))
