"""The status page outbox: who must still be told about which update (migration 0019)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from orchestrix.adapters.postgres.status_events import _subscriber
from orchestrix.services.status_page_ports import Delivery, DeliveryOutcome

# The audience is fixed when the update is stored: the confirmed subscribers who follow one
# of its components. A subscriber naming no component follows them all, and an event naming
# none concerns every subscriber.
ENQUEUE = """
INSERT INTO status_deliveries (tenant_id, update_id, subscriber_id, created_at)
SELECT tenant_id, %(update_id)s, id, %(now)s FROM status_subscribers
WHERE page_id = %(page_id)s AND status = 'confirmed'
  AND (cardinality(component_ids) = 0 OR cardinality(%(components)s::text[]) = 0
       OR component_ids && %(components)s::text[])
ON CONFLICT DO NOTHING
"""
# SKIP LOCKED: two runs at once (two updates posted together) share the rows, never both
# take one. A lease past its end belongs to a run that died; it is taken again.
CLAIM = """
WITH picked AS (
    SELECT tenant_id, update_id, subscriber_id FROM status_deliveries
    WHERE status = 'pending' AND (claimed_until IS NULL OR claimed_until <= %(now)s)
    ORDER BY created_at, update_id, subscriber_id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE status_deliveries d SET claimed_until = %(until)s, attempts = d.attempts + 1
    FROM picked p
    WHERE d.tenant_id = p.tenant_id AND d.update_id = p.update_id
      AND d.subscriber_id = p.subscriber_id
    RETURNING d.update_id, d.subscriber_id, d.attempts, d.created_at
)
SELECT c.update_id, c.attempts, u.incident_id, s.*
FROM claimed c
JOIN status_page_updates u ON u.id = c.update_id
JOIN status_subscribers s ON s.id = c.subscriber_id
ORDER BY c.created_at, c.update_id, c.subscriber_id
"""
FINISH = """
UPDATE status_deliveries
SET status = %(status)s, notification_id = %(notification_id)s, error = %(error)s,
    claimed_until = %(retry_at)s, done_at = CASE WHEN %(status)s = 'pending' THEN NULL
                                                 ELSE %(now)s::timestamptz END
WHERE update_id = %(update_id)s AND subscriber_id = %(subscriber_id)s
"""
RELEASE = """
UPDATE status_deliveries SET claimed_until = NULL, attempts = attempts - 1
WHERE update_id = %(update_id)s AND subscriber_id = %(subscriber_id)s AND status = 'pending'
"""
NEXT_DUE = """
SELECT min(coalesce(claimed_until, created_at)) FROM status_deliveries WHERE status = 'pending'
"""
PURGE = """
DELETE FROM status_deliveries WHERE status <> 'pending' AND done_at < %(before)s
"""
COUNTS = "SELECT status, count(*) FROM status_deliveries WHERE update_id = %(u)s GROUP BY status"


class PostgresStatusDeliveryRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def enqueue(self, update_id: str, page_id: str, components: list[str], now: datetime) -> int:
        params = {"update_id": update_id, "page_id": page_id, "components": components, "now": now}
        return self._conn.execute(ENQUEUE, params).rowcount

    def claim(self, limit: int, now: datetime, until: datetime) -> list[Delivery]:
        rows = (
            self._conn.cursor(row_factory=dict_row)
            .execute(CLAIM, {"limit": limit, "now": now, "until": until})
            .fetchall()
        )
        return [
            Delivery(
                update_id=r["update_id"],
                incident_id=r["incident_id"],
                subscriber=_subscriber(r),
                sealed=bytes(r["sealed"]),
                attempts=r["attempts"],
            )
            for r in rows
        ]

    def finish(self, delivery: Delivery, outcome: DeliveryOutcome, now: datetime) -> None:
        self._conn.execute(
            FINISH,
            {
                "status": outcome.status,
                "notification_id": outcome.notification_id,
                "error": outcome.error,
                "retry_at": outcome.retry_at,
                "now": now,
                "update_id": delivery.update_id,
                "subscriber_id": delivery.subscriber.id,
            },
        )

    def release(self, delivery: Delivery) -> None:
        keys = {"update_id": delivery.update_id, "subscriber_id": delivery.subscriber.id}
        self._conn.execute(RELEASE, keys)

    def next_due(self) -> datetime | None:
        row = self._conn.execute(NEXT_DUE).fetchone()
        return None if row is None else row[0]

    def counts(self, update_id: str) -> dict[str, int]:
        return {str(s): int(n) for s, n in self._conn.execute(COUNTS, {"u": update_id})}

    def purge(self, before: datetime) -> int:
        return self._conn.execute(PURGE, {"before": before}).rowcount
