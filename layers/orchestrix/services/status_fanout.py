"""Subscribers are told about status page updates behind the request that posted them.

Posting an update writes, in its own transaction, one outbox row per confirmed subscriber
who follows one of its components (`enqueue`), then asks for a fan-out run: a one-time
schedule invoking the status pages function at once, as maintenances and escalations are
scheduled. A run takes the tenant's pending rows in batches, hands each to the notification
service (SES email or a signed webhook, with its retries and delivery log) and marks it done,
until none is left or its time is nearly up; then it schedules the next run for the rest.

Each (update, subscriber) is told once: a run leases the rows it takes, the notification's
idempotency key is the same pair, so a run started again (a retried schedule, a crash
between sending and marking) finds the notification already made and sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from orchestrix.domain.notifications import backoff_seconds
from orchestrix.domain.status_pages import PageIncident, PageUpdate, StatusPage
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.status_broadcast import (
    NOTIFY_ACTOR,
    channel_of,
    open_secrets,
    update_notice,
)
from orchestrix.services.status_page_ports import (
    STATUS_FUNCTION,
    Delivery,
    DeliveryOutcome,
    StatusPagePorts,
)

log = logging.getLogger(__name__)

BATCH: Final = 50
# `at()` schedules take whole seconds and one in the past may be refused: a run asked for
# "now" is asked for a second ahead. EventBridge Scheduler starts it within that minute.
LEAD: Final = timedelta(seconds=1)
# A run stops taking rows when less than this is left: one send (a webhook's timeout, a KMS
# call, two transactions) must finish inside the Lambda's time.
MARGIN_SECONDS: Final = 15.0
# Runs that may fail on one row before it is given up (errors outside the notification
# service, which keeps its own attempts): a sealed secret that will not open, a lost database.
MAX_RUNS: Final = 3
# Rows of settled deliveries are kept this long (the notifications keep what was sent).
KEEP_SETTLED: Final = timedelta(days=30)


def fanout_schedule(update_id: str, run: int) -> str:
    # One name per run: a run must not replace the schedule that is invoking it.
    return f"fanout-{update_id}-{run}"


@dataclass
class FanoutResult:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    retrying: int = 0
    next_run_at: datetime | None = None


@dataclass(frozen=True)
class _Event:
    page: StatusPage
    incident: PageIncident
    update: PageUpdate
    names: dict[str, str]


class StatusFanout:
    def __init__(self, ports: StatusPagePorts) -> None:
        self._p = ports

    # -- in the posting transaction ---------------------------------------------------------

    def enqueue(self, uow: UnitOfWork, incident: PageIncident, update: PageUpdate) -> int:
        """Record who must be told about `update`; returns how many."""
        return self._p.deliveries(uow).enqueue(
            update.id, incident.page_id, sorted(incident.components), self._p.clock.now()
        )

    def request(self, tenant_id: str, update_id: str, run: int = 0) -> None:
        """Ask for a run now; after the commit, so that the run finds the rows. Never raises:
        the update is stored, and its rows wait for the tenant's next run if this fails."""
        try:
            self._schedule(tenant_id, update_id, run, self._p.clock.now())
        except Exception:  # the scheduler's API: the request must still answer 201
            log.exception("status fan-out not scheduled", extra={"update_id": update_id})

    def _schedule(self, tenant_id: str, update_id: str, run: int, at: datetime) -> datetime:
        at = max(at, self._p.clock.now()) + LEAD
        payload = {"tenant_id": tenant_id, "update_id": update_id, "run": run}
        self._p.scheduler.schedule(fanout_schedule(update_id, run), at, STATUS_FUNCTION, payload)
        return at

    def purge(self, tenant_id: str, actor: str) -> int:
        """Drop the rows of deliveries settled more than KEEP_SETTLED ago (daily clean-up)."""
        with self._p.uow(tenant_id, actor) as uow:
            dropped = self._p.deliveries(uow).purge(self._p.clock.now() - KEEP_SETTLED)
            uow.commit()
        return dropped

    # -- the run ------------------------------------------------------------------------------

    def run(
        self, tenant_id: str, update_id: str, run: int, remaining: Callable[[], float]
    ) -> FanoutResult:
        """Tell every pending subscriber of the tenant (not only of `update_id`, which names
        the schedule), while `remaining()` seconds allow; schedule the next run if any is
        left."""
        result = FanoutResult()
        events: dict[str, _Event | None] = {}
        while remaining() > MARGIN_SECONDS:
            now = self._p.clock.now()
            lease = now + timedelta(seconds=remaining())
            with self._p.uow(tenant_id, NOTIFY_ACTOR) as uow:
                batch = self._p.deliveries(uow).claim(BATCH, now, lease)
                for d in batch:
                    if d.update_id not in events:
                        events[d.update_id] = self._event(uow, d)
                uow.commit()
            if not batch:
                break
            for index, delivery in enumerate(batch):
                if remaining() <= MARGIN_SECONDS:
                    self._release(tenant_id, batch[index:])
                    break
                outcome = self._deliver(tenant_id, delivery, events[delivery.update_id])
                self._finish(tenant_id, delivery, outcome, result)
        with self._p.uow(tenant_id, NOTIFY_ACTOR) as uow:
            next_due = self._p.deliveries(uow).next_due()
        if next_due is not None:  # out of time, or rows to try again later
            result.next_run_at = self._schedule(tenant_id, update_id, run + 1, next_due)
        return result

    def _event(self, uow: UnitOfWork, delivery: Delivery) -> _Event | None:
        incident = self._p.events(uow).get_incident(delivery.incident_id)
        if incident is None:  # deleted since (the outbox row goes with it; a race)
            return None
        page = self._p.pages(uow).get_page(incident.page_id)
        update = next((u for u in incident.updates if u.id == delivery.update_id), None)
        if page is None or update is None:
            return None
        names = {c.id: c.spec.name for c in self._p.pages(uow).components(page.id)}
        return _Event(page, incident, update, names)

    def _deliver(self, tenant_id: str, d: Delivery, event: _Event | None) -> DeliveryOutcome:
        if event is None or d.subscriber.status != "confirmed":
            return DeliveryOutcome("skipped")  # unsubscribed (or the event deleted) since
        try:
            secrets = open_secrets(self._p, tenant_id, d.sealed)
            notice = update_notice(
                event.page, event.incident, event.update, d.subscriber, secrets, event.names
            )
            channel = channel_of(d.subscriber, secrets)
            sent = self._p.notifier.notify_channel(tenant_id, channel, notice, NOTIFY_ACTOR)
        except Exception as exc:  # one subscriber's failure must not stop the others
            error = f"{type(exc).__name__}: {exc}"[:500]
            if d.attempts >= MAX_RUNS:
                return DeliveryOutcome("failed", error=error)
            retry_at = self._p.clock.now() + timedelta(seconds=backoff_seconds(d.attempts))
            return DeliveryOutcome("pending", error=error, retry_at=retry_at)
        return DeliveryOutcome("done", notification_id=sent)

    def _finish(
        self, tenant_id: str, d: Delivery, outcome: DeliveryOutcome, result: FanoutResult
    ) -> None:
        with self._p.uow(tenant_id, NOTIFY_ACTOR) as uow:
            self._p.deliveries(uow).finish(d, outcome, self._p.clock.now())
            if outcome.status == "failed":
                # Seen in the audit log: it never became a notification with its own status.
                uow.record(
                    "status_delivery.failed",
                    "status_subscriber",
                    d.subscriber.id,
                    None,
                    {"update_id": d.update_id, "attempts": d.attempts, "error": outcome.error},
                )
            uow.commit()
        if outcome.status == "done":
            result.done += 1
        elif outcome.status == "pending":
            result.retrying += 1
        elif outcome.status == "failed":
            result.failed += 1
        else:
            result.skipped += 1

    def _release(self, tenant_id: str, rest: list[Delivery]) -> None:
        """Give back rows taken but not tried, for the next run to take at once."""
        with self._p.uow(tenant_id, NOTIFY_ACTOR) as uow:
            for d in rest:
                self._p.deliveries(uow).release(d)
            uow.commit()
