"""Incidents moving status page components, maintenances moving by time, and the uptime
history both leave — the services against the real PostgreSQL, with the incident events
delivered as the bus would deliver them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.postgres.incident_components import STORES
from orchestrix.adapters.postgres.status_components import _deliveries, _events, _pages
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.incidents import IncidentStatus, Severity
from orchestrix.domain.notifications import Channel, Notice
from orchestrix.domain.status_inputs import MaintenanceSpec, SubscriberSpec
from orchestrix.domain.status_pages import ComponentSpec, ComponentStatus, PageSpec
from orchestrix.services.escalation import EscalationService
from orchestrix.services.incidents import IncidentChanges, IncidentService, NewIncident
from orchestrix.services.sla import SlaService
from orchestrix.services.status_automation import StatusAutomation
from orchestrix.services.status_events import StatusEventService
from orchestrix.services.status_fanout import LEAD, FanoutResult, StatusFanout
from orchestrix.services.status_page_ports import StatusPagePorts
from orchestrix.services.status_pages import StatusPageService
from orchestrix.services.status_subscribers import StatusSubscriberService

from .test_incident_escalation import Pager, Scheduler


class Outbox:
    """Stands in for NotificationService.notify_channel: one send per idempotency key."""

    def __init__(self) -> None:
        self.sent: dict[str, Notice] = {}
        self.calls: list[tuple[str, str]] = []  # (channel address, idempotency key), each call
        self.failing: set[str] = set()  # addresses whose sends raise

    def notify_channel(self, tenant_id: str, channel: Channel, notice: Notice, actor: str) -> str:
        self.calls.append((channel.address, notice.idempotency_key))
        if channel.address in self.failing:
            raise ConnectionError(f"{channel.address} unreachable")
        self.sent.setdefault(notice.idempotency_key, notice)
        return notice.idempotency_key

    def titles(self) -> list[str]:
        return [n.title for n in self.sent.values() if n.context.get("kind") != "confirmation"]


class PlainBox:
    def seal(self, tenant_id: str, plaintext: bytes) -> bytes:
        return plaintext

    def open(self, tenant_id: str, sealed: bytes) -> bytes:
        return sealed


class Bus:
    """The orchestrix bus: incident events reach the status page automation at once."""

    def __init__(self) -> None:
        self.automation: StatusAutomation | None = None
        self.delivered: list[tuple[str, str, dict[str, Any]]] = []

    def publish(self, tenant_id: str, detail_type: str, detail: dict[str, Any]) -> None:
        self.delivered.append((tenant_id, detail_type, detail))
        if self.automation is not None and detail_type.startswith("incident."):
            self.automation.on_incident(tenant_id, detail_type, detail["incident"])


class World:
    def __init__(self, uow: Any, clock: AdjustableClock, tenant: str) -> None:
        self.clock = clock
        self.tenant = tenant
        self.outbox = Outbox()
        self.scheduler = Scheduler()
        self.bus = Bus()
        self.ports = StatusPagePorts(
            uow=uow,
            pages=_pages,
            events=_events,
            deliveries=_deliveries,
            notifier=self.outbox,
            secrets=PlainBox(),
            scheduler=self.scheduler,
            slugs=None,  # type: ignore[arg-type] - no public reads here
            clock=clock,
        )
        self.bus.automation = StatusAutomation(self.ports)
        escalation = EscalationService(uow, STORES, Pager(), self.scheduler, self.bus, clock)
        sla = SlaService(uow, STORES, self.scheduler, self.bus, clock)
        self.incidents = IncidentService(uow, STORES, escalation, sla, self.bus, clock)
        self.pages = StatusPageService(self.ports)
        self.events = StatusEventService(self.ports)
        self.subscribers = StatusSubscriberService(self.ports)
        self.fanout = StatusFanout(self.ports)
        self.editor = Principal(tenant, "ed", frozenset({Role.ADMIN}))
        page_spec = PageSpec(slug=f"p-{tenant}", title="Acme")
        self.page = self.pages.create(self.editor, page_spec, None)

    def fan_out(self, remaining: Callable[[], float] = lambda: 300.0) -> list[FanoutResult]:
        """Fire the fan-out runs that are due, as EventBridge Scheduler would, and the runs
        they schedule in turn while due."""
        results = []
        while due := [
            (name, payload)
            for name, (at, function, payload) in sorted(self.scheduler.pending.items())
            if function == "status_pages" and "update_id" in payload and at <= self._soon()
        ]:
            name, payload = due[0]
            del self.scheduler.pending[name]
            update_id, run = str(payload["update_id"]), int(payload["run"])
            results.append(self.fanout.run(str(payload["tenant_id"]), update_id, run, remaining))
        return results

    def _soon(self) -> Any:
        return self.clock.now() + LEAD  # a run asked for "now" is scheduled a second ahead

    def component(self, name: str, **spec: Any) -> str:
        body = ComponentSpec(name=name, **spec)
        return self.pages.save_component(self.editor, self.page.id, None, body, None).id

    def statuses(self) -> dict[str, str]:
        found = self.pages.components(self.editor, self.page.id)
        return {c.spec.name: c.status.value for c in found}

    def declare(self, service: str) -> str:
        spec = NewIncident(
            title=f"internal: {service} db pool exhausted", severity=Severity.SEV2, service=service
        )
        return self.incidents.create(self.editor, spec).id


@pytest.fixture
def world(uow, clock: AdjustableClock, tenant: str) -> World:  # type: ignore[no-untyped-def]
    return World(uow, clock, tenant)


def test_incident_of_a_linked_service_moves_its_component_through_public_updates(
    world: World,
) -> None:
    world.component("Checkout", services=["checkout"])
    world.component("Search", services=["search"], impact=ComponentStatus.MAJOR_OUTAGE)
    added = world.subscribers.add(
        world.editor, world.page.id, SubscriberSpec(channel="email", address="a@example.com"), None
    )
    token = next(iter(world.outbox.sent.values())).links["confirm"].split("token=")[1]
    world.subscribers.confirm(world.tenant, world.page.spec.slug, token)

    incident_id = world.declare("checkout")
    world.fan_out()
    assert world.statuses() == {"Checkout": "partial_outage", "Search": "operational"}
    [page_incident] = world.events.list(world.editor, world.page.id, "incident", _first()).items
    assert (page_incident.status.value, page_incident.impact) == ("investigating", "major")
    assert page_incident.name == "Partial outage: Checkout"  # never the internal title
    assert page_incident.source_incident_id == incident_id

    world.incidents.acknowledge(world.editor, incident_id)
    world.fan_out()
    world.incidents.update(
        world.editor, incident_id, IncidentChanges(status=IncidentStatus.MITIGATED)
    )
    world.fan_out()
    world.incidents.resolve(world.editor, incident_id)
    world.fan_out()
    assert world.statuses() == {"Checkout": "operational", "Search": "operational"}
    shown = world.events.get(world.editor, world.page.id, "incident", page_incident.id)
    assert [u.status.value for u in reversed(shown.updates)] == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
    ]
    # and the confirmed subscriber was told each of the four updates once
    assert world.outbox.titles() == [
        f"[Acme] Partial outage: Checkout: {s}"
        for s in ("investigating", "identified", "monitoring", "resolved")
    ]
    assert added.subscriber.status == "pending"


def test_component_recovers_only_when_no_open_incident_still_affects_it(world: World) -> None:
    world.component("Checkout", services=["checkout", "payments"])
    first = world.declare("checkout")
    second = world.declare("payments")
    world.incidents.resolve(world.editor, first)
    assert world.statuses() == {"Checkout": "partial_outage"}
    world.incidents.resolve(world.editor, second)
    assert world.statuses() == {"Checkout": "operational"}


def test_a_redelivered_incident_event_posts_and_sends_nothing_new(world: World) -> None:
    world.component("Checkout", services=["checkout"])
    sub = world.subscribers.add(
        world.editor, world.page.id, SubscriberSpec(channel="email", address="b@example.com"), None
    )
    token = (
        world.outbox.sent[f"status-confirm/{sub.subscriber.id}"].links["confirm"].split("token=")[1]
    )
    world.subscribers.confirm(world.tenant, world.page.spec.slug, token)
    world.declare("checkout")
    world.fan_out()
    tenant_id, detail_type, detail = next(
        d for d in world.bus.delivered if d[1] == "incident.triggered"
    )

    world.bus.automation.on_incident(tenant_id, detail_type, detail["incident"])  # type: ignore[union-attr]
    world.fan_out()

    [page_incident] = world.events.list(world.editor, world.page.id, "incident", _first()).items
    assert len(page_incident.updates) == 1
    assert len(world.outbox.titles()) == 1
    assert len([key for _, key in world.outbox.calls if key.startswith("status-update/")]) == 1


def test_an_unlinked_incident_leaves_the_page_alone(world: World) -> None:
    world.component("Checkout", services=["checkout"])
    world.declare("search")
    assert world.statuses() == {"Checkout": "operational"}
    assert world.events.list(world.editor, world.page.id, "incident", _first()).items == []


def test_maintenance_moves_by_time_and_an_outage_outranks_it(
    world: World, clock: AdjustableClock
) -> None:
    world.component("Checkout", services=["checkout"])
    component_id = world.pages.components(world.editor, world.page.id)[0].id
    start = clock.now() + timedelta(minutes=10)
    spec = MaintenanceSpec(
        name="DB upgrade",
        body="Upgrading",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
        component_ids=[component_id],
    )
    maintenance = world.events.schedule_maintenance(world.editor, world.page.id, spec, None)
    # one schedule at each edge, targeting this function
    schedules = {
        n: (at, f) for n, (at, f, _) in world.scheduler.pending.items() if n.startswith("status-")
    }
    assert sorted(schedules.values()) == [
        (start, "status_pages"),
        (start + timedelta(hours=1), "status_pages"),
    ]
    assert world.events.advance(world.tenant, maintenance.id) is None  # too early: nothing moves

    clock.advance(timedelta(minutes=10))
    assert world.events.advance(world.tenant, maintenance.id).status.value == "in_progress"  # type: ignore[union-attr]
    assert world.statuses() == {"Checkout": "under_maintenance"}
    incident_id = world.declare("checkout")
    assert world.statuses() == {"Checkout": "partial_outage"}
    world.incidents.resolve(world.editor, incident_id)
    assert world.statuses() == {"Checkout": "under_maintenance"}

    clock.advance(timedelta(hours=1))
    assert world.events.advance(world.tenant, maintenance.id).status.value == "completed"  # type: ignore[union-attr]
    assert world.events.advance(world.tenant, maintenance.id) is None  # a retried schedule
    assert world.statuses() == {"Checkout": "operational"}


def test_uptime_bars_come_from_the_component_history(world: World, clock: AdjustableClock) -> None:
    world.component("Checkout", services=["checkout"])
    incident_id = world.declare("checkout")
    clock.advance(timedelta(hours=10))
    world.incidents.resolve(world.editor, incident_id)
    clock.advance(timedelta(days=2))

    [(component, days)] = world.pages.uptime(world.editor, world.page.id)
    assert len(days) == 90
    seen = [d for d in days if d.uptime is not None]
    partial = sum(d.outage_seconds.get("partial_outage", 0) for d in seen)
    assert partial == pytest.approx(10 * 3600, abs=2)
    assert all(d.status is None for d in days[: -len(seen)])  # before the component existed
    assert min(d.uptime for d in seen if d.uptime is not None) < 100.0  # type: ignore[type-var]
    assert days[-1].uptime == 100.0 and component.status is ComponentStatus.OPERATIONAL


def _first() -> Any:
    from orchestrix.domain.pagination import PageRequest

    return PageRequest(limit=50)


def test_a_maintenance_already_begun_starts_at_once_and_only_its_end_is_scheduled(
    world: World, clock: AdjustableClock
) -> None:
    component_id = world.component("Checkout")
    spec = MaintenanceSpec(
        name="Hotfix",
        body="Rolling out",
        scheduled_for=clock.now() - timedelta(minutes=5),
        scheduled_until=clock.now() + timedelta(minutes=30),
        component_ids=[component_id],
    )
    maintenance = world.events.schedule_maintenance(world.editor, world.page.id, spec, None)

    assert maintenance.status.value == "in_progress"
    assert world.statuses() == {"Checkout": "under_maintenance"}
    edges = sorted(n for n in world.scheduler.pending if n.startswith("status-"))
    assert edges == [f"status-{maintenance.id}-end"]
