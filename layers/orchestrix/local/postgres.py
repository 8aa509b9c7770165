"""Embedded PostgreSQL 16 (the pgserver wheel) under `.orchestrix/pg`, unless DATABASE_URL."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

from orchestrix.local.home import home


@dataclass
class LocalDatabase:
    dsn: str
    _server: Any = None

    def stop(self) -> None:
        """Release our handle; pgserver stops PostgreSQL when the last handle goes."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def start() -> LocalDatabase:
    url = os.environ.get("DATABASE_URL")
    if url:
        return LocalDatabase(url)
    # pgserver asks platformdirs for a runtime dir; root shells often have none set.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(home()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver import get_server  # type: ignore[attr-defined]

        server = get_server(home() / "pg", cleanup_mode="stop")
    return LocalDatabase(server.get_uri(), server)
