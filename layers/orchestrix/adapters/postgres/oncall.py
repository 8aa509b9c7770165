"""On-call schedules (the domain model as JSON) and their overrides."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.oncall import Override, Schedule
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.people import StoredSchedule

UPSERT = """
INSERT INTO oncall_schedules (tenant_id, id, name, definition, member_ids, created_at, updated_at)
VALUES (%(tenant_id)s, %(id)s, %(name)s, %(definition)s, %(member_ids)s, %(created_at)s,
        %(updated_at)s)
ON CONFLICT (tenant_id, id) DO UPDATE
SET name = excluded.name, definition = excluded.definition, member_ids = excluded.member_ids,
    updated_at = excluded.updated_at
"""
GET = "SELECT * FROM oncall_schedules WHERE id = %(id)s"
LIST = """
SELECT * FROM oncall_schedules
WHERE (%(after_at)s::timestamptz IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""
DELETE = "DELETE FROM oncall_schedules WHERE id = %(id)s"
NAMING_MEMBER = "SELECT id FROM oncall_schedules WHERE member_ids @> ARRAY[%(member_id)s]"
ADD_OVERRIDE = """
INSERT INTO oncall_overrides (tenant_id, id, schedule_id, member_id, starts_at, ends_at,
                              created_at, created_by)
VALUES (%(tenant_id)s, %(id)s, %(schedule_id)s, %(member_id)s, %(start)s, %(end)s,
        %(created_at)s, %(created_by)s)
"""
# Ordered by creation: the domain gives later overrides precedence.
OVERRIDES = """
SELECT id, member_id, starts_at, ends_at FROM oncall_overrides
WHERE schedule_id = %(schedule_id)s
  AND (%(from)s::timestamptz IS NULL OR ends_at > %(from)s)
  AND (%(to)s::timestamptz IS NULL OR starts_at < %(to)s)
ORDER BY created_at, id
"""
DELETE_OVERRIDE = "DELETE FROM oncall_overrides WHERE schedule_id = %(schedule_id)s AND id = %(id)s"
OVERRIDES_OF_MEMBER = "SELECT 1 FROM oncall_overrides WHERE member_id = %(member_id)s LIMIT 1"


def schedule_members(schedule: Schedule) -> list[str]:
    return list(dict.fromkeys(m for layer in schedule.layers for m in layer.members))


class PostgresScheduleRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def save(self, stored: StoredSchedule) -> None:
        self._conn.execute(
            UPSERT,
            {
                "tenant_id": stored.tenant_id,
                "id": stored.id,
                "name": stored.schedule.name,
                "definition": Jsonb(stored.schedule.model_dump(mode="json")),
                "member_ids": schedule_members(stored.schedule),
                "created_at": stored.created_at,
                "updated_at": stored.updated_at,
            },
        )

    def get(self, schedule_id: str) -> StoredSchedule | None:
        row = self._cursor().execute(GET, {"id": schedule_id}).fetchone()
        return _stored(row) if row else None

    def list(self, page: PageRequest) -> Page[StoredSchedule]:
        rows = self._cursor().execute(LIST, keyset_params(page)).fetchall()
        return keyset_page(rows, page, _stored, lambda s: (s.created_at, s.id))

    def delete(self, schedule_id: str) -> bool:
        return self._conn.execute(DELETE, {"id": schedule_id}).rowcount > 0

    def naming_member(self, member_id: str) -> builtins.list[str]:
        """Schedules whose layers name `member_id`, or that have overrides for them."""
        rows = self._conn.execute(NAMING_MEMBER, {"member_id": member_id}).fetchall()
        found = [r[0] for r in rows]
        if self._conn.execute(OVERRIDES_OF_MEMBER, {"member_id": member_id}).fetchone():
            found.append("(overrides)")
        return found

    def add_override(
        self, tenant_id: str, schedule_id: str, override: Override, at: datetime, actor: str
    ) -> None:
        self._conn.execute(
            ADD_OVERRIDE,
            {
                "tenant_id": tenant_id,
                "id": override.id,
                "schedule_id": schedule_id,
                "member_id": override.member_id,
                "start": override.start,
                "end": override.end,
                "created_at": at,
                "created_by": actor,
            },
        )

    def overrides(
        self, schedule_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> builtins.list[Override]:
        rows = (
            self._cursor()
            .execute(OVERRIDES, {"schedule_id": schedule_id, "from": start, "to": end})
            .fetchall()
        )
        return [
            Override(id=r["id"], member_id=r["member_id"], start=r["starts_at"], end=r["ends_at"])
            for r in rows
        ]

    def delete_override(self, schedule_id: str, override_id: str) -> bool:
        params = {"schedule_id": schedule_id, "id": override_id}
        return self._conn.execute(DELETE_OVERRIDE, params).rowcount > 0


def _stored(row: dict[str, Any]) -> StoredSchedule:
    schedule = Schedule.model_validate(row["definition"])
    return StoredSchedule(
        row["id"], row["tenant_id"], schedule, row["created_at"], row["updated_at"]
    )
