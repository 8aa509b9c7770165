from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.api_keys import ApiKey
from orchestrix.domain.identity import Scope
from orchestrix.domain.pagination import Page, PageRequest

_COLUMNS = (
    "id, tenant_id, name, scopes, prefix, created_at, created_by, expires_at, revoked_at,"
    " last_used_at"
)

INSERT = """
INSERT INTO api_keys (id, tenant_id, name, scopes, prefix, secret_hash, created_at, created_by,
                      expires_at)
VALUES (%(id)s, %(tenant_id)s, %(name)s, %(scopes)s, %(prefix)s, %(secret_hash)s,
        %(created_at)s, %(created_by)s, %(expires_at)s)
"""
GET = f"SELECT {_COLUMNS} FROM api_keys WHERE id = %(id)s"
LIST = f"""
SELECT {_COLUMNS} FROM api_keys
WHERE revoked_at IS NULL
  AND (%(after_at)s::timestamptz IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""
REVOKE = f"""
UPDATE api_keys SET revoked_at = %(at)s WHERE id = %(id)s AND revoked_at IS NULL
RETURNING {_COLUMNS}
"""
PURGE = f"""
DELETE FROM api_keys
WHERE coalesce(revoked_at, expires_at) < %(older_than)s
RETURNING {_COLUMNS}
"""


def _to_key(row: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        scopes=tuple(Scope(s) for s in row["scopes"]),
        prefix=row["prefix"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


class PostgresApiKeyRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def add(self, key: ApiKey, secret_hash: str) -> None:
        self._conn.execute(
            INSERT,
            {
                "id": key.id,
                "tenant_id": key.tenant_id,
                "name": key.name,
                "scopes": [s.value for s in key.scopes],
                "prefix": key.prefix,
                "secret_hash": secret_hash,
                "created_at": key.created_at,
                "created_by": key.created_by,
                "expires_at": key.expires_at,
            },
        )

    def get(self, key_id: str) -> ApiKey | None:
        row = self._cursor().execute(GET, {"id": key_id}).fetchone()
        return _to_key(row) if row else None

    def list(self, page: PageRequest) -> Page[ApiKey]:
        rows = self._cursor().execute(LIST, keyset_params(page)).fetchall()
        return keyset_page(rows, page, _to_key, lambda k: (k.created_at, k.id))

    def revoke(self, key_id: str, at: datetime) -> ApiKey | None:
        row = self._cursor().execute(REVOKE, {"id": key_id, "at": at}).fetchone()
        return _to_key(row) if row else None

    def purge_dead(self, older_than: datetime) -> Sequence[ApiKey]:
        rows = self._cursor().execute(PURGE, {"older_than": older_than}).fetchall()
        return [_to_key(r) for r in rows]
