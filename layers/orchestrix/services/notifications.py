"""Notification delivery: page a member through their rules, or post to a channel.

Every notification is a row first (status `pending`, unique per tenant and idempotency key),
then one or more attempts. Immediate ones are attempted at once; delayed ones and retries are
one-time schedules that invoke `functions/notify`, which calls `deliver`. `deliver` locks the
row, so two invocations racing for the same notification send it once.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Protocol

from orchestrix.domain.errors import NotFound
from orchestrix.domain.ids import new_id
from orchestrix.domain.notifications import (
    MAX_ATTEMPTS,
    Channel,
    DeliveryError,
    Notice,
    Notification,
    NotificationFilter,
    NotificationStatus,
    SecretBox,
    Sender,
    backoff_seconds,
    masked_target,
)
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.people import Member, rules_for
from orchestrix.ports.clock import Clock
from orchestrix.ports.scheduler import OneTimeScheduler
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "Channel",
    "Notice",
    "NotificationRepository",
    "NotificationService",
    "Sender",
]

NOTIFY_FUNCTION: Final = "notify"


class NotificationRepository(Protocol):
    def add(self, notification: Notification, sealed_channel: bytes) -> Notification:
        """Insert, or return the existing row with the same idempotency key untouched."""
        ...

    def get(self, notification_id: str) -> Notification | None: ...

    def lock(self, notification_id: str) -> tuple[Notification, bytes] | None:
        """The row and its sealed channel, locked until the unit of work ends."""
        ...

    def save(self, notification: Notification) -> None: ...

    def cancel_pending(self, context_key: str, context_value: str) -> list[Notification]: ...

    def list(self, filters: NotificationFilter, page: PageRequest) -> Page[Notification]: ...


class MemberLookup(Protocol):
    def get(self, member_id: str) -> Member | None: ...


@dataclass(frozen=True)
class NotificationStores:
    """How to reach this service's tables from a unit of work (Postgres or fakes)."""

    notifications: Callable[[UnitOfWork], NotificationRepository]
    members: Callable[[UnitOfWork], MemberLookup]


def schedule_name(notification_id: str, attempt: int) -> str:
    # One name per attempt: the schedule that is running now must not be replaced by its
    # own retry (EventBridge deletes a schedule only after its invocation).
    return f"notify-{notification_id}-{attempt}"


class NotificationService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        stores: NotificationStores,
        send: Sender,
        secrets: SecretBox,
        scheduler: OneTimeScheduler,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._stores = stores
        self._send = send
        self._secrets = secrets
        self._scheduler = scheduler
        self._clock = clock

    # -- the interface incidents and escalations use ---------------------------------------

    def notify_member(
        self, tenant_id: str, member_id: str, notice: Notice, actor: str
    ) -> builtins.list[str]:
        """Follow the member's rules for `notice.urgency`; return the notification ids."""
        now = self._clock.now()
        created: builtins.list[tuple[Notification, bool]] = []
        with self._uow(tenant_id, actor) as uow:
            member = self._stores.members(uow).get(member_id)
            if member is None:
                raise NotFound("member", member_id)
            for index, (method, delay) in enumerate(rules_for(member, notice.urgency)):
                keyed = replace(
                    notice, idempotency_key=f"{notice.idempotency_key}/{member_id}/{index}"
                )
                channel = Channel(method.type, method.address, method.signing_secret)
                at = now + timedelta(minutes=delay)
                created.append(self._add(uow, actor, keyed, channel, member_id, at))
            uow.commit()
        return self._dispatch(tenant_id, created)

    def notify_channel(self, tenant_id: str, channel: Channel, notice: Notice, actor: str) -> str:
        """Send `notice` to `channel` now (retried on transient failures); return its id."""
        with self._uow(tenant_id, actor) as uow:
            pair = self._add(uow, actor, notice, channel, None, self._clock.now())
            uow.commit()
        return self._dispatch(tenant_id, [pair])[0]

    def deliver(self, tenant_id: str, notification_id: str, first_only: bool = False) -> None:
        """One attempt. A no-op unless the notification is still pending (and, `first_only`,
        was never attempted)."""
        with self._uow(tenant_id, "system:notify") as uow:
            repo = self._stores.notifications(uow)
            found = repo.lock(notification_id)
            if found is None or found[0].status != "pending":
                return
            if first_only and found[0].attempts > 0:
                return
            notification, sealed = found
            channel = _unseal(self._secrets.open(tenant_id, sealed))
            attempts = notification.attempts + 1
            now = self._clock.now()
            retry_at = None
            try:
                self._send(channel, _notice_of(notification), notification.id)
            except DeliveryError as exc:
                retry = exc.retryable and attempts < MAX_ATTEMPTS
                status: NotificationStatus = "pending" if retry else "failed"
                updated = replace(notification, status=status, attempts=attempts, error=str(exc))
                if retry:
                    retry_at = now + timedelta(seconds=backoff_seconds(attempts))
                    updated = replace(updated, not_before=retry_at)
            else:
                updated = replace(
                    notification, status="sent", attempts=attempts, error=None, sent_at=now
                )
            repo.save(updated)
            action = "notification.attempted" if retry_at else f"notification.{updated.status}"
            before, after = _audit(notification), _audit(updated)
            uow.record(action, "notification", notification.id, before, after)
            if retry_at is not None:
                # Scheduled inside the transaction: if scheduling fails, the attempt count
                # rolls back too and the caller's own retry starts from a consistent row.
                self._scheduler.schedule(
                    schedule_name(notification.id, attempts + 1),
                    retry_at,
                    NOTIFY_FUNCTION,
                    {"tenant_id": tenant_id, "notification_id": notification.id},
                )
            uow.commit()

    def cancel_pending(self, tenant_id: str, context_key: str, context_value: str) -> int:
        """Cancel every pending notification whose context has `context_key == value`."""
        with self._uow(tenant_id, "system:notify") as uow:
            cancelled = self._stores.notifications(uow).cancel_pending(context_key, context_value)
            for n in cancelled:
                uow.record("notification.cancelled", "notification", n.id, _audit(n), None)
            uow.commit()
        for n in cancelled:
            # Best effort: `deliver` ignores cancelled rows even if a schedule still fires.
            self._scheduler.cancel(schedule_name(n.id, n.attempts + 1))
        return len(cancelled)

    # -- reads for the API -------------------------------------------------------------------

    def get(self, tenant_id: str, actor: str, notification_id: str) -> Notification:
        with self._uow(tenant_id, actor) as uow:
            found = self._stores.notifications(uow).get(notification_id)
        if found is None:
            raise NotFound("notification", notification_id)
        return found

    def list(
        self, tenant_id: str, actor: str, filters: NotificationFilter, page: PageRequest
    ) -> Page[Notification]:
        with self._uow(tenant_id, actor) as uow:
            return self._stores.notifications(uow).list(filters, page)

    # -- internals ---------------------------------------------------------------------------

    def _add(
        self,
        uow: UnitOfWork,
        actor: str,
        notice: Notice,
        channel: Channel,
        member_id: str | None,
        not_before: datetime,
    ) -> tuple[Notification, bool]:
        now = self._clock.now()
        draft = Notification(
            id=new_id("ntf", int(now.timestamp() * 1000)),
            tenant_id=uow.tenant_id,
            idempotency_key=notice.idempotency_key,
            member_id=member_id,
            channel=channel.type,
            target=masked_target(channel),
            urgency=notice.urgency,
            title=notice.title,
            text=notice.text,
            links=dict(notice.links),
            context=dict(notice.context),
            status="pending",
            attempts=0,
            error=None,
            not_before=not_before,
            created_at=now,
            sent_at=None,
            actor=actor,
        )
        sealed = self._secrets.seal(uow.tenant_id, _seal_input(channel))
        stored = self._stores.notifications(uow).add(draft, sealed)
        is_new = stored.id == draft.id
        if is_new:
            uow.record("notification.created", "notification", stored.id, None, _audit(stored))
        return stored, is_new

    def _dispatch(
        self, tenant_id: str, created: Sequence[tuple[Notification, bool]]
    ) -> builtins.list[str]:
        now = self._clock.now()
        for notification, is_new in created:
            if not is_new:
                # Same idempotency key: already sent, scheduled or settled, unless its maker
                # stopped between storing it and the first attempt (a crashed run, a timeout).
                unattempted = notification.status == "pending" and notification.attempts == 0
                if unattempted and notification.not_before <= now:
                    self.deliver(tenant_id, notification.id, first_only=True)
                continue
            if notification.not_before <= now:
                self.deliver(tenant_id, notification.id)
            else:
                self._scheduler.schedule(
                    schedule_name(notification.id, 1),
                    notification.not_before,
                    NOTIFY_FUNCTION,
                    {"tenant_id": tenant_id, "notification_id": notification.id},
                )
        return [n.id for n, _ in created]


def _seal_input(channel: Channel) -> bytes:
    return json.dumps(
        {"type": channel.type, "address": channel.address, "secret": channel.signing_secret}
    ).encode()


def _unseal(raw: bytes) -> Channel:
    data = json.loads(raw)
    return Channel(data["type"], data["address"], data.get("secret"))


def _notice_of(n: Notification) -> Notice:
    return Notice(n.idempotency_key, n.urgency, n.title, n.text, n.links, n.context)


def _audit(n: Notification) -> dict[str, object]:
    return {
        "status": n.status,
        "attempts": n.attempts,
        "error": n.error,
        "channel": n.channel,
        "target": n.target,
        "member_id": n.member_id,
        "idempotency_key": n.idempotency_key,
    }
