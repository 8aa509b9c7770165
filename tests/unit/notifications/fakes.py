"""In-memory stand-ins for the notification service's ports."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from orchestrix.domain.notifications import Channel, DeliveryError, Notice, Notification
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.people import Member, MemberSpec
from orchestrix.services.notifications import NotificationService, NotificationStores


class FakeClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@dataclass
class World:
    notifications: dict[tuple[str, str], tuple[Notification, bytes]] = field(default_factory=dict)
    members: dict[tuple[str, str], Member] = field(default_factory=dict)
    audit: list[tuple[str, str]] = field(default_factory=list)


class FakeUow:
    def __init__(self, world: World, tenant_id: str) -> None:
        self.world = world
        self.tenant_id = tenant_id

    def __enter__(self) -> FakeUow:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def record(self, action: str, resource_type: str, resource_id: str, *_: Any) -> None:
        self.world.audit.append((action, resource_id))

    def commit(self) -> None:
        return None


class FakeNotifications:
    def __init__(self, world: World, tenant_id: str) -> None:
        self.w, self.t = world, tenant_id

    def _mine(self) -> list[tuple[Notification, bytes]]:
        return [v for (t, _), v in self.w.notifications.items() if t == self.t]

    def add(self, n: Notification, sealed: bytes) -> Notification:
        for existing, _ in self._mine():
            if existing.idempotency_key == n.idempotency_key:
                return existing
        self.w.notifications[(self.t, n.id)] = (n, sealed)
        return n

    def get(self, notification_id: str) -> Notification | None:
        found = self.w.notifications.get((self.t, notification_id))
        return found[0] if found else None

    def lock(self, notification_id: str) -> tuple[Notification, bytes] | None:
        return self.w.notifications.get((self.t, notification_id))

    def save(self, n: Notification) -> None:
        sealed = self.w.notifications[(self.t, n.id)][1]
        self.w.notifications[(self.t, n.id)] = (n, sealed)

    def cancel_pending(self, key: str, value: str) -> list[Notification]:
        out = []
        for n, _ in self._mine():
            if n.status == "pending" and n.context.get(key) == value:
                self.save(replace(n, status="cancelled"))
                out.append(n)
        return out

    def list(self, filters: Any, page: PageRequest) -> Page[Notification]:
        return Page([n for n, _ in self._mine()], None)


class FakeMembers:
    def __init__(self, world: World, tenant_id: str) -> None:
        self.w, self.t = world, tenant_id

    def get(self, member_id: str) -> Member | None:
        return self.w.members.get((self.t, member_id))


class PlainBox:
    """Tenant-bound like the KMS box, without KMS: enough to prove the service seals."""

    def seal(self, tenant_id: str, plaintext: bytes) -> bytes:
        return tenant_id.encode() + b"|" + plaintext[::-1]

    def open(self, tenant_id: str, sealed: bytes) -> bytes:
        tenant, _, body = sealed.partition(b"|")
        assert tenant == tenant_id.encode()
        return body[::-1]


@dataclass
class FakeScheduler:
    pending: dict[str, tuple[datetime, str, dict[str, Any]]] = field(default_factory=dict)

    def schedule(self, name: str, at: datetime, function: str, payload: dict[str, Any]) -> None:
        self.pending[name] = (at, function, payload)

    def cancel(self, name: str) -> bool:
        return self.pending.pop(name, None) is not None


class ScriptedSender:
    """Answers from a script of outcomes: None = delivered, or a DeliveryError to raise."""

    def __init__(self, *outcomes: DeliveryError | None) -> None:
        self.outcomes = list(outcomes)
        self.delivered: list[tuple[Channel, Notice]] = []
        self.calls = 0

    def __call__(self, channel: Channel, notice: Notice, notification_id: str) -> None:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.delivered.append((channel, notice))


@dataclass
class Harness:
    service: NotificationService
    world: World
    scheduler: FakeScheduler
    sender: ScriptedSender
    clock: FakeClock

    def fire_due(self, advance: timedelta) -> int:
        """Move the clock and run what is due, as the local scheduler would."""
        self.clock.at += advance
        fired = 0
        for name, (at, function, payload) in sorted(self.scheduler.pending.items()):
            if at <= self.clock.at:
                del self.scheduler.pending[name]
                assert function == "notify"
                self.service.deliver(payload["tenant_id"], payload["notification_id"])
                fired += 1
        return fired


def harness(sender: ScriptedSender) -> Harness:
    world, scheduler, clock = World(), FakeScheduler(), FakeClock()
    stores = NotificationStores(
        notifications=lambda uow: FakeNotifications(world, uow.tenant_id),
        members=lambda uow: FakeMembers(world, uow.tenant_id),
    )
    service = NotificationService(
        lambda tenant, actor, request_id=None: FakeUow(world, tenant),  # type: ignore[arg-type,return-value]
        stores,
        sender,
        PlainBox(),
        scheduler,
        clock,
    )
    return Harness(service, world, scheduler, sender, clock)


def add_member(h: Harness, tenant: str, member_id: str, spec: dict[str, Any]) -> None:
    now = h.clock.now()
    h.world.members[(tenant, member_id)] = Member(
        member_id, tenant, MemberSpec.model_validate(spec), now, now
    )
