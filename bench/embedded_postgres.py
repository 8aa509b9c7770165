"""A throw-away embedded PostgreSQL (pgserver), migrated, for one benchmark run."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrix.adapters.postgres import migrations


@contextmanager
def migrated_database() -> Iterator[str]:
    """The DSN of a fresh, migrated database; the server stops and its files go on exit."""
    warnings.simplefilter("ignore")
    from pgserver import get_server

    with tempfile.TemporaryDirectory(prefix="orchestrix-bench-") as tmp:
        os.environ.setdefault("XDG_RUNTIME_DIR", tmp)
        server = get_server(Path(tmp) / "pg", cleanup_mode="stop")
        try:
            dsn = server.get_uri()
            migrations.apply(dsn)
            yield dsn
        finally:
            server.cleanup()
