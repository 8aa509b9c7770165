"""Connections: a small pool whose every connection acts as the non-owner application role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

APP_ROLE = "orchestrix_app"


class Database:
    """Owns the pool. `connection()` hands out a connection already switched to the app role.

    The DSN belongs to the schema owner (it runs migrations); every pooled connection runs
    `SET ROLE orchestrix_app` once, so row-level security applies to everything the
    application does while a single secret serves both purposes.
    """

    def __init__(self, dsn: str, *, max_size: int = 4, app_role: str | None = APP_ROLE) -> None:
        self.dsn = dsn
        self._app_role = app_role
        self.pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max_size,
            configure=self._configure,
            check=ConnectionPool.check_connection,  # survive a database restart between uses
            open=False,
            name="orchestrix",
        )

    def _configure(self, conn: psycopg.Connection[TupleRow]) -> None:
        if self._app_role:
            conn.execute(f"SET ROLE {self._app_role}")
        conn.commit()

    def open(self, wait_seconds: float = 10.0) -> None:
        self.pool.open(wait=True, timeout=wait_seconds)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[TupleRow]]:
        if self.pool.closed:
            self.open()
        with self.pool.connection() as conn:
            yield conn

    def ping(self, timeout: float = 3.0) -> None:
        """Raise if the database cannot answer within `timeout` seconds."""
        if self.pool.closed:
            self.open(wait_seconds=timeout)
        with self.pool.connection(timeout=timeout) as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self.pool.close()
