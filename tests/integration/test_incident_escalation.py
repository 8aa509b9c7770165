"""Incident intake and escalation against the real PostgreSQL: grouping under concurrency,
idempotent escalation steps, acknowledgement stopping everything, repeat and exhaustion."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.postgres.incident_components import STORES
from orchestrix.domain.escalation import EscalationPolicy, Level, Step, Target, TargetType
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.incidents import AlertSnapshot, IncidentStatus
from orchestrix.domain.notifications import Notice
from orchestrix.services.escalation import EscalationService
from orchestrix.services.incidents import IncidentService
from orchestrix.services.sla import SlaService

# Alert intake places alerts with the service graph observed in traces (bootstrap's store).
pytestmark = pytest.mark.usefixtures("bootstrap_database")


class Pager:
    """Stands in for NotificationService: remembers pages, deduplicates by key like it."""

    def __init__(self) -> None:
        self.pages: list[tuple[str, str]] = []  # (member, idempotency key)
        self.cancelled: list[str] = []

    def notify_member(
        self, tenant_id: str, member_id: str, notice: Notice, actor: str
    ) -> list[str]:
        self.pages.append((member_id, notice.idempotency_key))
        return [f"ntf-{len(self.pages)}"]

    def cancel_pending(self, tenant_id: str, context_key: str, context_value: str) -> int:
        self.cancelled.append(context_value)
        return 0

    def members(self) -> list[str]:
        return [member for member, _ in self.pages]


class Scheduler:
    def __init__(self) -> None:
        self.pending: dict[str, tuple[datetime, str, dict[str, Any]]] = {}

    def schedule(self, name: str, at: datetime, function: str, payload: dict[str, Any]) -> None:
        self.pending[name] = (at, function, payload)

    def cancel(self, name: str) -> bool:
        return self.pending.pop(name, None) is not None

    def escalations(self) -> list[dict[str, Any]]:
        return [p for _, f, p in self.pending.values() if f == "escalate"]


class Events:
    def __init__(self) -> None:
        self.published: list[str] = []

    def publish(self, tenant_id: str, detail_type: str, detail: dict[str, Any]) -> None:
        self.published.append(detail_type)


@pytest.fixture
def world(uow, clock: AdjustableClock):  # type: ignore[no-untyped-def]
    pager, scheduler, events = Pager(), Scheduler(), Events()
    escalation = EscalationService(uow, STORES, pager, scheduler, events, clock)
    sla = SlaService(uow, STORES, scheduler, events, clock)
    incidents = IncidentService(uow, STORES, escalation, sla, events, clock)
    return incidents, escalation, pager, scheduler, events


def add_policy(
    uow, tenant: str, clock: AdjustableClock, repeat: int = 0, owner: str | None = None
) -> str:  # type: ignore[no-untyped-def]
    levels = (
        Level(delay_minutes=5, targets=(Target(type=TargetType.MEMBER, id="mem_a"),)),
        Level(delay_minutes=5, targets=(Target(type=TargetType.MEMBER, id="mem_b"),)),
    )
    now = clock.now()
    policy = EscalationPolicy("esc_1", tenant, "api", "", repeat, owner, levels, now, now, "t")
    with uow(tenant) as u:
        STORES.policies(u).add(policy)
        u.commit()
    return policy.id


def alert(
    n: int, service: str = "checkout", severity: str = "critical", **extra: Any
) -> AlertSnapshot:
    data = {
        "id": f"alert-{n}",
        "fingerprint": f"fp-{n}",
        "labels": {"alertname": "HighErrorRate", "service": service, "instance": f"i-{n}"},
        "severity": severity,
        **extra,
    }
    return AlertSnapshot.parse({"alert": data})


def responder(tenant: str) -> Principal:
    return Principal(tenant, "ada", frozenset({Role.RESPONDER}))


def run_due(escalation: EscalationService, scheduler: Scheduler, clock: AdjustableClock) -> None:
    for name, (at, function, payload) in sorted(scheduler.pending.items(), key=lambda i: i[1][0]):
        if function == "escalate" and at <= clock.now():
            del scheduler.pending[name]
            step = Step(payload["round"], payload["level"])
            escalation.run_step(payload["tenant_id"], payload["incident_id"], step)


def test_two_hundred_concurrent_alerts_of_one_outage_are_one_incident(world, tenant):  # type: ignore[no-untyped-def]
    incidents, *_ = world

    # when 200 alerts of the same service fire at once from 8 threads
    with ThreadPoolExecutor(8) as pool:
        opened = list(pool.map(lambda n: incidents.on_alert_fired(tenant, alert(n)), range(200)))

    # then they all landed in one incident holding all 200
    assert len({i.id for i in opened}) == 1
    page = incidents.search(responder(tenant), _first_page())
    assert [(i.alert_count, i.status) for i in page.items] == [(200, IncidentStatus.TRIGGERED)]


def test_alerts_of_another_service_or_after_the_window_open_new_incidents(world, tenant, clock):  # type: ignore[no-untyped-def]
    incidents, *_ = world
    first = incidents.on_alert_fired(tenant, alert(1))
    other_service = incidents.on_alert_fired(tenant, alert(2, service="search"))
    clock.advance(timedelta(minutes=6))
    after_window = incidents.on_alert_fired(tenant, alert(3))

    assert len({first.id, other_service.id, after_window.id}) == 3


def test_warnings_and_silenced_alerts_open_nothing(world, tenant):  # type: ignore[no-untyped-def]
    incidents, *_ = world

    assert incidents.on_alert_fired(tenant, alert(1, severity="warning")) is None
    assert incidents.on_alert_fired(tenant, alert(2, suppressed=True)) is None
    assert incidents.search(responder(tenant), _first_page()).items == []


def test_retried_escalation_step_pages_nobody_twice(world, tenant, uow, clock):  # type: ignore[no-untyped-def]
    incidents, escalation, pager, scheduler, _ = world
    policy_id = add_policy(uow, tenant, clock)
    opened = incidents.on_alert_fired(tenant, alert(1, escalation_policy_id=policy_id))
    (payload,) = scheduler.escalations()

    # when the scheduler delivers level 2 three times
    clock.advance(timedelta(minutes=5))
    results = [
        escalation.run_step(tenant, opened.id, Step(payload["round"], payload["level"]))
        for _ in range(3)
    ]

    # then level 2 was paged exactly once
    assert [r.ran for r in results] == [True, False, False]
    assert pager.members() == ["mem_a", "mem_b"]
    assert payload["idempotency_key"] == f"incident:{opened.id}:r0:l1"


def test_acknowledged_incident_stops_escalation(world, tenant, uow, clock):  # type: ignore[no-untyped-def]
    incidents, escalation, pager, scheduler, events = world
    policy_id = add_policy(uow, tenant, clock)
    opened = incidents.on_alert_fired(tenant, alert(1, escalation_policy_id=policy_id))
    (payload,) = scheduler.escalations()

    incidents.acknowledge(responder(tenant), opened.id)
    # even a schedule that fires anyway (deleted too late) pages nobody
    clock.advance(timedelta(minutes=30))
    late = escalation.run_step(tenant, opened.id, Step(payload["round"], payload["level"]))

    assert not late.ran
    assert scheduler.escalations() == []
    assert pager.members() == ["mem_a"]
    assert pager.cancelled == [opened.id]
    assert events.published == ["incident.triggered", "incident.acknowledged"]


def test_unacknowledged_incident_repeats_then_tells_the_owner(world, tenant, uow, clock):  # type: ignore[no-untyped-def]
    incidents, escalation, pager, scheduler, _ = world
    policy_id = add_policy(uow, tenant, clock, repeat=1, owner="mem_owner")
    opened = incidents.on_alert_fired(tenant, alert(1, escalation_policy_id=policy_id))

    for _ in range(6):
        clock.advance(timedelta(minutes=5))
        run_due(escalation, scheduler, clock)

    assert pager.members() == ["mem_a", "mem_b", "mem_a", "mem_b", "mem_owner"]
    kinds = [e.kind.value for e in incidents.timeline(responder(tenant), opened.id)]
    assert kinds.count("escalated") == 3
    assert kinds[-2:] == ["escalation_exhausted", "notified"]
    assert scheduler.escalations() == []


def test_resolving_records_a_missed_target_once(world, tenant, clock):  # type: ignore[no-untyped-def]
    incidents, *_ = world
    opened = incidents.on_alert_fired(tenant, alert(1))  # SEV1: ack in 5 min, resolve in 60

    clock.advance(timedelta(minutes=7))
    resolved = incidents.resolve(responder(tenant), opened.id)

    assert resolved.sla_breaches == ("ack",)
    assert resolved.acknowledged_at is None


def _first_page():  # type: ignore[no-untyped-def]
    from orchestrix.domain.pagination import PageRequest

    return PageRequest(limit=50)
