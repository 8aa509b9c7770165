"""Shared fixtures: one embedded PostgreSQL for the whole run, a database per xdist worker."""

from __future__ import annotations

import fcntl
import hashlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from orchestrix.adapters.postgres import migrations

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def pg_root_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server: DATABASE_URL when given (CI with a real server), else pgserver."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    shared = tmp_path_factory.getbasetemp().parent  # the same for every xdist worker
    os.environ.setdefault("XDG_RUNTIME_DIR", str(shared))
    with open(shared / "pgserver.lock", "w") as lock, warnings.catch_warnings():
        # Workers start together; only one may run initdb on the shared data directory.
        fcntl.flock(lock, fcntl.LOCK_EX)
        warnings.simplefilter("ignore")
        from pgserver import get_server

        from orchestrix.local.postgres import forget_dead_handles, forget_stale_postmaster

        # A run killed earlier (timeout, Ctrl-C twice) left its pid listed as a holder: the
        # last live session would then never stop the server. Forget the dead first.
        if (shared / "pg").is_dir():
            forget_dead_handles(shared / "pg")
            forget_stale_postmaster(shared / "pg")
        server = get_server(shared / "pg", cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
def database_url(pg_root_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database of this worker's own."""
    # Unique per test session and worker: two pytest runs may share one server.
    session = hashlib.sha1(str(tmp_path_factory.getbasetemp()).encode()).hexdigest()[:10]
    name = f"orchestrix_test_{session}"
    lock_file = tmp_path_factory.getbasetemp().parent / "pg.lock"
    with open(lock_file, "w") as lock:
        # Roles are cluster-wide: migrations creating orchestrix_app must not race.
        fcntl.flock(lock, fcntl.LOCK_EX)
        with psycopg.connect(pg_root_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        dsn = psycopg.conninfo.make_conninfo(pg_root_dsn, dbname=name)
        migrations.apply(dsn)
    yield dsn
    with psycopg.connect(pg_root_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Peers CI installs (.ci/run) and the shared PromQL spec must never be skipped there: a
# skip that hides a missing package would look like a pass.
_MUST_RUN_IN_CI = ("tests/compat/", "tests/unit/promql/test_spec_suite.py")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    path = Path(str(item.fspath)).relative_to(ROOT).as_posix()
    if os.environ.get("CI") and report.skipped and path.startswith(_MUST_RUN_IN_CI):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where it must run: {report.longrepr}"
