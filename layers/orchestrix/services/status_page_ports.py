"""The ports the status page services need, reached from a unit of work (Postgres or fakes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from orchestrix.domain.notifications import Channel, Notice, SecretBox
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.status_pages import (
    Component,
    ComponentChange,
    ComponentGroup,
    ComponentStatus,
    PageIncident,
    PageUpdate,
    StatusPage,
    Subscriber,
)
from orchestrix.ports.clock import Clock
from orchestrix.ports.scheduler import OneTimeScheduler
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

# The function that serves status pages also moves maintenances at their start and end.
STATUS_FUNCTION: Final = "status_pages"


class StatusPageRepository(Protocol):
    def slug_taken(self, slug: str) -> bool: ...

    def save_page(self, page: StatusPage) -> None: ...

    def get_page(self, page_id: str) -> StatusPage | None: ...

    def page_by_slug(self, slug: str) -> StatusPage | None: ...

    def list_pages(self, page: PageRequest) -> Page[StatusPage]: ...

    def delete_page(self, page_id: str) -> None: ...

    def save_group(self, group: ComponentGroup) -> None: ...

    def groups(self, page_id: str) -> list[ComponentGroup]: ...

    def delete_group(self, group_id: str) -> None: ...

    def save_component(self, component: Component) -> None: ...

    def components(self, page_id: str) -> list[Component]: ...

    def delete_component(self, component_id: str) -> None: ...

    def linked_components(self, service: str | None, rule_ids: list[str]) -> list[Component]: ...

    def rules_of_incident(self, incident_id: str) -> list[str]: ...

    def existing_rules(self, rule_ids: list[str]) -> set[str]: ...

    def add_change(self, component_id: str, at: datetime, status: ComponentStatus) -> None: ...

    def changes(
        self, component_ids: list[str], since: datetime
    ) -> dict[str, list[ComponentChange]]: ...


class StatusEventRepository(Protocol):
    def save_incident(self, incident: PageIncident) -> None: ...

    def add_update(self, update: PageUpdate) -> None: ...

    def get_incident(self, incident_id: str, lock: bool = False) -> PageIncident | None: ...

    def incidents(
        self,
        page_id: str,
        page: PageRequest,
        kind: str | None = None,
        open_only: bool | None = None,
    ) -> Page[PageIncident]: ...

    def of_source(self, source_incident_id: str) -> list[PageIncident]: ...

    def open_on_page(self, page_id: str) -> list[PageIncident]: ...

    def delete_incident(self, incident_id: str) -> None: ...

    def add_subscriber(
        self, subscriber: Subscriber, confirm_hash: str, unsubscribe_hash: str, sealed: bytes
    ) -> None: ...

    def subscribed(self, page_id: str, channel: str, address: str) -> bool: ...

    def save_subscriber(self, subscriber: Subscriber) -> None: ...

    def subscriber(self, subscriber_id: str) -> Subscriber | None: ...

    def subscriber_by_token(self, column: str, token_hash: str) -> Subscriber | None: ...

    def subscribers(self, page_id: str, page: PageRequest) -> Page[Subscriber]: ...

    def sealed(self, subscriber_id: str) -> bytes | None: ...

    def delete_subscriber(self, subscriber_id: str) -> None: ...


@dataclass(frozen=True)
class Delivery:
    """One update still to be told to one subscriber, claimed by a fan-out run."""

    update_id: str
    incident_id: str
    subscriber: Subscriber
    sealed: bytes
    attempts: int  # runs that took it, this one included


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # done | skipped | failed | pending (tried again at retry_at)
    notification_id: str | None = None
    error: str | None = None
    retry_at: datetime | None = None


class StatusDeliveryRepository(Protocol):
    """The outbox the posting transaction fills and the fan-out empties."""

    def enqueue(
        self, update_id: str, page_id: str, components: list[str], now: datetime
    ) -> int: ...

    def claim(self, limit: int, now: datetime, until: datetime) -> list[Delivery]: ...

    def finish(self, delivery: Delivery, outcome: DeliveryOutcome, now: datetime) -> None: ...

    def release(self, delivery: Delivery) -> None: ...

    def next_due(self) -> datetime | None: ...

    def counts(self, update_id: str) -> dict[str, int]: ...

    def purge(self, before: datetime) -> int: ...


class ChannelNotifier(Protocol):
    """The part of NotificationService subscribers are told through (SES email, signed
    webhooks through the egress policy, the delivery log, retries, idempotency keys)."""

    def notify_channel(
        self, tenant_id: str, channel: Channel, notice: Notice, actor: str
    ) -> str: ...


class SlugDirectory(Protocol):
    """Which tenant owns a public slug, asked before any tenant is known."""

    def tenant_of(self, slug: str) -> str | None: ...


@dataclass(frozen=True)
class StatusPagePorts:
    uow: UnitOfWorkFactory
    pages: Callable[[UnitOfWork], StatusPageRepository]
    events: Callable[[UnitOfWork], StatusEventRepository]
    deliveries: Callable[[UnitOfWork], StatusDeliveryRepository]
    notifier: ChannelNotifier
    secrets: SecretBox
    scheduler: OneTimeScheduler
    slugs: SlugDirectory
    clock: Clock
