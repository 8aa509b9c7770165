"""A throwaway embedded PostgreSQL with a freshly migrated `bench` database."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from orchestrix.adapters.postgres import migrations


@contextmanager
def migrated_database() -> Iterator[str]:
    """The DSN (schema owner) of a database that exists for the `with` block only."""
    warnings.simplefilter("ignore")
    from pgserver import get_server  # type: ignore[attr-defined]

    with tempfile.TemporaryDirectory(prefix="orchestrix-bench-") as tmp:
        os.environ.setdefault("XDG_RUNTIME_DIR", tmp)
        server = get_server(Path(tmp) / "pg", cleanup_mode="stop")
        try:
            with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench")
            dsn = psycopg.conninfo.make_conninfo(server.get_uri(), dbname="bench")
            migrations.apply(dsn)
            yield dsn
        finally:
            server.cleanup()
