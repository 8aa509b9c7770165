"""What status pages tell (incidents, maintenances, their updates) and who is told."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.status_pages import (
    ComponentStatus,
    PageIncident,
    PageUpdate,
    Subscriber,
    UpdateStatus,
)

UPSERT_INCIDENT = """
INSERT INTO status_page_incidents (tenant_id, id, page_id, kind, name, status, impact,
    components, incident_id, scheduled_for, scheduled_until, created_at, updated_at, resolved_at)
VALUES (%(tenant_id)s, %(id)s, %(page_id)s, %(kind)s, %(name)s, %(status)s, %(impact)s,
    %(components)s, %(source)s, %(scheduled_for)s, %(scheduled_until)s, %(created_at)s,
    %(updated_at)s, %(resolved_at)s)
ON CONFLICT (tenant_id, id) DO UPDATE
SET name = excluded.name, status = excluded.status, impact = excluded.impact,
    components = excluded.components, scheduled_for = excluded.scheduled_for,
    scheduled_until = excluded.scheduled_until, updated_at = excluded.updated_at,
    resolved_at = excluded.resolved_at
"""
_WITH_UPDATES = """
SELECT i.*, coalesce((SELECT jsonb_agg(jsonb_build_object('id', u.id, 'status', u.status,
        'body', u.body, 'created_by', u.created_by, 'created_at', u.created_at)
        ORDER BY u.created_at DESC, u.id DESC)
    FROM status_page_updates u WHERE u.incident_id = i.id), '[]') AS updates
FROM status_page_incidents i
"""
LIST_INCIDENTS = (
    _WITH_UPDATES
    + """
WHERE i.page_id = %(page_id)s AND (%(kind)s::text IS NULL OR i.kind = %(kind)s)
  AND (%(open)s::boolean IS NULL OR (i.status NOT IN ('resolved', 'completed')) = %(open)s)
  AND (%(after_at)s::timestamptz IS NULL OR (i.created_at, i.id) < (%(after_at)s, %(after_id)s))
ORDER BY i.created_at DESC, i.id DESC LIMIT %(limit)s
"""
)
ADD_UPDATE = """
INSERT INTO status_page_updates (tenant_id, id, incident_id, status, body, created_by, created_at)
VALUES (%(tenant_id)s, %(id)s, %(incident_id)s, %(status)s, %(body)s, %(created_by)s,
        %(created_at)s)
"""
ADD_SUBSCRIBER = """
INSERT INTO status_subscribers (tenant_id, id, page_id, channel, address, component_ids, status,
    confirm_hash, unsubscribe_hash, sealed, created_at)
VALUES (%(tenant_id)s, %(id)s, %(page_id)s, %(channel)s, %(address)s, %(component_ids)s,
    %(status)s, %(confirm_hash)s, %(unsubscribe_hash)s, %(sealed)s, %(created_at)s)
"""
SET_SUBSCRIBER = """
UPDATE status_subscribers
SET status = %(status)s, confirmed_at = %(confirmed_at)s, unsubscribed_at = %(unsubscribed_at)s
WHERE id = %(id)s
"""
LIST_SUBSCRIBERS = """
SELECT * FROM status_subscribers WHERE page_id = %(page_id)s
  AND (%(after_at)s::timestamptz IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC LIMIT %(limit)s
"""


class PostgresStatusEventRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def _rows(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row).execute(sql, params).fetchall()

    # -- incidents and maintenances ------------------------------------------------------------

    def save_incident(self, incident: PageIncident) -> None:
        self._conn.execute(
            UPSERT_INCIDENT,
            {
                "tenant_id": self._tenant_id,
                "id": incident.id,
                "page_id": incident.page_id,
                "kind": incident.kind,
                "name": incident.name,
                "status": incident.status.value,
                "impact": incident.impact,
                "components": Jsonb({k: v.value for k, v in incident.components.items()}),
                "source": incident.source_incident_id,
                "scheduled_for": incident.scheduled_for,
                "scheduled_until": incident.scheduled_until,
                "created_at": incident.created_at,
                "updated_at": incident.updated_at,
                "resolved_at": incident.resolved_at,
            },
        )

    def add_update(self, update: PageUpdate) -> None:
        self._conn.execute(
            ADD_UPDATE,
            {
                "tenant_id": self._tenant_id,
                "id": update.id,
                "incident_id": update.incident_id,
                "status": update.status.value,
                "body": update.body,
                "created_by": update.created_by,
                "created_at": update.created_at,
            },
        )

    def get_incident(self, incident_id: str, lock: bool = False) -> PageIncident | None:
        sql = _WITH_UPDATES + "WHERE i.id = %(id)s" + (" FOR UPDATE OF i" if lock else "")
        rows = self._rows(sql, {"id": incident_id})
        return _incident(rows[0]) if rows else None

    def incidents(
        self,
        page_id: str,
        page: PageRequest,
        kind: str | None = None,
        open_only: bool | None = None,
    ) -> Page[PageIncident]:
        params = {**keyset_params(page), "page_id": page_id, "kind": kind, "open": open_only}
        rows = self._rows(LIST_INCIDENTS, params)
        return keyset_page(rows, page, _incident, lambda i: (i.created_at, i.id))

    def of_source(self, source_incident_id: str) -> list[PageIncident]:
        """Every page's incident raised by this Orchestrix incident, locked."""
        sql = _WITH_UPDATES + "WHERE i.incident_id = %(s)s ORDER BY i.page_id FOR UPDATE OF i"
        return [_incident(r) for r in self._rows(sql, {"s": source_incident_id})]

    def open_on_page(self, page_id: str) -> list[PageIncident]:
        sql = (
            _WITH_UPDATES
            + "WHERE i.page_id = %(p)s AND i.status NOT IN ('resolved', 'completed', 'scheduled')"
        )
        return [_incident(r) for r in self._rows(sql, {"p": page_id})]

    def delete_incident(self, incident_id: str) -> None:
        self._conn.execute(
            "DELETE FROM status_page_incidents WHERE id = %(id)s", {"id": incident_id}
        )

    # -- subscribers ---------------------------------------------------------------------------

    def add_subscriber(
        self, subscriber: Subscriber, confirm_hash: str, unsubscribe_hash: str, sealed: bytes
    ) -> None:
        self._conn.execute(
            ADD_SUBSCRIBER,
            {
                "tenant_id": self._tenant_id,
                "id": subscriber.id,
                "page_id": subscriber.page_id,
                "channel": subscriber.channel,
                "address": subscriber.address,
                "component_ids": list(subscriber.component_ids),
                "status": subscriber.status,
                "confirm_hash": confirm_hash,
                "unsubscribe_hash": unsubscribe_hash,
                "sealed": sealed,
                "created_at": subscriber.created_at,
            },
        )

    def subscribed(self, page_id: str, channel: str, address: str) -> bool:
        """Whether this address already has a live (pending or confirmed) subscription."""
        sql = (
            "SELECT 1 FROM status_subscribers WHERE page_id = %(p)s AND channel = %(c)s"
            " AND address = %(a)s AND status <> 'unsubscribed'"
        )
        return bool(self._rows(sql, {"p": page_id, "c": channel, "a": address}))

    def save_subscriber(self, subscriber: Subscriber) -> None:
        self._conn.execute(
            SET_SUBSCRIBER,
            {
                "id": subscriber.id,
                "status": subscriber.status,
                "confirmed_at": subscriber.confirmed_at,
                "unsubscribed_at": subscriber.unsubscribed_at,
            },
        )

    def subscriber(self, subscriber_id: str) -> Subscriber | None:
        rows = self._rows(
            "SELECT * FROM status_subscribers WHERE id = %(id)s", {"id": subscriber_id}
        )
        return _subscriber(rows[0]) if rows else None

    def subscriber_by_token(self, column: str, token_hash: str) -> Subscriber | None:
        """`column`: confirm_hash or unsubscribe_hash."""
        assert column in ("confirm_hash", "unsubscribe_hash")
        sql = f"SELECT * FROM status_subscribers WHERE {column} = %(h)s FOR UPDATE"
        rows = self._rows(sql, {"h": token_hash})
        return _subscriber(rows[0]) if rows else None

    def subscribers(self, page_id: str, page: PageRequest) -> Page[Subscriber]:
        rows = self._rows(LIST_SUBSCRIBERS, {**keyset_params(page), "page_id": page_id})
        return keyset_page(rows, page, _subscriber, lambda s: (s.created_at, s.id))

    def sealed(self, subscriber_id: str) -> bytes | None:
        sql = "SELECT sealed FROM status_subscribers WHERE id = %(id)s"
        rows = self._rows(sql, {"id": subscriber_id})
        return bytes(rows[0]["sealed"]) if rows else None

    def delete_subscriber(self, subscriber_id: str) -> None:
        self._conn.execute(
            "DELETE FROM status_subscribers WHERE id = %(id)s", {"id": subscriber_id}
        )


def _incident(row: dict[str, Any]) -> PageIncident:
    updates = tuple(
        PageUpdate(
            id=u["id"],
            incident_id=row["id"],
            status=UpdateStatus(u["status"]),
            body=u["body"],
            created_by=u["created_by"],
            created_at=_ts(u["created_at"]),
        )
        for u in row["updates"]
    )
    return PageIncident(
        id=row["id"],
        page_id=row["page_id"],
        kind=row["kind"],
        name=row["name"],
        status=UpdateStatus(row["status"]),
        impact=row["impact"],
        components={k: ComponentStatus(v) for k, v in row["components"].items()},
        source_incident_id=row["incident_id"],
        scheduled_for=row["scheduled_for"],
        scheduled_until=row["scheduled_until"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        resolved_at=row["resolved_at"],
        updates=updates,
    )


def _ts(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value)


def _subscriber(row: dict[str, Any]) -> Subscriber:
    return Subscriber(
        id=row["id"],
        page_id=row["page_id"],
        channel=row["channel"],
        address=row["address"],
        component_ids=tuple(row["component_ids"]),
        status=row["status"],
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        unsubscribed_at=row["unsubscribed_at"],
    )
