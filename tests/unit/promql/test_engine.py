"""Engine behaviours that matter to rule evaluation and the query API."""

from __future__ import annotations

import pytest

from orchestrix.promql import STALE_NAN, Engine, LabelMatcher, MatchOp, MemoryStorage
from orchestrix.promql.values import labels_of

REQ = labels_of({"__name__": "requests_total", "job": "api"})


@pytest.fixture
def storage() -> MemoryStorage:
    s = MemoryStorage()
    # A counter scraped every 15 s that resets to 0 at 150 s, then stops (stale) at 300 s.
    value = 0.0
    for t in range(0, 300_000, 15_000):
        value = 0.0 if t == 150_000 else value + 15
        s.add(REQ, t, value)
    s.add(REQ, 300_000, STALE_NAN)
    s.add(labels_of({"__name__": "other", "job": "db"}), 0, 1.0)
    return s


def values(engine: Engine, query: str, t: int) -> dict[str, float]:
    result = engine.instant(query, t)
    return {",".join(f"{k}={v}" for k, v in s.labels): s.v for s in result.value}  # type: ignore[union-attr]


def test_rate_accounts_for_counter_resets(storage: MemoryStorage) -> None:
    # Window (120 s, 240 s] holds 150, 0 (reset), 15 ... 90: an increase of 90 over the
    # 105 s between first and last sample, extrapolated to the 120 s window, per second.
    got = values(Engine(storage), "rate(requests_total[2m])", 240_000)

    assert got == {"job=api": pytest.approx(90 / 105)}


def test_series_disappears_after_staleness_marker(storage: MemoryStorage) -> None:
    engine = Engine(storage)

    assert values(engine, "requests_total", 299_000) != {}
    assert values(engine, "requests_total", 301_000) == {}


def test_lookback_delta_keeps_last_sample_for_five_minutes(storage: MemoryStorage) -> None:
    engine = Engine(storage)

    assert values(engine, "other", 299_999) == {"__name__=other,job=db": 1.0}
    assert values(engine, "other", 300_000) == {}


def test_at_modifier_pins_evaluation_time(storage: MemoryStorage) -> None:
    got = values(Engine(storage), "requests_total @ 60", 290_000)

    assert got == {"__name__=requests_total,job=api": 75.0}


def test_subquery_feeds_range_function(storage: MemoryStorage) -> None:
    # Subquery steps at 30, 60, 90 and 120 s; the counter is 15 * (t / 15 s + 1) before its reset.
    got = values(Engine(storage), "max_over_time(requests_total[2m:30s])", 140_000)

    assert got == {"job=api": 135.0}


def test_function_output_drops_metric_name_but_label_replace_can_set_it(
    storage: MemoryStorage,
) -> None:
    engine = Engine(storage)
    got = values(engine, 'label_replace(abs(other), "__name__", "renamed", "", "")', 0)

    assert got == {"__name__=renamed,job=db": 1.0}


def test_memory_storage_answers_label_api(storage: MemoryStorage) -> None:
    job_api = [LabelMatcher.of("job", MatchOp.EQUAL, "api")]

    assert storage.label_names([], 0, 600_000) == ["__name__", "job"]
    assert storage.label_values("job", [], 0, 600_000) == ["api", "db"]
    assert storage.label_values("__name__", job_api, 0, 600_000) == ["requests_total"]


@pytest.mark.parametrize("op", ["topk", "bottomk", "limitk", "limit_ratio"])
def test_k_aggregation_in_subquery_without_steps_is_empty(storage: MemoryStorage, op: str) -> None:
    # A 1m window at a 5m resolution holds no subquery step: Prometheus answers an empty vector.
    param = "0.5" if op == "limit_ratio" else "1"

    got = values(Engine(storage), f"min_over_time({op}({param}, requests_total)[1m:5m])", 240_000)

    assert got == {}
