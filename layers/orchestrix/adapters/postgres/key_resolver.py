"""Looks up an ingestion key by hash for the authorizer, before any tenant is known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg_pool import PoolTimeout

from orchestrix.adapters.postgres.database import Database
from orchestrix.domain.errors import ServiceUnavailable
from orchestrix.domain.identity import Scope


@dataclass(frozen=True)
class ResolvedKey:
    tenant_id: str
    key_id: str
    scopes: frozenset[Scope]
    expires_at: datetime | None
    revoked_at: datetime | None


CHECK_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class KeyLifetime:
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

    def lifetime(self, tenant_id: str, key_id: str) -> KeyLifetime | None:
        """(expires_at, revoked_at) of one of the tenant's keys; None once it is purged.

        One primary-key lookup under the tenant's row-level security: what a handler pays
        per request to notice a revocation the authorizer's cached answer cannot know of.
        """
        try:
            # A short wait, as for metric writes: while the database is down the sender
            # should get a 503 and back off, not be held until the database returns.
            if self._db.pool.closed:
                self._db.open(wait_seconds=CHECK_TIMEOUT_S)
            with self._db.pool.connection(timeout=CHECK_TIMEOUT_S) as conn:
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
                row = conn.execute(
                    "SELECT expires_at, revoked_at FROM api_keys WHERE id = %s", (key_id,)
                ).fetchone()
                conn.rollback()
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise ServiceUnavailable("cannot check the API key right now") from exc
        return None if row is None else KeyLifetime(row[0], row[1])
