"""Builds the status page services from bootstrap's components.

Built per call (they are cheap), like the incident services; the notification service is
only built when a subscriber is actually told something.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orchestrix import bootstrap
from orchestrix.domain.notifications import Channel, Notice
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.status_automation import StatusAutomation
from orchestrix.services.status_events import StatusEventService
from orchestrix.services.status_fanout import StatusFanout
from orchestrix.services.status_page_ports import StatusPagePorts
from orchestrix.services.status_pages import StatusPageService
from orchestrix.services.status_public import PublicStatusService
from orchestrix.services.status_subscribers import StatusSubscriberService


def _pages(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.status_pages import PostgresStatusPageRepository

    return PostgresStatusPageRepository(uow.conn, uow.tenant_id)  # type: ignore[attr-defined]


def _events(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.status_events import PostgresStatusEventRepository

    return PostgresStatusEventRepository(uow.conn, uow.tenant_id)  # type: ignore[attr-defined]


def _deliveries(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.status_deliveries import PostgresStatusDeliveryRepository

    return PostgresStatusDeliveryRepository(uow.conn, uow.tenant_id)  # type: ignore[attr-defined]


class _LazyNotifier:
    """The notification service (SES, signed webhooks, the delivery log), built on use."""

    def notify_channel(self, tenant_id: str, channel: Channel, notice: Notice, actor: str) -> str:
        from orchestrix.adapters.notify.components import notification_service

        return notification_service().notify_channel(tenant_id, channel, notice, actor)


class _LazyScheduler:
    """The stage's one-time scheduler, built on first use (the daily clean-up never does)."""

    def schedule(self, name: str, at: datetime, function: str, payload: dict[str, Any]) -> None:
        bootstrap.one_time_scheduler().schedule(name, at, function, payload)

    def cancel(self, name: str) -> bool:
        return bootstrap.one_time_scheduler().cancel(name)


class _LazySecretBox:
    def seal(self, tenant_id: str, plaintext: bytes) -> bytes:
        from orchestrix.adapters.notify.components import secret_box

        return secret_box().seal(tenant_id, plaintext)

    def open(self, tenant_id: str, sealed: bytes) -> bytes:
        from orchestrix.adapters.notify.components import secret_box

        return secret_box().open(tenant_id, sealed)


class PostgresSlugDirectory:
    """Through the one definer-rights function that maps a public slug to its tenant."""

    def tenant_of(self, slug: str) -> str | None:
        with bootstrap.database().connection() as conn:
            row = conn.execute("SELECT orchestrix_status_page_tenant(%s)", (slug,)).fetchone()
            conn.rollback()
        return None if row is None or row[0] is None else str(row[0])


def ports() -> StatusPagePorts:
    return StatusPagePorts(
        uow=bootstrap.unit_of_work,
        pages=_pages,
        events=_events,
        deliveries=_deliveries,
        notifier=_LazyNotifier(),
        secrets=_LazySecretBox(),
        scheduler=_LazyScheduler(),
        slugs=PostgresSlugDirectory(),
        clock=bootstrap.clock(),
    )


def status_page_service() -> StatusPageService:
    return StatusPageService(ports())


def status_event_service() -> StatusEventService:
    return StatusEventService(ports())


def status_subscriber_service() -> StatusSubscriberService:
    return StatusSubscriberService(ports(), bootstrap.egress_policy())


def status_automation() -> StatusAutomation:
    return StatusAutomation(ports())


def status_fanout() -> StatusFanout:
    return StatusFanout(ports())


def public_status_service() -> PublicStatusService:
    return PublicStatusService(ports())
