"""Scheduled jobs serialize on a PostgreSQL advisory lock (not Lambda reserved concurrency,
which fails to deploy on accounts with a low concurrency quota)."""

from __future__ import annotations

import threading
import time

import psycopg

from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.job_lock import PostgresJobLock, lock_key


def test_a_second_holder_is_refused_while_the_first_runs_then_admitted(db: Database) -> None:
    lock = PostgresJobLock(db)
    inside, leave = threading.Event(), threading.Event()
    first: list[bool] = []

    def run_first() -> None:
        with lock.hold("it-job") as taken:
            first.append(taken)
            inside.set()
            leave.wait(30)

    thread = threading.Thread(target=run_first)
    thread.start()
    assert inside.wait(30)
    with lock.hold("it-job") as second, lock.hold("it-other-job") as other:
        pass
    leave.set()
    thread.join(30)
    with lock.hold("it-job") as after:
        pass

    assert (first, second, other, after) == ([True], False, True, True)


def test_the_lock_dies_with_its_connection(db: Database, database_url: str) -> None:
    # A crashed holder (container gone, socket closed) must not block the job forever.
    holder = psycopg.connect(database_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (lock_key("it-crash"),))
    with PostgresJobLock(db).hold("it-crash") as while_held:
        pass
    pid = holder.info.backend_pid
    holder.close()
    gone(database_url, pid)  # the server ends the session a moment after the socket closes
    with PostgresJobLock(db).hold("it-crash") as after_crash:
        pass

    assert (while_held, after_crash) == (False, True)


def gone(database_url: str, pid: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        deadline = time.monotonic() + 10
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, f"session {pid} still open 10 s after closing"
            time.sleep(0.01)
