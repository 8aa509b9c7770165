"""What every incident use case shares: its ports, and opening an incident.

An incident opens the same way whether a responder declares it or an alert raises it, so
both paths (`IncidentService.create`, `AlertIntake.on_alert_fired`) go through `_open` inside
their transaction and `_after_open` once it has committed.
"""

from __future__ import annotations

import logging
from typing import Protocol

from orchestrix.domain.escalation import FIRST_STEP
from orchestrix.domain.incidents import Incident, IncidentSettings, TimelineKind
from orchestrix.ports.clock import Clock
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from orchestrix.services.escalation import EscalationService
from orchestrix.services.incident_stores import IncidentStores, timeline_entry
from orchestrix.services.sla import SlaService

log = logging.getLogger(__name__)


class IncidentAnalyst(Protocol):
    def summarise(self, incident: Incident) -> None:
        """Analyse the incident and store its summary: when it opens, before anyone is
        paged, and again as alerts join it."""
        ...


def refreshes_summary(alert_count: int) -> bool:
    """Whether the alert that brings an incident to `alert_count` alerts has its analysis
    redone: at 2, 4, 8, 16… The second alert is often the upstream one that explains the
    first; an alert storm of N alerts costs log2(N) analyses (and model calls), not N."""
    return alert_count >= 2 and alert_count & (alert_count - 1) == 0


class IncidentServiceBase:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        stores: IncidentStores,
        escalation: EscalationService,
        sla: SlaService,
        events: EventPublisher,
        clock: Clock,
        analyst: IncidentAnalyst | None = None,
    ) -> None:
        self._analyst = analyst
        self._uow = uow
        self._stores = stores
        self._escalation = escalation
        self._sla = sla
        self._events = events
        self._clock = clock

    def _open(self, uow: UnitOfWork, incident: Incident, message: str) -> None:
        repo = self._stores.incidents(uow)
        repo.add(incident)
        repo.add_timeline(
            timeline_entry(
                incident.id,
                TimelineKind.TRIGGERED,
                incident.created_by,
                message,
                incident.triggered_at,
                {"severity": incident.severity.value},
            )
        )
        uow.record("incident.trigger", "incident", incident.id, None, incident.snapshot())
        self._escalation.begin(uow, incident)

    def _after_open(self, incident: Incident, settings: IncidentSettings) -> None:
        self._events.publish(
            incident.tenant_id, "incident.triggered", {"incident": incident.snapshot()}
        )
        self._sla.plan(incident, settings)
        if self._analyst is not None:
            try:  # the page carries the summary; no analysis must ever hold the page back
                self._analyst.summarise(incident)
            except Exception:
                log.exception("incident analysis failed", extra={"incident_id": incident.id})
        if incident.escalation_policy_id:
            self._escalation.run_step(incident.tenant_id, incident.id, FIRST_STEP)

    def _after_join(self, incident: Incident, alerts_before: int) -> None:
        grew = incident.alert_count > alerts_before  # not an alert it already held
        if self._analyst is None or not (grew and refreshes_summary(incident.alert_count)):
            return
        try:  # the summary may lag; the alert is in the incident whatever happens here
            self._analyst.summarise(incident)
        except Exception:
            log.exception("incident analysis failed", extra={"incident_id": incident.id})
