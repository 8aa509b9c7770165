from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.unit_of_work import PostgresUnitOfWork


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
