from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.audit import AuditEntry, AuditFilter
from orchestrix.domain.pagination import Page, PageRequest

_COLUMNS = "id, tenant_id, actor, action, resource_type, resource_id, before, after, request_id, at"

INSERT = """
INSERT INTO audit_log (id, tenant_id, actor, action, resource_type, resource_id, before, after,
                       request_id, at)
VALUES (%(id)s, %(tenant_id)s, %(actor)s, %(action)s, %(resource_type)s, %(resource_id)s,
        %(before)s, %(after)s, %(request_id)s, %(at)s)
"""
GET = f"SELECT {_COLUMNS} FROM audit_log WHERE id = %(id)s"
LIST = f"""
SELECT {_COLUMNS} FROM audit_log
WHERE (%(actor)s::text IS NULL OR actor = %(actor)s)
  AND (%(action)s::text IS NULL OR action = %(action)s)
  AND (%(resource_type)s::text IS NULL OR resource_type = %(resource_type)s)
  AND (%(resource_id)s::text IS NULL OR resource_id = %(resource_id)s)
  AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR at < %(until)s)
  AND (%(after_at)s::timestamptz IS NULL OR (at, id) < (%(after_at)s, %(after_id)s))
ORDER BY at DESC, id DESC
LIMIT %(limit)s
"""


def _to_entry(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**row)


class PostgresAuditRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def add(self, entry: AuditEntry) -> None:
        self._conn.execute(
            INSERT,
            {
                "id": entry.id,
                "tenant_id": entry.tenant_id,
                "actor": entry.actor,
                "action": entry.action,
                "resource_type": entry.resource_type,
                "resource_id": entry.resource_id,
                "before": None if entry.before is None else Jsonb(entry.before),
                "after": None if entry.after is None else Jsonb(entry.after),
                "request_id": entry.request_id,
                "at": entry.at,
            },
        )

    def get(self, entry_id: str) -> AuditEntry | None:
        cur = self._conn.cursor(row_factory=dict_row)
        row = cur.execute(GET, {"id": entry_id}).fetchone()
        return _to_entry(row) if row else None

    def list(self, filters: AuditFilter, page: PageRequest) -> Page[AuditEntry]:
        cur = self._conn.cursor(row_factory=dict_row)
        params = {
            "actor": filters.actor,
            "action": filters.action,
            "resource_type": filters.resource_type,
            "resource_id": filters.resource_id,
            "since": filters.since,
            "until": filters.until,
        }
        rows = cur.execute(LIST, {**params, **keyset_params(page)}).fetchall()
        return keyset_page(rows, page, _to_entry, lambda e: (e.at, e.id))
