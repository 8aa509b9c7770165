"""`JobLock` on PostgreSQL session-level advisory locks.

Scheduled jobs (rule evaluation every minute, daily housekeeping) must not overlap: a slow
evaluation still running when the next minute's invocation starts would evaluate the same
groups twice. Reserved concurrency 1 did this on Lambda but fails to deploy on accounts whose
unreserved concurrency would drop below 10; the database already serializes everything else.

The lock is taken on a connection of its own, outside the pool, so the job's work keeps the
whole pool; closing that connection (end of the run, or a crashed container's socket) frees
it. The migrations' lock (`migrations.apply`) is a blocking one: a deploy waits, a tick skips.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from orchestrix.adapters.postgres.database import Database

# A holder that stops talking (a frozen container) loses the lock after this long idle:
# longer than any job's Lambda timeout (at most 15 minutes), shorter than a day.
_IDLE_LIMIT = "16min"


def lock_key(job: str) -> int:
    """A stable 32-bit key per job name (advisory locks share one key space per database)."""
    return zlib.crc32(f"orchestrix.job.{job}".encode())


class PostgresJobLock:
    def __init__(self, database: Database) -> None:
        self._database = database

    @contextmanager
    def hold(self, job: str) -> Iterator[bool]:
        with self._database.dedicated_connection() as conn:
            conn.execute(f"SET idle_session_timeout = '{_IDLE_LIMIT}'")
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(job),)).fetchone()
            taken = bool(row and row[0])
            yield taken
            # closing the connection releases the lock as well; unlock to say so explicitly
            if taken and not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(job),))


def job_lock() -> PostgresJobLock:
    from orchestrix import bootstrap

    return PostgresJobLock(bootstrap.database())
