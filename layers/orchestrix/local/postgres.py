"""Embedded PostgreSQL 16 (the pgserver wheel) under `.orchestrix/pg`, unless DATABASE_URL.

pgserver keeps the pids of the processes holding the server in `pg/.handle_pids.json` and
stops PostgreSQL when the last of them lets go. A process killed with SIGKILL never lets go:
its pid stays listed, and the next clean stop would leave PostgreSQL running for a holder
that is gone. So before taking a handle we forget every listed pid that is not a live
process of ours, and a `postmaster.pid` whose pid is not a live postgres of this data
directory (a recycled pid after a crash or reboot).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrix.local.home import home

log = logging.getLogger(__name__)
HANDLES = ".handle_pids.json"


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
        from pgserver.postgres_server import PostgresServer

    pgdata = home() / "pg"
    with PostgresServer._lock:  # the lock pgserver itself takes around the handle list
        forget_dead_handles(pgdata)
        forget_stale_postmaster(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    return LocalDatabase(server.get_uri(), server)


def forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop listed holder pids that are no longer one of our live processes; the dropped."""
    path = pgdata / HANDLES
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []
    alive = [p for p in pids if _is_holder(p)]
    if alive != pids:
        path.write_text(json.dumps(alive))
        log.info("forgot PostgreSQL handles of exited processes: %s", set(pids) - set(alive))
    return [p for p in pids if p not in alive]


def forget_stale_postmaster(pgdata: Path) -> bool:
    """Remove `postmaster.pid` when its pid is not a live postgres serving `pgdata` (pgserver
    would otherwise take a recycled pid for a running server); True when removed."""
    path = pgdata / "postmaster.pid"
    try:
        pid = int(path.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return False
    if _is_postmaster(pid, pgdata):
        return False
    path.unlink(missing_ok=True)
    log.info("removed a stale postmaster.pid (pid %s is not PostgreSQL)", pid)
    return True


def _inspect(pid: int) -> tuple[bool, str | None]:
    """(alive, its name and command line); a zombie is not alive, and the command is None
    for a live process we may not inspect."""
    import psutil  # type: ignore[import-untyped]

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False, None
        return True, " ".join([process.name(), *process.cmdline()])
    except psutil.NoSuchProcess:
        return False, None
    except psutil.AccessDenied:
        return True, None


def _is_holder(pid: int) -> bool:
    """A live process that can hold a handle: this one, or another Orchestrix (or Python)
    process of ours; not whatever reused the pid of a killed one."""
    if pid == os.getpid():
        return True
    _, command = _inspect(pid)
    return command is not None and ("orchestrix" in command or "python" in command)


def _is_postmaster(pid: int, pgdata: Path) -> bool:
    """When in doubt (a live process we may not inspect) say yes: removing the pid file of a
    running server would be worse than keeping a stale one."""
    alive, command = _inspect(pid)
    if not alive:
        return False
    return command is None or ("postgres" in command and str(pgdata) in command)
