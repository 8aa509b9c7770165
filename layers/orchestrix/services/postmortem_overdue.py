"""Overdue post-mortem action items, found by the daily housekeeping run.

Each open item past its due date (UTC days) is published as `postmortem.action_item.overdue`
once per item and due date: moving the date re-arms it. The claim is written in the
transaction the event is published from, so a failure before commit leaves the item for the
next run (at least once, and once in practice); a concurrent claim waits on the row and then
finds it claimed.
"""

from __future__ import annotations

from typing import Final

from orchestrix.ports.clock import Clock
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.unit_of_work import UnitOfWorkFactory
from orchestrix.services.postmortem_ports import PostmortemStores

OVERDUE_EVENT: Final = "postmortem.action_item.overdue"
OVERDUE_BATCH: Final = 1000  # per tenant and run; the rest wait for the next day's run


class OverdueActionItems:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        stores: PostmortemStores,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._stores = stores
        self._events = events
        self._clock = clock

    def flag(self, tenant_id: str, actor: str) -> int:
        """Publish one event per open action item past its due date; the count published."""
        today = self._clock.now().date()
        with self._uow(tenant_id, actor) as uow:
            due = self._stores.postmortems(uow).overdue(today, OVERDUE_BATCH)
        published = 0
        for item_id in due:
            with self._uow(tenant_id, actor) as uow:
                claimed = self._stores.postmortems(uow).claim_overdue(item_id, today)
                if claimed is None:
                    continue  # done, moved or claimed since it was listed
                item = claimed.item
                detail = {
                    "postmortem_id": claimed.postmortem_id,
                    "incident_id": claimed.incident_id,
                    "action_item": item.snapshot(),
                    "days_overdue": (today - item.due_date).days,
                }
                uow.record(OVERDUE_EVENT, "postmortem_action_item", item.id, None, detail)
                self._events.publish(tenant_id, OVERDUE_EVENT, detail)
                uow.commit()
            published += 1
        return published
