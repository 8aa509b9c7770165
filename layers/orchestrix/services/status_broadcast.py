"""What every status event does: settle the components it touches, and say what subscribers
are told (sent behind the request by `status_fanout`).

Components take the worst status any open incident or running maintenance gives them, and
operational once none does. Each update reaches each confirmed subscriber who follows one
of its components once: the notification's idempotency key is (update, subscriber), so a
retried event or a repeated send finds the notification already made and sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Final

from orchestrix.domain.ids import new_id
from orchestrix.domain.notifications import Channel, Notice
from orchestrix.domain.status_pages import (
    Component,
    PageIncident,
    PageUpdate,
    StatusPage,
    Subscriber,
    SubscriberSecrets,
    UpdateStatus,
    worst,
)
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.status_page_ports import StatusPagePorts

NOTIFY_ACTOR: Final = "system:status-pages"


def new_update(
    incident_id: str, status: UpdateStatus, body: str, actor: str, at: datetime
) -> PageUpdate:
    return PageUpdate(
        new_id("spu", int(at.timestamp() * 1000)), incident_id, status, body, actor, at
    )


def settle_components(
    ports: StatusPagePorts, uow: UnitOfWork, page_id: str, touched: Iterable[str]
) -> list[Component]:
    """Give each touched component of the page the status its open events imply."""
    now = ports.clock.now()
    pages = ports.pages(uow)
    open_events = ports.events(uow).open_on_page(page_id)
    wanted = set(touched)
    changed = []
    for component in pages.components(page_id):
        if component.id not in wanted:
            continue
        status = worst(
            [e.components[component.id] for e in open_events if component.id in e.components]
        )
        if status is component.status:
            continue
        after = replace(
            component, spec=component.spec.model_copy(update={"status": status}), updated_at=now
        )
        pages.save_component(after)
        pages.add_change(after.id, now, status)
        uow.record(
            "status_component.status",
            "status_component",
            after.id,
            {"status": component.status.value},
            {"status": status.value},
        )
        changed.append(after)
    return changed


def seal_secrets(ports: StatusPagePorts, tenant_id: str, secrets: SubscriberSecrets) -> bytes:
    raw = {"unsubscribe": secrets.unsubscribe_token, "signing_secret": secrets.signing_secret}
    return ports.secrets.seal(tenant_id, json.dumps(raw).encode())


def open_secrets(ports: StatusPagePorts, tenant_id: str, sealed: bytes) -> SubscriberSecrets:
    raw = json.loads(ports.secrets.open(tenant_id, sealed))
    return SubscriberSecrets(raw["unsubscribe"], raw.get("signing_secret"))


def channel_of(subscriber: Subscriber, secrets: SubscriberSecrets) -> Channel:
    if subscriber.channel == "email":
        return Channel("email", subscriber.address)
    return Channel("webhook", subscriber.address, secrets.signing_secret)


def page_path(page: StatusPage) -> str:
    return f"/status/{page.spec.slug}"


def update_notice(
    page: StatusPage,
    incident: PageIncident,
    update: PageUpdate,
    subscriber: Subscriber,
    secrets: SubscriberSecrets,
    names: dict[str, str],
) -> Notice:
    status = update.status.value.replace("_", " ")
    affected = [names[c] for c in sorted(incident.components) if c in names]
    return Notice(
        idempotency_key=f"status-update/{update.id}/{subscriber.id}",
        urgency="low",
        title=f"[{page.spec.title}] {incident.name}: {status}",
        text=update.body,
        links={
            "status_page": page_path(page),
            "unsubscribe": f"{page_path(page)}/unsubscribe?token={secrets.unsubscribe_token}",
        },
        context={
            "status_page": page.spec.slug,
            "status_incident_id": incident.id,
            "update_id": update.id,
            "kind": incident.kind,
            "status": update.status.value,
            "impact": incident.impact,
            "components": affected,
        },
    )
