"""Status page incidents posted by hand, their updates, and scheduled maintenances.

Every change that the public sees is one update; it settles the components it touches and
records who must be told in the same transaction, and is sent to subscribers behind the
request once that transaction has committed (`status_fanout`).
Maintenances move by time: one-time schedules at their start and end call `advance`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Final

from orchestrix.domain.errors import Conflict, NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.status_inputs import IncidentSpec, MaintenanceSpec, UpdateSpec
from orchestrix.domain.status_pages import (
    ComponentStatus,
    PageIncident,
    PageUpdate,
    UpdateStatus,
    impact_of,
    maintenance_status_at,
)
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.status_broadcast import new_update, settle_components
from orchestrix.services.status_fanout import StatusFanout
from orchestrix.services.status_page_ports import STATUS_FUNCTION, StatusPagePorts
from orchestrix.services.status_pages import require_page

MAINTENANCE_ACTOR: Final = "system:maintenance"
MAINTENANCE_BODY = {
    UpdateStatus.IN_PROGRESS: "Scheduled maintenance is in progress.",
    UpdateStatus.COMPLETED: "Scheduled maintenance has been completed.",
}


def maintenance_schedule(maintenance_id: str, edge: str) -> str:
    return f"status-{maintenance_id}-{edge}"


class StatusEventService:
    def __init__(self, ports: StatusPagePorts) -> None:
        self._p = ports
        self._fanout = StatusFanout(ports)

    # -- incidents posted by hand ---------------------------------------------------------------

    def post_incident(
        self, principal: Principal, page_id: str, spec: IncidentSpec, request_id: str | None
    ) -> PageIncident:
        principal.require_role(Role.RESPONDER)
        now = self._p.clock.now()
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            require_page(self._p, uow, page_id)
            _require_components(self._p, uow, page_id, list(spec.components), "components")
            incident = PageIncident(
                id=new_id("spi", int(now.timestamp() * 1000)),
                page_id=page_id,
                kind="incident",
                name=spec.name,
                status=spec.status,
                impact=impact_of(spec.components),
                components=dict(spec.components),
                source_incident_id=None,
                scheduled_for=None,
                scheduled_until=None,
                created_at=now,
                updated_at=now,
                resolved_at=now if spec.status is UpdateStatus.RESOLVED else None,
            )
            update = new_update(incident.id, spec.status, spec.body, principal.actor, now)
            stored, told = self._record(uow, incident, update, None)
            uow.commit()
        if told:
            self._fanout.request(principal.tenant_id, update.id)
        return stored

    def post_update(
        self,
        principal: Principal,
        page_id: str,
        incident_id: str,
        spec: UpdateSpec,
        request_id: str | None,
    ) -> PageIncident:
        principal.require_role(Role.RESPONDER)
        now = self._p.clock.now()
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            require_page(self._p, uow, page_id)
            before = self._p.events(uow).get_incident(incident_id, lock=True)
            if before is None or before.page_id != page_id or before.kind != "incident":
                raise NotFound("status page incident", incident_id)
            if not before.is_open:
                raise Conflict("a resolved incident takes no more updates; post a new one")
            components = before.components
            if spec.components is not None:
                _require_components(self._p, uow, page_id, list(spec.components), "components")
                components = dict(spec.components)
            after = replace(
                before,
                status=spec.status,
                components=components,
                impact=impact_of(components),
                updated_at=now,
                resolved_at=now if spec.status is UpdateStatus.RESOLVED else None,
            )
            update = new_update(incident_id, spec.status, spec.body, principal.actor, now)
            stored, told = self._record(uow, after, update, before)
            uow.commit()
        if told:
            self._fanout.request(principal.tenant_id, update.id)
        return stored

    def _record(
        self,
        uow: UnitOfWork,
        incident: PageIncident,
        update: PageUpdate,
        before: PageIncident | None,
    ) -> tuple[PageIncident, int]:
        """Save the event and its update, settle its components (old and new), audit, and
        record who must be told; returns the event and how many will be told."""
        events = self._p.events(uow)
        events.save_incident(incident)
        events.add_update(update)
        touched = set(incident.components) | set(before.components if before else ())
        settle_components(self._p, uow, incident.page_id, touched)
        kind = f"status_{incident.kind}"
        action = f"{kind}.{'update' if before else 'create'}"
        after = {**incident.audit(), "update": {"status": update.status.value, "body": update.body}}
        uow.record(action, kind, incident.id, before.audit() if before else None, after)
        told = self._fanout.enqueue(uow, incident, update)
        return replace(incident, updates=(update, *incident.updates)), told

    # -- reading ----------------------------------------------------------------------------------

    def list(
        self, principal: Principal, page_id: str, kind: str, page: PageRequest
    ) -> Page[PageIncident]:
        principal.require_role(Role.VIEWER)
        with self._p.uow(principal.tenant_id, principal.actor) as uow:
            require_page(self._p, uow, page_id)
            return self._p.events(uow).incidents(page_id, page, kind=kind)

    def get(self, principal: Principal, page_id: str, kind: str, event_id: str) -> PageIncident:
        principal.require_role(Role.VIEWER)
        with self._p.uow(principal.tenant_id, principal.actor) as uow:
            require_page(self._p, uow, page_id)
            found = self._p.events(uow).get_incident(event_id)
        if found is None or found.page_id != page_id or found.kind != kind:
            raise NotFound(f"status page {kind}", event_id)
        return found

    # -- scheduled maintenances ------------------------------------------------------------------

    def schedule_maintenance(
        self, principal: Principal, page_id: str, spec: MaintenanceSpec, request_id: str | None
    ) -> PageIncident:
        principal.require_role(Role.EDITOR)
        now = self._p.clock.now()
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            require_page(self._p, uow, page_id)
            _require_components(self._p, uow, page_id, spec.component_ids, "component_ids")
            maintenance = PageIncident(
                id=new_id("spm", int(now.timestamp() * 1000)),
                page_id=page_id,
                kind="maintenance",
                name=spec.name,
                status=UpdateStatus.SCHEDULED,
                impact="maintenance",
                components=dict.fromkeys(spec.component_ids, ComponentStatus.UNDER_MAINTENANCE),
                source_incident_id=None,
                scheduled_for=spec.scheduled_for,
                scheduled_until=spec.scheduled_until,
                created_at=now,
                updated_at=now,
            )
            update = new_update(
                maintenance.id, UpdateStatus.SCHEDULED, spec.body, principal.actor, now
            )
            stored, told = self._record(uow, maintenance, update, None)
            for edge, at in (("start", spec.scheduled_for), ("end", spec.scheduled_until)):
                if at > now:  # an edge already passed is taken by `advance` below
                    self._schedule(principal.tenant_id, maintenance.id, edge, at)
            uow.commit()
        if told:
            self._fanout.request(principal.tenant_id, update.id)
        # A window that has already begun moves at once rather than at the next schedule.
        return self.advance(principal.tenant_id, maintenance.id) or stored

    def _schedule(self, tenant_id: str, maintenance_id: str, edge: str, at: datetime) -> None:
        payload = {"tenant_id": tenant_id, "maintenance_id": maintenance_id}
        name = maintenance_schedule(maintenance_id, edge)
        self._p.scheduler.schedule(name, at, STATUS_FUNCTION, payload)

    def advance(self, tenant_id: str, maintenance_id: str) -> PageIncident | None:
        """Move a maintenance to where time says it is; None when it has not moved (also for
        an unknown id: a schedule may outlive its page). Idempotent: a retried or early
        schedule changes nothing."""
        now = self._p.clock.now()
        with self._p.uow(tenant_id, MAINTENANCE_ACTOR) as uow:
            before = self._p.events(uow).get_incident(maintenance_id, lock=True)
            if before is None or before.kind != "maintenance":
                return None
            wanted = maintenance_status_at(before, now)
            if wanted is before.status:
                return None
            require_page(self._p, uow, before.page_id)
            after = replace(
                before,
                status=wanted,
                updated_at=now,
                resolved_at=now if wanted is UpdateStatus.COMPLETED else None,
            )
            update = new_update(
                maintenance_id, wanted, MAINTENANCE_BODY[wanted], MAINTENANCE_ACTOR, now
            )
            stored, told = self._record(uow, after, update, before)
            uow.commit()
        if told:
            self._fanout.request(tenant_id, update.id)
        return stored

    def cancel_maintenance(
        self, principal: Principal, page_id: str, maintenance_id: str, request_id: str | None
    ) -> None:
        """Delete a maintenance (and its updates); its components settle without it."""
        principal.require_role(Role.EDITOR)
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            require_page(self._p, uow, page_id)
            events = self._p.events(uow)
            before = events.get_incident(maintenance_id, lock=True)
            if before is None or before.page_id != page_id or before.kind != "maintenance":
                raise NotFound("status page maintenance", maintenance_id)
            events.delete_incident(maintenance_id)
            settle_components(self._p, uow, page_id, before.components)
            uow.record(
                "status_maintenance.delete",
                "status_maintenance",
                maintenance_id,
                before.audit(),
                None,
            )
            uow.commit()
        for edge in ("start", "end"):
            self._p.scheduler.cancel(maintenance_schedule(maintenance_id, edge))


def _require_components(
    ports: StatusPagePorts, uow: UnitOfWork, page_id: str, ids: list[str], field: str
) -> None:
    known = {c.id for c in ports.pages(uow).components(page_id)}
    missing = [c for c in ids if c not in known]
    if missing:
        raise ValidationFailed.single(
            ("body", field), f"no such component on this page: {missing[0]}"
        )
