"""Reading incidents, their linked alerts and their timeline; adding notes to the timeline."""

from __future__ import annotations

from typing import Any

from orchestrix.domain.errors import NotFound
from orchestrix.domain.identity import Principal
from orchestrix.domain.identity import Role as AccessRole
from orchestrix.domain.incidents import Incident, TimelineEntry, TimelineKind
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.services.incident_base import IncidentServiceBase
from orchestrix.services.incident_stores import timeline_entry


class IncidentTimeline(IncidentServiceBase):
    def add_note(
        self, principal: Principal, incident_id: str, text: str, request_id: str | None = None
    ) -> TimelineEntry:
        principal.require_role(AccessRole.RESPONDER)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._stores.incidents(uow)
            if repo.get(incident_id) is None:
                raise NotFound("incident", incident_id)
            entry = timeline_entry(
                incident_id, TimelineKind.NOTE, principal.actor, text, self._clock.now()
            )
            repo.add_timeline(entry)
            uow.record("incident.note", "incident", incident_id, None, {"note": entry.id})
            uow.commit()
        return entry

    def get(self, principal: Principal, incident_id: str) -> tuple[Incident, list[dict[str, Any]]]:
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            repo = self._stores.incidents(uow)
            incident = repo.get(incident_id)
            if incident is None:
                raise NotFound("incident", incident_id)
            return incident, repo.alerts(incident_id)

    def search(
        self,
        principal: Principal,
        page: PageRequest,
        status: str | None = None,
        severity: str | None = None,
        service: str | None = None,
    ) -> Page[Incident]:
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._stores.incidents(uow).search(page, status, severity, service)

    def timeline(self, principal: Principal, incident_id: str) -> list[TimelineEntry]:
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            repo = self._stores.incidents(uow)
            if repo.get(incident_id) is None:
                raise NotFound("incident", incident_id)
            return repo.timeline(incident_id)
