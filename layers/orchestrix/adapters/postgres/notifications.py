"""The notification log: one row per notification, unique per idempotency key."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.notifications import Notification, NotificationFilter
from orchestrix.domain.pagination import Page, PageRequest

_COLUMNS = (
    "id, tenant_id, idempotency_key, member_id, channel, target, urgency, title, body, links,"
    " context, status, attempts, error, not_before, created_at, sent_at, actor"
)
# DO NOTHING + a second SELECT: the caller learns whether its row or an older one won.
INSERT = f"""
INSERT INTO notifications (tenant_id, id, idempotency_key, member_id, channel, target,
    sealed_channel, urgency, title, body, links, context, status, attempts, error, not_before,
    created_at, sent_at, actor)
VALUES (%(tenant_id)s, %(id)s, %(idempotency_key)s, %(member_id)s, %(channel)s, %(target)s,
    %(sealed)s, %(urgency)s, %(title)s, %(body)s, %(links)s, %(context)s, %(status)s,
    %(attempts)s, %(error)s, %(not_before)s, %(created_at)s, %(sent_at)s, %(actor)s)
ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
RETURNING {_COLUMNS}
"""
BY_KEY = f"SELECT {_COLUMNS} FROM notifications WHERE idempotency_key = %(key)s"
GET = f"SELECT {_COLUMNS} FROM notifications WHERE id = %(id)s"
LOCK = f"SELECT {_COLUMNS}, sealed_channel FROM notifications WHERE id = %(id)s FOR UPDATE"
SAVE = """
UPDATE notifications
SET status = %(status)s, attempts = %(attempts)s, error = %(error)s,
    not_before = %(not_before)s, sent_at = %(sent_at)s
WHERE id = %(id)s
"""
CANCEL = f"""
UPDATE notifications SET status = 'cancelled'
WHERE status = 'pending' AND context @> %(match)s
RETURNING {_COLUMNS}
"""
LIST = f"""
SELECT {_COLUMNS} FROM notifications
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(channel)s::text IS NULL OR channel = %(channel)s)
  AND (%(member_id)s::text IS NULL OR member_id = %(member_id)s)
  AND (%(incident)s::jsonb IS NULL OR context @> %(incident)s)
  AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s)
  AND (%(after_at)s::timestamptz IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""


class PostgresNotificationRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def add(self, notification: Notification, sealed_channel: bytes) -> Notification:
        n = notification
        params = {
            "tenant_id": n.tenant_id,
            "id": n.id,
            "idempotency_key": n.idempotency_key,
            "member_id": n.member_id,
            "channel": n.channel,
            "target": n.target,
            "sealed": sealed_channel,
            "urgency": n.urgency,
            "title": n.title,
            "body": n.text,
            "links": Jsonb(n.links),
            "context": Jsonb(n.context),
            "status": n.status,
            "attempts": n.attempts,
            "error": n.error,
            "not_before": n.not_before,
            "created_at": n.created_at,
            "sent_at": n.sent_at,
            "actor": n.actor,
        }
        row = self._cursor().execute(INSERT, params).fetchone()
        if row is None:
            row = self._cursor().execute(BY_KEY, {"key": n.idempotency_key}).fetchone()
            assert row is not None  # the conflicting row exists: RLS scopes both to the tenant
        return _notification(row)

    def get(self, notification_id: str) -> Notification | None:
        row = self._cursor().execute(GET, {"id": notification_id}).fetchone()
        return _notification(row) if row else None

    def lock(self, notification_id: str) -> tuple[Notification, bytes] | None:
        row = self._cursor().execute(LOCK, {"id": notification_id}).fetchone()
        return (_notification(row), bytes(row["sealed_channel"])) if row else None

    def save(self, notification: Notification) -> None:
        n = notification
        self._conn.execute(
            SAVE,
            {
                "id": n.id,
                "status": n.status,
                "attempts": n.attempts,
                "error": n.error,
                "not_before": n.not_before,
                "sent_at": n.sent_at,
            },
        )

    def cancel_pending(self, context_key: str, context_value: str) -> list[Notification]:
        rows = self._cursor().execute(CANCEL, {"match": Jsonb({context_key: context_value})})
        return [_notification(r) for r in rows.fetchall()]

    def list(self, filters: NotificationFilter, page: PageRequest) -> Page[Notification]:
        incident = Jsonb({"incident_id": filters.incident_id}) if filters.incident_id else None
        params = {
            "status": filters.status,
            "channel": filters.channel,
            "member_id": filters.member_id,
            "incident": incident,
            "since": filters.since,
            "until": filters.until,
        }
        rows = self._cursor().execute(LIST, {**params, **keyset_params(page)}).fetchall()
        return keyset_page(rows, page, _notification, lambda n: (n.created_at, n.id))


def _notification(row: dict[str, Any]) -> Notification:
    return Notification(
        id=row["id"],
        tenant_id=row["tenant_id"],
        idempotency_key=row["idempotency_key"],
        member_id=row["member_id"],
        channel=row["channel"],
        target=row["target"],
        urgency=row["urgency"],
        title=row["title"],
        text=row["body"],
        links=row["links"],
        context=row["context"],
        status=row["status"],
        attempts=row["attempts"],
        error=row["error"],
        not_before=row["not_before"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        actor=row["actor"],
    )
