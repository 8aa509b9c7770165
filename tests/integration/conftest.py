from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from orchestrix import bootstrap
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.unit_of_work import PostgresUnitOfWork
from orchestrix.settings import Settings


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, max_size=4)
    database.open()
    yield database
    database.close()


@pytest.fixture
def clock() -> AdjustableClock:
    return AdjustableClock()


@pytest.fixture
def tenant() -> str:
    """A tenant of this test's own: tests never see each other's rows."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def uow(db: Database, clock: AdjustableClock):  # type: ignore[no-untyped-def]
    def factory(tenant_id: str, actor: str = "tester", request_id: str | None = None):  # type: ignore[no-untyped-def]
        return PostgresUnitOfWork(db, clock, tenant_id, actor, request_id)

    return factory


@pytest.fixture
def bootstrap_database(database_url: str) -> Iterator[None]:
    """The production wiring reaches a few components through bootstrap (the stage's metric
    store, behind the service graph observed in traces): on this run's database, unless a
    fixture or the environment has configured one already."""
    if bootstrap.settings().database_url:
        yield
        return
    bootstrap.configure(settings=Settings(local=True, database_url=database_url))
    try:
        yield
    finally:
        bootstrap.database().close()
        bootstrap.configure(settings=None)
