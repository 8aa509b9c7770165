"""The Postgres unit of work: one transaction, one tenant, audit rows written alongside."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

import psycopg

from orchestrix.adapters.postgres.api_keys import PostgresApiKeyRepository
from orchestrix.adapters.postgres.audit_log import PostgresAuditRepository
from orchestrix.adapters.postgres.database import Database
from orchestrix.domain.audit import AuditEntry
from orchestrix.domain.ids import new_id
from orchestrix.ports.clock import Clock

# (database, tenant) pairs known to have their tenants row: one INSERT per process at most.
_known_tenants: set[tuple[str, str]] = set()
_known_lock = threading.Lock()


class PostgresUnitOfWork:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tenant_id: str,
        actor: str,
        request_id: str | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.tenant_id = tenant_id
        self.actor = actor
        self.request_id = request_id
        self._conn_cm: AbstractContextManager[psycopg.Connection[Any]] | None = None
        self._committed = False

    @property
    def conn(self) -> psycopg.Connection[Any]:
        return self._conn

    def __enter__(self) -> PostgresUnitOfWork:
        self._conn_cm = self._db.connection()
        self._conn = self._conn_cm.__enter__()
        self._committed = False
        # Transaction-local: the setting cannot outlive this unit of work on a pooled
        # connection, and every policy compares tenant_id with it.
        self._conn.execute("SELECT set_config('app.tenant_id', %s, true)", (self.tenant_id,))
        if (self._db.dsn, self.tenant_id) not in _known_tenants:
            # Tenants come into being on first authenticated use.
            self._conn.execute(
                "INSERT INTO tenants (id) VALUES (%s) ON CONFLICT DO NOTHING", (self.tenant_id,)
            )
        self.api_keys = PostgresApiKeyRepository(self._conn)
        self.audit_log = PostgresAuditRepository(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn_cm is not None
        try:
            if not self._committed:
                self._conn.rollback()
        finally:
            self._conn_cm.__exit__(exc_type, exc, tb)
            self._conn_cm = None

    def record(
        self,
        action: str,
        resource_type: str,
        resource_id: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        now = self._clock.now()
        self.audit_log.add(
            AuditEntry(
                id=new_id("aud", int(now.timestamp() * 1000)),
                tenant_id=self.tenant_id,
                actor=self.actor,
                action=action,
                resource_type=resource_type,
                resource_id=resource_id,
                before=before,
                after=after,
                request_id=self.request_id,
                at=now,
            )
        )

    def commit(self) -> None:
        self._conn.commit()
        self._committed = True
        with _known_lock:
            _known_tenants.add((self._db.dsn, self.tenant_id))
