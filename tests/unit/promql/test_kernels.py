"""The numpy kernels answer exactly what the step-wise evaluation answers, on awkward data."""

from __future__ import annotations

import math
import random

import pytest

from orchestrix.promql import Engine, MemoryStorage, evaluator, kernels
from orchestrix.promql.values import STALE_NAN, Matrix, Vector, labels_of

T0 = 1_700_000_000_000
QUERIES = [
    "x",
    'x{job=~"j[12]"}',
    "x offset 1m",
    "x @ 1700000600",
    "rate(x[5m])",
    "rate(x[5m] offset 2m)",
    "max_over_time(x[3m] @ 1700000600)",
    "increase(x[2m])",
    "delta(x[3m])",
    "max_over_time(x[4m])",
    "min_over_time(x[1m])",
    "count_over_time(x[5m])",
    "present_over_time(x[30s])",
    "last_over_time(x[2m])",
    "first_over_time(x[2m])",
    "ts_of_last_over_time(x[2m])",
    "sum(rate(x[5m]))",
    "sum by (job) (x)",
    "sum without (instance) (increase(x[5m]))",
    "count by (job) (x)",
    "max by (job) (max_over_time(x[5m]))",
    "min(x)",
    "group by (job) (x)",
    "sum(x)",
]
# Sums may be rounded differently in the last bits (compensated vs. checked plain sums).
_SUMS = ("sum(", "sum by", "sum without")


def _storage(seed: int) -> MemoryStorage:
    """40 series with jitter, gaps, counter resets, staleness markers, NaN, Inf and -0."""
    rng = random.Random(seed)
    store = MemoryStorage()
    for i in range(40):
        labels = labels_of({"__name__": "x", "job": f"j{i % 4}", "instance": f"i{i}"})
        t, value = T0 + rng.randrange(0, 15_000), rng.random() * 100
        while t < T0 + 1_200_000:
            roll = rng.random()
            if roll < 0.03:
                value = rng.random()  # a counter reset
            elif roll < 0.04:
                store.add(labels, t, STALE_NAN)
                t += rng.randrange(60_000, 400_000)
                continue
            elif roll < 0.045:
                store.add(labels, t, rng.choice([math.nan, math.inf, -math.inf, -0.0, 1e300]))
                t += 15_000
                continue
            else:
                value += rng.random() * 10
            store.add(labels, t, value)
            t += rng.choice([10_000, 15_000, 15_000, 30_000])
    return store


def _points(value: Vector | Matrix) -> dict[object, list[tuple[int, float]]]:
    out: dict[object, list[tuple[int, float]]] = {}
    for item in value:
        if hasattr(item, "points"):
            out[item.labels] = list(item.points)
        else:
            out[item.labels] = [(item.t, item.v)]
    return out


def _same(query: str, want: float, got: float) -> bool:
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if query.startswith(_SUMS):
        return math.isclose(want, got, rel_tol=1e-11, abs_tol=1e-300) or want == got
    return math.copysign(1, want) == math.copysign(1, got) and want == got


@pytest.mark.parametrize("masked_groups", [64, 0], ids=["masked", "sorted"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("query", QUERIES)
def test_kernels_match_the_step_wise_evaluation(
    query: str, seed: int, masked_groups: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 40 awkward series, evaluated once step by step and once by the kernels (with
    # groups reduced through row masks, or sorted)
    monkeypatch.setattr(kernels, "_MASKED_GROUPS", masked_groups)
    engine = Engine(_storage(seed))
    results = {}
    for name, threshold in (("steps", 10**9), ("kernels", 0)):
        monkeypatch.setattr(evaluator, "KERNEL_MIN_SERIES", threshold)
        instant = engine.instant(query, T0 + 700_000)
        ranged = engine.range(query, T0, T0 + 1_200_000, 7_000)
        results[name] = (instant, ranged)

    # Then both give the same series, timestamps, values and annotations
    for want, got in zip(results["steps"], results["kernels"], strict=True):
        assert (want.warnings, want.infos) == (got.warnings, got.infos)
        expected, actual = _points(want.value), _points(got.value)
        assert list(expected) == list(actual)
        assert expected, "the query selects something"
        for labels, points in expected.items():
            assert [t for t, _ in points] == [t for t, _ in actual[labels]], labels
            for (_, v), (_, w) in zip(points, actual[labels], strict=True):
                assert _same(query, v, w), (labels, v, w)
