"""Status page subscribers: double opt-in, per component, with an unsubscribe link.

A new subscriber is `pending` and gets one message with a confirmation link; only a
confirmed subscriber is told about updates. Tokens are random; the database keeps the hash
of the confirmation token (sent once) and, sealed, the unsubscribe token that every message
carries. Webhook subscribers get a signing secret, shown once, that signs every delivery.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from typing import Final

from orchestrix.domain.egress import EgressDenied, EgressPolicy, EgressUnresolvable
from orchestrix.domain.errors import Conflict, NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.notifications import Notice
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.status_inputs import SubscriberSpec
from orchestrix.domain.status_pages import StatusPage, Subscriber, SubscriberSecrets
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.status_broadcast import channel_of, page_path, seal_secrets
from orchestrix.services.status_page_ports import StatusPagePorts
from orchestrix.services.status_pages import require_page

PUBLIC_ACTOR: Final = "public:subscriber"


@dataclass(frozen=True)
class NewSubscriber:
    subscriber: Subscriber
    signing_secret: str | None  # webhooks only; shown once


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StatusSubscriberService:
    def __init__(self, ports: StatusPagePorts, egress: EgressPolicy | None = None) -> None:
        self._p = ports
        self._egress = egress

    # -- editors ----------------------------------------------------------------------------

    def add(
        self, principal: Principal, page_id: str, spec: SubscriberSpec, request_id: str | None
    ) -> NewSubscriber:
        principal.require_role(Role.EDITOR)
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            page = require_page(self._p, uow, page_id)
            added = self._add(uow, page, spec)
        return self._send_confirmation(principal.tenant_id, page, *added)

    def list(self, principal: Principal, page_id: str, page: PageRequest) -> Page[Subscriber]:
        principal.require_role(Role.EDITOR)  # addresses are personal data
        with self._p.uow(principal.tenant_id, principal.actor) as uow:
            require_page(self._p, uow, page_id)
            return self._p.events(uow).subscribers(page_id, page)

    def delete(
        self, principal: Principal, page_id: str, subscriber_id: str, request_id: str | None
    ) -> None:
        principal.require_role(Role.EDITOR)
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            require_page(self._p, uow, page_id)
            events = self._p.events(uow)
            before = events.subscriber(subscriber_id)
            if before is None or before.page_id != page_id:
                raise NotFound("subscriber", subscriber_id)
            events.delete_subscriber(subscriber_id)
            uow.record(
                "status_subscriber.delete", "status_subscriber", subscriber_id, before.audit(), None
            )
            uow.commit()

    # -- the public -------------------------------------------------------------------------

    def subscribe(self, tenant_id: str, slug: str, spec: SubscriberSpec) -> NewSubscriber:
        with self._p.uow(tenant_id, PUBLIC_ACTOR) as uow:
            page = self._p.pages(uow).page_by_slug(slug)
            if page is None:
                raise NotFound("status page", slug)
            added = self._add(uow, page, spec)
        return self._send_confirmation(tenant_id, page, *added)

    def confirm(self, tenant_id: str, slug: str, token: str) -> Subscriber:
        return self._settle(tenant_id, slug, "confirm_hash", token, "confirmed")

    def unsubscribe(self, tenant_id: str, slug: str, token: str) -> Subscriber:
        return self._settle(tenant_id, slug, "unsubscribe_hash", token, "unsubscribed")

    # -- internals --------------------------------------------------------------------------

    def _add(
        self, uow: UnitOfWork, page: StatusPage, spec: SubscriberSpec
    ) -> tuple[Subscriber, SubscriberSecrets, str]:
        """Store a pending subscriber; commits. Returns it, its secrets, its confirm token."""
        self._check_address(spec)
        known = {c.id for c in self._p.pages(uow).components(page.id)}
        missing = [c for c in spec.component_ids if c not in known]
        if missing:
            raise ValidationFailed.single(
                ("body", "component_ids"), f"no such component on this page: {missing[0]}"
            )
        if self._p.events(uow).subscribed(page.id, spec.channel, spec.address):
            # One confirmation per address until it unsubscribes: nobody can flood an inbox
            # (or a webhook) with confirmation requests by subscribing it again and again.
            raise Conflict("this address is already subscribed or awaiting confirmation")
        now = self._p.clock.now()
        subscriber = Subscriber(
            id=new_id("sub", int(now.timestamp() * 1000)),
            page_id=page.id,
            channel=spec.channel,
            address=spec.address,
            component_ids=tuple(dict.fromkeys(spec.component_ids)),
            status="pending",
            created_at=now,
        )
        confirm_token = secrets.token_urlsafe(24)
        kept = SubscriberSecrets(
            unsubscribe_token=secrets.token_urlsafe(24),
            signing_secret=secrets.token_urlsafe(32) if spec.channel == "webhook" else None,
        )
        sealed = seal_secrets(self._p, uow.tenant_id, kept)
        events = self._p.events(uow)
        events.add_subscriber(
            subscriber, token_hash(confirm_token), token_hash(kept.unsubscribe_token), sealed
        )
        uow.record(
            "status_subscriber.create", "status_subscriber", subscriber.id, None, subscriber.audit()
        )
        uow.commit()
        return subscriber, kept, confirm_token

    def _send_confirmation(
        self,
        tenant_id: str,
        page: StatusPage,
        subscriber: Subscriber,
        kept: SubscriberSecrets,
        confirm_token: str,
    ) -> NewSubscriber:
        notice = _confirmation(page, subscriber, confirm_token)
        self._p.notifier.notify_channel(
            tenant_id, channel_of(subscriber, kept), notice, PUBLIC_ACTOR
        )
        return NewSubscriber(subscriber, kept.signing_secret)

    def _check_address(self, spec: SubscriberSpec) -> None:
        """Webhook URLs must pass the egress policy when saved, as members' do."""
        if spec.channel != "webhook" or self._egress is None:
            return
        try:
            self._egress.check_url(spec.address)
        except EgressUnresolvable:
            return  # DNS may differ at send time, which checks again
        except EgressDenied as exc:
            raise ValidationFailed.single(
                ("body", "address"), f"address refused by the egress policy: {exc.reason}"
            ) from exc

    def _settle(
        self, tenant_id: str, slug: str, column: str, token: str, status: str
    ) -> Subscriber:
        with self._p.uow(tenant_id, PUBLIC_ACTOR) as uow:
            page = self._p.pages(uow).page_by_slug(slug)
            events = self._p.events(uow)
            found = events.subscriber_by_token(column, token_hash(token)) if token else None
            if page is None or found is None or found.page_id != page.id:
                raise NotFound("subscription", "token")
            if found.status == status or found.status == "unsubscribed":
                return found  # a second click changes nothing, and never re-subscribes
            now = self._p.clock.now()
            after = replace(
                found,
                status=status,
                confirmed_at=now if status == "confirmed" else found.confirmed_at,
                unsubscribed_at=now if status == "unsubscribed" else None,
            )
            events.save_subscriber(after)
            action = (
                "status_subscriber.confirm"
                if status == "confirmed"
                else "status_subscriber.unsubscribe"
            )
            uow.record(action, "status_subscriber", found.id, found.audit(), after.audit())
            uow.commit()
        return after


def _confirmation(page: StatusPage, subscriber: Subscriber, token: str) -> Notice:
    return Notice(
        idempotency_key=f"status-confirm/{subscriber.id}",
        urgency="low",
        title=f"Confirm your subscription to {page.spec.title}",
        text=(
            f"Someone asked to receive status updates of {page.spec.title} at this address. "
            "Open the confirmation link to start receiving them; ignore this message otherwise."
        ),
        links={
            "confirm": f"{page_path(page)}/confirm?token={token}",
            "status_page": page_path(page),
        },
        context={
            "status_page": page.spec.slug,
            "subscriber_id": subscriber.id,
            "kind": "confirmation",
        },
    )
