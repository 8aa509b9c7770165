"""Silences and maintenance windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.domain.alerting.matchers import Matcher
from orchestrix.domain.alerting.silences import Silence

_COLUMNS = (
    "id, tenant_id, kind, matchers, starts_at, ends_at, comment, created_by, created_at, updated_at"
)
INSERT = f"""
INSERT INTO silences ({_COLUMNS})
VALUES (%(id)s, %(tenant_id)s, %(kind)s, %(matchers)s, %(starts_at)s, %(ends_at)s, %(comment)s,
        %(created_by)s, %(created_at)s, %(updated_at)s)
"""
UPDATE = """
UPDATE silences SET matchers = %(matchers)s, starts_at = %(starts_at)s, ends_at = %(ends_at)s,
  comment = %(comment)s, updated_at = %(updated_at)s
WHERE id = %(id)s
"""
GET = f"SELECT {_COLUMNS} FROM silences WHERE id = %(id)s"
ACTIVE = f"""
SELECT {_COLUMNS} FROM silences WHERE starts_at <= %(at)s AND ends_at > %(at)s
"""
# Alertmanager keeps expired silences visible for a retention period (5 days by default).
LIST = f"""
SELECT {_COLUMNS} FROM silences WHERE ends_at > %(visible_after)s
ORDER BY ends_at DESC, id DESC LIMIT %(limit)s
"""


def _to_silence(row: dict[str, Any]) -> Silence:
    row["matchers"] = tuple(Matcher(m["name"], m["op"], m["value"]) for m in row["matchers"])
    return Silence(**row)


def _params(s: Silence) -> dict[str, Any]:
    return {
        "id": s.id,
        "tenant_id": s.tenant_id,
        "kind": s.kind,
        "matchers": Jsonb([m.as_dict() for m in s.matchers]),
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "comment": s.comment,
        "created_by": s.created_by,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


class PostgresSilenceRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def add(self, silence: Silence) -> None:
        self._conn.execute(INSERT, _params(silence))

    def update(self, silence: Silence) -> None:
        self._conn.execute(UPDATE, _params(silence))

    def get(self, silence_id: str) -> Silence | None:
        row = self._cursor().execute(GET, {"id": silence_id}).fetchone()
        return _to_silence(row) if row else None

    def active(self, at: datetime) -> list[Silence]:
        return [_to_silence(r) for r in self._cursor().execute(ACTIVE, {"at": at})]

    def list(self, visible_after: datetime, limit: int = 1000) -> list[Silence]:
        rows = self._cursor().execute(LIST, {"visible_after": visible_after, "limit": limit})
        return [_to_silence(r) for r in rows]
