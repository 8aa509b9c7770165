"""Incidents move status pages: the target of `incident.*` events on the orchestrix bus.

An incident of a linked service, or with an alert of a linked rule, opens one page incident
per page with such components, which take the link's impact (partial_outage by default).
Acknowledging, mitigating and resolving it post the matching public update; on resolve each
component goes back to operational unless another open event still affects it.

The public text is Orchestrix's own ("We are investigating a problem affecting Checkout"):
the incident's title, labels, notes and people never reach the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any, Final

from orchestrix.domain.ids import new_id
from orchestrix.domain.status_pages import (
    AUTOMATIC_BODY,
    LABEL,
    Component,
    ComponentStatus,
    PageIncident,
    PageUpdate,
    StatusPage,
    UpdateStatus,
    impact_of,
    worst,
)
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.status_broadcast import new_update, settle_components
from orchestrix.services.status_fanout import StatusFanout
from orchestrix.services.status_page_ports import StatusPagePorts

AUTOMATION_ACTOR: Final = "system:status-automation"
# Incident event -> the public status it means.
EVENT_STATUS: Final = {
    "incident.triggered": UpdateStatus.INVESTIGATING,
    "incident.acknowledged": UpdateStatus.IDENTIFIED,
    "incident.mitigated": UpdateStatus.MONITORING,
    "incident.resolved": UpdateStatus.RESOLVED,
}
_ORDER = list(EVENT_STATUS.values())

# An update posted (or found posted, on a redelivery), and whether anyone is to be told.
Sent = tuple[PageIncident, PageUpdate, bool]


class StatusAutomation:
    def __init__(self, ports: StatusPagePorts) -> None:
        self._p = ports
        self._fanout = StatusFanout(ports)

    def on_incident(self, tenant_id: str, detail_type: str, incident: dict[str, Any]) -> list[str]:
        """Apply one incident event; returns the page incidents it touched. Idempotent: an
        event delivered twice posts nothing new, but asks again for the fan-out of what the
        first delivery posted (its outbox rows were stored with it; sending is idempotent)."""
        wanted = EVENT_STATUS.get(detail_type)
        incident_id = str(incident.get("id") or "")
        if wanted is None or not incident_id:
            return []
        with self._p.uow(tenant_id, AUTOMATION_ACTOR) as uow:
            if wanted is UpdateStatus.INVESTIGATING:
                outgoing = self._open(uow, incident_id, incident.get("service"))
            else:
                outgoing = self._move(uow, incident_id, wanted)
            uow.commit()
        for _, update, told in outgoing:
            if told:
                self._fanout.request(tenant_id, update.id)
        return [page_incident.id for page_incident, _, _ in outgoing]

    def _open(self, uow: UnitOfWork, incident_id: str, service: Any) -> list[Sent]:
        pages = self._p.pages(uow)
        events = self._p.events(uow)
        rules = pages.rules_of_incident(incident_id)
        linked = pages.linked_components(str(service) if service else None, rules)
        existing = {e.page_id: e for e in events.of_source(incident_id)}
        by_page: dict[str, list[Component]] = defaultdict(list)
        for component in linked:
            by_page[component.page_id].append(component)
        now = self._p.clock.now()
        outgoing: list[Sent] = []
        for page_id, components in by_page.items():
            page = pages.get_page(page_id)
            if page is None:
                continue
            if page_id in existing:  # a redelivered event: resend, post nothing new
                first = existing[page_id]
                if first.updates:
                    outgoing.append((first, first.updates[-1], True))  # its rows may wait
                continue
            affected = {c.id: c.spec.impact for c in components}
            page_incident = PageIncident(
                id=new_id("spi", int(now.timestamp() * 1000)),
                page_id=page_id,
                kind="incident",
                name=_name(components, affected),
                status=UpdateStatus.INVESTIGATING,
                impact=impact_of(affected),
                components=affected,
                source_incident_id=incident_id,
                scheduled_for=None,
                scheduled_until=None,
                created_at=now,
                updated_at=now,
            )
            names = ", ".join(c.spec.name for c in components)
            body = AUTOMATIC_BODY[UpdateStatus.INVESTIGATING].format(components=names)
            update = new_update(
                page_incident.id, UpdateStatus.INVESTIGATING, body, AUTOMATION_ACTOR, now
            )
            outgoing.append(self._save(uow, page, page_incident, update, None))
        return outgoing

    def _move(self, uow: UnitOfWork, incident_id: str, wanted: UpdateStatus) -> list[Sent]:
        events = self._p.events(uow)
        now = self._p.clock.now()
        outgoing: list[Sent] = []
        for before in events.of_source(incident_id):
            page = self._p.pages(uow).get_page(before.page_id)
            if page is None:
                continue
            if _ORDER.index(before.status) >= _ORDER.index(wanted):
                # Already there (a redelivery) or past it (an editor resolved it by hand).
                same = [u for u in before.updates if u.status is wanted]
                if same:
                    outgoing.append((before, same[0], True))  # its rows may wait
                continue
            after = replace(
                before,
                status=wanted,
                updated_at=now,
                resolved_at=now if wanted is UpdateStatus.RESOLVED else None,
            )
            update = new_update(before.id, wanted, AUTOMATIC_BODY[wanted], AUTOMATION_ACTOR, now)
            outgoing.append(self._save(uow, page, after, update, before))
        return outgoing

    def _save(
        self,
        uow: UnitOfWork,
        page: StatusPage,
        incident: PageIncident,
        update: PageUpdate,
        before: PageIncident | None,
    ) -> Sent:
        events = self._p.events(uow)
        events.save_incident(incident)
        events.add_update(update)
        settle_components(self._p, uow, page.id, incident.components)
        told = self._fanout.enqueue(uow, incident, update)
        action = "status_incident.update" if before else "status_incident.create"
        after = {**incident.audit(), "update": {"status": update.status.value}}
        uow.record(
            action, "status_incident", incident.id, before.audit() if before else None, after
        )
        return replace(incident, updates=(update, *incident.updates)), update, told > 0


def _name(components: list[Component], affected: dict[str, ComponentStatus]) -> str:
    label = LABEL[worst(list(affected.values()))]
    return f"{label}: {', '.join(c.spec.name for c in components)}"[:200]
