"""Connections: a small pool whose every connection acts as the non-owner application role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

APP_ROLE = "orchestrix_app"
# invalid_password; libpq often reports a failed login without a SQLSTATE, hence the text too
_AUTH_FAILED_STATES = ("28P01", "28000")
_AUTH_FAILED_TEXT = "password authentication failed"


class Login(Protocol):
    """Where user/password come from when they are not in the DSN (Secrets Manager)."""

    def login(self) -> dict[str, str]: ...

    def refresh(self, refused: dict[str, str]) -> dict[str, str]:
        """The login again, read anew unless another connection already did since
        `refused` was handed out."""
        ...


def is_auth_failure(error: psycopg.OperationalError) -> bool:
    return error.sqlstate in _AUTH_FAILED_STATES or _AUTH_FAILED_TEXT in str(error)


class _RetryLoginConnection(psycopg.Connection[TupleRow]):
    """A connection whose login re-reads the secret once when the cached password is refused
    (the secret was rotated while this container was warm). Subclassed per Database."""

    login_source: Login | None = None

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> _RetryLoginConnection:
        source = cls.login_source
        if source is None:
            return super().connect(conninfo, **kwargs)
        login = source.login()
        try:
            return super().connect(conninfo, **{**kwargs, **login})
        except psycopg.OperationalError as error:
            if not is_auth_failure(error):
                raise
        return super().connect(conninfo, **{**kwargs, **source.refresh(login)})


class Database:
    """Owns the pool. `connection()` hands out a connection already switched to the app role.

    The DSN belongs to the schema owner (it runs migrations); every pooled connection runs
    `SET ROLE orchestrix_app` once, so row-level security applies to everything the
    application does while a single secret serves both purposes.
    """

    def __init__(
        self,
        dsn: str,
        *,
        max_size: int = 4,
        app_role: str | None = APP_ROLE,
        login: Login | None = None,
    ) -> None:
        """`login`: user/password kept outside the DSN (AWS: the Secrets Manager secret),
        re-read when a new connection's login fails."""
        self.dsn = dsn
        self._login = login
        self._app_role = app_role
        connection_class: type[_RetryLoginConnection] = type(
            "OrchestrixConnection", (_RetryLoginConnection,), {"login_source": login}
        )
        self._connection_class = connection_class
        self.pool = ConnectionPool(
            dsn,
            connection_class=connection_class,
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

    def owner_conninfo(self) -> str:
        """The DSN with the login in it, for code that opens its own connection as the owner
        (migrations). On AWS the DSN itself carries no password: it comes from the secret."""
        source = self._login
        if source is None:
            return self.dsn
        login = source.login()
        try:
            with psycopg.connect(psycopg.conninfo.make_conninfo(self.dsn, **login)):
                pass
        except psycopg.OperationalError as error:
            if not is_auth_failure(error):
                raise
            login = source.refresh(login)  # rotated since this container read it
        return psycopg.conninfo.make_conninfo(self.dsn, **login)

    def open(self, wait_seconds: float = 10.0) -> None:
        self.pool.open(wait=True, timeout=wait_seconds)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[TupleRow]]:
        if self.pool.closed:
            self.open()
        with self.pool.connection() as conn:
            yield conn

    @contextmanager
    def dedicated_connection(self) -> Iterator[psycopg.Connection[TupleRow]]:
        """A connection outside the pool, autocommit, closed after the block (session-level
        state such as advisory locks ends with it)."""
        conn = self._connection_class.connect(self.dsn, autocommit=True)
        try:
            yield conn
        finally:
            conn.close()

    def ping(self, timeout: float = 3.0) -> None:
        """Raise if the database cannot answer within `timeout` seconds."""
        if self.pool.closed:
            self.open(wait_seconds=timeout)
        with self.pool.connection(timeout=timeout) as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self.pool.close()
