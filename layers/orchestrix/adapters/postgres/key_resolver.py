"""Looks up an ingestion key by hash for the authorizer, before any tenant is known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orchestrix.adapters.postgres.database import Database
from orchestrix.domain.identity import Scope


@dataclass(frozen=True)
class ResolvedKey:
    tenant_id: str
    key_id: str
    scopes: frozenset[Scope]
    expires_at: datetime | None
    revoked_at: datetime | None


class PostgresKeyResolver:
    def __init__(self, db: Database) -> None:
        self._db = db

    def resolve(self, secret_hash: str) -> ResolvedKey | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT tenant_id, id, scopes, expires_at, revoked_at"
                " FROM orchestrix_resolve_api_key(%s)",
                (secret_hash,),
            ).fetchone()
            conn.rollback()
        if row is None:
            return None
        tenant_id, key_id, scopes, expires_at, revoked_at = row
        known = {s.value for s in Scope}
        return ResolvedKey(
            tenant_id=tenant_id,
            key_id=key_id,
            scopes=frozenset(Scope(s) for s in scopes if s in known),
            expires_at=expires_at,
            revoked_at=revoked_at,
        )
