"""A throwaway embedded PostgreSQL with a freshly migrated `bench` database."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import psycopg

from orchestrix.adapters.postgres import migrations
from orchestrix.adapters.postgres.database import Database


@contextmanager
def migrated_database() -> Iterator[str]:
    """The owner's DSN of a new database, migrated; the server stops on the way out."""
    warnings.simplefilter("ignore")
    from pgserver import get_server  # type: ignore[attr-defined]

    with tempfile.TemporaryDirectory(prefix="orchestrix-bench-") as tmp:
        os.environ.setdefault("XDG_RUNTIME_DIR", tmp)
        server = get_server(Path(tmp) / "pg", cleanup_mode="stop")
        try:
            dsn = server.get_uri()
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench")
            dsn = psycopg.conninfo.make_conninfo(dsn, dbname="bench")
            migrations.apply(dsn)
            yield dsn
        finally:
            server.cleanup()


def one_backend(dsn: str) -> tuple[Database, psutil.Process]:
    """A pool of one connection, so that one backend process serves every statement, and
    that process (whose CPU time the benchmarks read)."""
    database = Database(dsn, max_size=1)
    database.open()
    with database.connection() as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        conn.rollback()
    return database, psutil.Process(int(row[0]) if row else 0)
