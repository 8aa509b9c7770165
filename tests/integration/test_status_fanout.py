"""Status page updates reach subscribers behind the request that posted them: the post only
records who must be told; a fan-out run tells each confirmed subscriber once, a run started
again tells nobody twice, a run out of time leaves the rest to the next, failures are
retried and then recorded — against the real PostgreSQL (outbox rows under RLS)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from orchestrix.adapters.clock import AdjustableClock
from orchestrix.domain.audit import AuditFilter
from orchestrix.domain.pagination import PageRequest
from orchestrix.domain.status_inputs import IncidentSpec, SubscriberSpec, UpdateSpec
from orchestrix.domain.status_pages import ComponentStatus, UpdateStatus
from orchestrix.services.status_fanout import MAX_RUNS

from .test_status_automation import World


@pytest.fixture
def world(uow, clock: AdjustableClock, tenant: str) -> World:  # type: ignore[no-untyped-def]
    return World(uow, clock, tenant)


def subscribe(world: World, address: str, *component_ids: str, confirm: bool = True) -> str:
    spec = SubscriberSpec(channel="email", address=address, component_ids=list(component_ids))
    added = world.subscribers.add(world.editor, world.page.id, spec, None)
    if confirm:
        link = world.outbox.sent[f"status-confirm/{added.subscriber.id}"].links["confirm"]
        world.subscribers.confirm(world.tenant, world.page.spec.slug, link.split("token=")[1])
    return added.subscriber.id


def post(world: World, component_id: str, name: str = "API down") -> str:
    spec = IncidentSpec(
        name=name,
        status=UpdateStatus.INVESTIGATING,
        body="Looking into it",
        components={component_id: ComponentStatus.MAJOR_OUTAGE},
    )
    return world.events.post_incident(world.editor, world.page.id, spec, None).updates[0].id


def told(world: World) -> list[str]:
    """Addresses handed an update (each call to the notifier, repeats included)."""
    return [address for address, key in world.outbox.calls if key.startswith("status-update/")]


def counts(world: World, update_id: str, tenant: str | None = None) -> dict[str, int]:
    with world.ports.uow(tenant or world.tenant, "tester") as uow:
        return world.ports.deliveries(uow).counts(update_id)


def test_posting_tells_nobody_until_the_run_which_tells_each_confirmed_follower_once(
    world: World,
) -> None:
    # given confirmed subscribers to everything, to the API, to Billing only, and a pending one
    api, billing = world.component("API"), world.component("Billing")
    subscribe(world, "all@example.com")
    subscribe(world, "api@example.com", api)
    subscribe(world, "billing@example.com", billing)
    subscribe(world, "pending@example.com", confirm=False)

    # when an incident on the API is posted
    update_id = post(world, api)

    # then the post answered having told nobody, and a run is scheduled for it
    assert told(world) == []
    assert counts(world, update_id) == {"pending": 2}
    [(function, payload)] = [
        (f, p) for _, f, p in world.scheduler.pending.values() if "update_id" in p
    ]
    assert (function, payload) == (
        "status_pages",
        {"tenant_id": world.tenant, "update_id": update_id, "run": 0},
    )

    # when the run fires, then the two confirmed followers of the API are told, once each
    [result] = world.fan_out()
    assert sorted(told(world)) == ["all@example.com", "api@example.com"]
    assert (result.done, result.next_run_at) == (2, None)
    assert counts(world, update_id) == {"done": 2}
    [notice] = [n for k, n in world.outbox.sent.items() if k.startswith("status-update/")][:1]
    assert notice.title == "[Acme] API down: investigating"

    # when the same run is started again (a retried schedule), then nobody is told again
    again = world.fanout.run(world.tenant, update_id, 0, lambda: 300.0)
    assert (again.done, len(told(world))) == (0, 2)


def test_a_run_out_of_time_leaves_the_rest_to_the_next_run(world: World) -> None:
    api = world.component("API")
    addresses = [f"s{i}@example.com" for i in range(5)]
    for address in addresses:
        subscribe(world, address)
    update_id = post(world, api)

    # when the first run has time for two sends only
    world.scheduler.pending.clear()  # the post's own schedule: this test runs it by hand
    first = world.fanout.run(
        world.tenant, update_id, 0, lambda: 300.0 if len(told(world)) < 2 else 1.0
    )

    # then it told two, gave the rest back, and scheduled the next run at once
    assert (first.done, len(told(world))) == (2, 2)
    assert counts(world, update_id) == {"done": 2, "pending": 3}
    assert first.next_run_at is not None
    assert any(p.get("run") == 1 for _, _, p in world.scheduler.pending.values())

    # when the next run fires, then it tells the other three: everyone once
    [second] = world.fan_out()
    assert second.done == 3
    assert sorted(told(world)) == addresses
    assert counts(world, update_id) == {"done": 5}


def test_a_failing_send_is_tried_again_later_then_recorded_as_failed(
    world: World, clock: AdjustableClock
) -> None:
    api = world.component("API")
    subscribe(world, "ok@example.com")
    broken = subscribe(world, "broken@example.com")
    world.outbox.failing.add("broken@example.com")
    update_id = post(world, api)

    # when the run meets the failing subscriber, then the others are told all the same
    [first] = world.fan_out()
    assert (first.done, first.retrying) == (1, 1)
    assert counts(world, update_id) == {"done": 1, "pending": 1}
    assert first.next_run_at is not None and first.next_run_at > clock.now()
    assert world.fan_out() == []  # not before its time

    # when its later runs fail too, then it is given up and recorded
    for _ in range(MAX_RUNS - 1):
        clock.advance(timedelta(hours=1))
        world.fan_out()
    assert told(world).count("broken@example.com") == MAX_RUNS
    assert counts(world, update_id) == {"done": 1, "failed": 1}
    clock.advance(timedelta(hours=1))
    assert world.fan_out() == []  # nothing left to run
    with world.ports.uow(world.tenant, "tester") as uow:
        entries = uow.audit_log.list(  # type: ignore[attr-defined]
            AuditFilter(action="status_delivery.failed"), PageRequest()
        ).items
    [entry] = entries
    assert entry.resource_id == broken
    assert "unreachable" in entry.after["error"]


def test_who_unsubscribes_before_the_run_is_not_told(world: World) -> None:
    api = world.component("API")
    leaving = subscribe(world, "leaving@example.com")
    subscribe(world, "deleted@example.com")
    update_id = post(world, api)
    # one leaves by the unsubscribe link's token, the other is deleted by an editor
    with world.ports.uow(world.tenant, "tester") as uow:
        sealed = world.ports.events(uow).sealed(leaving)
    token = json.loads(world.ports.secrets.open(world.tenant, sealed or b""))["unsubscribe"]
    world.subscribers.unsubscribe(world.tenant, world.page.spec.slug, token)
    [deleted] = [
        s
        for s in world.subscribers.list(world.editor, world.page.id, PageRequest()).items
        if s.address == "deleted@example.com"
    ]
    world.subscribers.delete(world.editor, world.page.id, deleted.id, None)

    [result] = world.fan_out()

    assert (result.done, result.skipped, told(world)) == (0, 1, [])
    assert counts(world, update_id) == {"skipped": 1}  # the deleted one's row went with it


def test_a_tenants_run_never_touches_another_tenants_outbox(
    world: World,
    uow,
    clock: AdjustableClock,  # type: ignore[no-untyped-def]
) -> None:
    api = world.component("API")
    subscribe(world, "mine@example.com")
    update_id = post(world, api)
    intruder = World(uow, clock, f"t-{uuid.uuid4().hex[:12]}")

    # when another tenant runs a fan-out naming this tenant's update
    result = intruder.fanout.run(intruder.tenant, update_id, 0, lambda: 300.0)

    # then it found nothing to send and sees none of the rows
    assert (result.done, told(intruder), told(world)) == (0, [], [])
    assert counts(world, update_id, tenant=intruder.tenant) == {}
    assert counts(world, update_id) == {"pending": 1}


def test_an_update_to_an_open_incident_is_told_too(world: World) -> None:
    api = world.component("API")
    subscribe(world, "api@example.com", api)
    post(world, api)
    world.fan_out()
    [incident] = world.events.list(world.editor, world.page.id, "incident", PageRequest()).items
    spec = UpdateSpec(status=UpdateStatus.RESOLVED, body="Fixed")
    world.events.post_update(world.editor, world.page.id, incident.id, spec, None)
    assert len(told(world)) == 1  # nothing yet
    world.fan_out()
    assert [n.title for n in world.outbox.sent.values()][-1] == "[Acme] API down: resolved"


def test_settled_deliveries_are_purged_after_thirty_days_and_pending_ones_never(
    world: World, clock: AdjustableClock
) -> None:
    api = world.component("API")
    subscribe(world, "ok@example.com")
    settled = post(world, api)
    world.fan_out()
    clock.advance(timedelta(days=29))
    waiting = post(world, api, "Still waiting")  # its run never fires

    assert world.fanout.purge(world.tenant, "housekeeping") == 0
    clock.advance(timedelta(days=2))
    assert world.fanout.purge(world.tenant, "housekeeping") == 1

    assert counts(world, settled) == {}
    assert counts(world, waiting) == {"pending": 1}


def test_an_event_naming_no_component_is_told_to_every_confirmed_subscriber(
    world: World,
) -> None:
    billing = world.component("Billing")
    subscribe(world, "billing@example.com", billing)
    subscribe(world, "all@example.com")
    spec = IncidentSpec(name="Degraded", status=UpdateStatus.INVESTIGATING, body="Checking")
    world.events.post_incident(world.editor, world.page.id, spec, None)

    world.fan_out()

    assert sorted(told(world)) == ["all@example.com", "billing@example.com"]
