"""LogService: the live tail's polling, and who may read and write, against a fake store."""

from __future__ import annotations

import pytest

from orchestrix.adapters.clock import AdjustableClock
from orchestrix.domain.errors import Forbidden
from orchestrix.domain.identity import Principal, Role, Scope
from orchestrix.domain.logs import LogBatch
from orchestrix.logql.model import LogHits, LogPosition, LogRecord, LogSearch, LogSelector
from orchestrix.logql.parse import parse
from orchestrix.services.logs import LogService

VIEWER = Principal("t1", "viewer", roles=frozenset({Role.VIEWER}))
SELECTOR = parse('{app="api"}')


class Store:
    """Answers empty pages until `arrive_after` searches have been made."""

    def __init__(self, arrive_after: int) -> None:
        self.arrive_after = arrive_after
        self.searches: list[LogSearch] = []

    def search(self, tenant_id: str, search: LogSearch) -> LogHits:
        self.searches.append(search)
        if len(self.searches) <= self.arrive_after:
            return LogHits([], None)
        return LogHits([LogRecord(500, 7, (("app", "api"),), "new line")], None)

    def write(self, tenant_id: str, batch: LogBatch) -> int:
        return batch.line_count


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def service(store: Store, fake: FakeTime) -> LogService:
    return LogService(store, AdjustableClock(), sleep=fake.sleep, monotonic=fake.monotonic)  # type: ignore[arg-type]


def test_a_tail_returns_as_soon_as_a_poll_finds_lines() -> None:
    store, fake = Store(arrive_after=3), FakeTime()
    assert isinstance(SELECTOR, LogSelector)

    hits = service(store, fake).search(VIEWER, SELECTOR, 0, None, limit=10,
                                       direction="forward", wait_s=20)  # fmt: skip

    assert [r.line for r in hits.records] == ["new line"]
    assert hits.next_position == LogPosition(500, 7)
    assert fake.sleeps == [1.0, 1.0, 1.0]


def test_an_idle_tail_gives_up_at_its_wait_and_keeps_its_place() -> None:
    store, fake = Store(arrive_after=100), FakeTime()
    after = LogPosition(400, 3)
    assert isinstance(SELECTOR, LogSelector)

    hits = service(store, fake).search(VIEWER, SELECTOR, 0, None, limit=10,
                                       direction="forward", after=after, wait_s=2.5)  # fmt: skip

    assert hits.records == [] and hits.next_position == after
    assert len(store.searches) == 4 and sum(fake.sleeps) == 3.0


def test_reading_needs_a_role_and_writing_the_logs_scope() -> None:
    store, fake = Store(arrive_after=0), FakeTime()
    key = Principal("t1", "api-key:k", scopes=frozenset({Scope.METRICS_WRITE}), kind="api_key")
    assert isinstance(SELECTOR, LogSelector)

    with pytest.raises(Forbidden):
        service(store, fake).search(key, SELECTOR, 0, 10, limit=10)
    with pytest.raises(Forbidden):
        service(store, fake).write(key, LogBatch())
