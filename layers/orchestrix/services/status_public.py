"""What anyone may read of a status page, by its slug, without signing in.

Only public fields leave here: the page, its groups and components (name, description,
status, uptime), and the page's own incidents and maintenances with their updates. Links to
services and rules, the Orchestrix incident behind a page incident, who posted an update and
the subscribers stay behind.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from orchestrix.domain.errors import NotFound
from orchestrix.domain.pagination import PageRequest
from orchestrix.domain.status_pages import (
    Component,
    ComponentGroup,
    ComponentStatus,
    PageIncident,
    StatusPage,
    UpdateStatus,
    UptimeDay,
    maintenance_status_at,
    worst,
)
from orchestrix.services.status_page_ports import StatusPagePorts
from orchestrix.services.status_pages import component_uptime

READER: Final = "public:reader"
HISTORY_ITEMS: Final = 50
RECENT_DAYS: Final = 14


@dataclass(frozen=True)
class PublicPage:
    page: StatusPage
    status: ComponentStatus  # the worst component status: the page's indicator
    groups: list[ComponentGroup]
    components: list[tuple[Component, list[UptimeDay]]]
    open_incidents: list[PageIncident]
    maintenances: list[PageIncident]  # scheduled or in progress
    recent: list[PageIncident]  # closed in the last RECENT_DAYS days
    updated_at: datetime
    now: datetime


class PublicStatusService:
    def __init__(self, ports: StatusPagePorts) -> None:
        self._p = ports

    def tenant_of(self, slug: str) -> str:
        tenant_id = self._p.slugs.tenant_of(slug)
        if tenant_id is None:
            raise NotFound("status page", slug)
        return tenant_id

    def page(self, slug: str) -> PublicPage:
        page, events, extra = self._read(slug, with_components=True)
        groups, components = extra
        now = self._p.clock.now()
        open_incidents = [e for e in events if e.kind == "incident" and e.is_open]
        maintenances = sorted(
            (e for e in events if e.kind == "maintenance" and e.is_open),
            key=lambda e: e.scheduled_for or e.created_at,
        )
        recent = [
            e
            for e in events
            if not e.is_open
            and (e.resolved_at or e.updated_at) >= now - timedelta(days=RECENT_DAYS)
        ]
        stamps = (
            [page.updated_at]
            + [c.updated_at for c, _ in components]
            + [e.updated_at for e in events]
        )
        return PublicPage(
            page=page,
            status=worst([c.status for c, _ in components]),
            groups=groups,
            components=components,
            open_incidents=open_incidents,
            maintenances=maintenances,
            recent=recent,
            updated_at=max(stamps),
            now=now,
        )

    def history(self, slug: str) -> tuple[StatusPage, list[PageIncident]]:
        """The page's last incidents and maintenances, newest first (for RSS and Atom)."""
        page, events, _ = self._read(slug, with_components=False)
        return page, events

    def _read(
        self, slug: str, with_components: bool
    ) -> tuple[
        StatusPage,
        list[PageIncident],
        tuple[list[ComponentGroup], list[tuple[Component, list[UptimeDay]]]],
    ]:
        """The page, its last events (maintenances where time has moved them) and, if asked,
        its groups and components with their uptime; one read under the owner's RLS."""
        tenant_id = self.tenant_of(slug)
        now = self._p.clock.now()
        with self._p.uow(tenant_id, READER) as uow:
            page = self._p.pages(uow).page_by_slug(slug)
            if page is None:
                raise NotFound("status page", slug)
            found = self._p.events(uow).incidents(page.id, PageRequest(limit=HISTORY_ITEMS))
            groups = self._p.pages(uow).groups(page.id) if with_components else []
            components = component_uptime(self._p, uow, page.id) if with_components else []
        # A late schedule must not leave a finished maintenance on the page: time decides.
        return page, [_timed(e, now) for e in found.items], (groups, components)


def _timed(event: PageIncident, now: datetime) -> PageIncident:
    if event.kind != "maintenance":
        return event
    status = maintenance_status_at(event, now)
    if status is event.status:
        return event
    return replace(
        event, status=status, resolved_at=now if status is UpdateStatus.COMPLETED else None
    )
