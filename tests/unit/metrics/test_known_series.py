"""The writer's memory of stored series bounds: upsert a series only when a batch needs it."""

from __future__ import annotations

from orchestrix.adapters.metrics.batch import SeriesKey, fingerprint
from orchestrix.adapters.postgres.metric_series_cache import HOUR_MS, KnownSeries

T0 = 1_790_000_000_000 - 1_790_000_000_000 % HOUR_MS


def keys(*names: str) -> list[SeriesKey]:
    found = []
    for name in names:
        labels = (("__name__", name),)
        found.append(SeriesKey(labels, fingerprint(labels)))
    return found


def write(known: KnownSeries, batch: list[SeriesKey], first: int, last: int) -> list[str]:
    """A committed write: the metric names it had to upsert."""
    plan = known.plan("t", batch, [k.fingerprint for k in batch], first, last)
    known.remember(plan)
    return sorted(key.metric_name for key in plan.pending.values())


def test_series_are_upserted_once_per_hour_with_bounds_of_whole_hours() -> None:
    known = KnownSeries()
    a, b = keys("a", "b")

    assert write(known, [a, b], T0 + 10, T0 + 10) == ["a", "b"]
    assert write(known, [a, b], T0 + 60_000, T0 + 60_000) == []
    assert write(known, [a], T0 + HOUR_MS - 1, T0 + HOUR_MS - 1) == []
    # The next hour widens each series once, a new series comes in on its first batch
    c = keys("c")[0]
    assert write(known, [a, c], T0 + HOUR_MS, T0 + HOUR_MS) == ["a", "c"]
    assert write(known, [a, b, c], T0 + HOUR_MS + 5, T0 + HOUR_MS + 5) == ["b"]
    plan = known.plan("t", [a], [a.fingerprint], T0 + HOUR_MS, T0 + HOUR_MS)
    assert (plan.first, plan.last) == (T0 + HOUR_MS, T0 + 2 * HOUR_MS - 1)


def test_a_batch_reaching_before_what_is_stored_is_upserted_again() -> None:
    known = KnownSeries()
    a, b = keys("a", "b")
    write(known, [a, b], T0, T0 + 2 * HOUR_MS)  # spans three hours

    assert write(known, [a], T0 + HOUR_MS, T0 + HOUR_MS) == []
    assert write(known, [a, b], T0 - 1, T0 + 1) == ["a", "b"]


def test_an_uncommitted_plan_is_not_remembered() -> None:
    known = KnownSeries()
    a = keys("a")[0]
    known.plan("t", [a], [a.fingerprint], T0, T0)  # its transaction failed

    assert write(known, [a], T0, T0) == ["a"]
    assert write(known, [a], T0, T0) == []
    known.clear()
    assert write(known, [a], T0, T0) == ["a"]
