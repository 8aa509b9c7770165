"""The per-series anomaly model: what it flags, and that its stored state carries on."""

from __future__ import annotations

import math
import random

from orchestrix.domain.anomaly.model import SeriesModel
from orchestrix.domain.anomaly.spec import AnomalySpec

DAILY = AnomalySpec("agile", 3.0, "daily")
T0 = 1_790_000_000 - 1_790_000_000 % 86_400


def cycle(minute: int, noise: random.Random) -> float:
    """Traffic with a daily cycle: 100 at night, a ramp to 160 in 20 minutes at 08:00 and
    back at 18:00, a gentle wave on top, noise of sd 2."""
    day = minute % 1440
    ramp = min(1.0, max(0.0, (day - 480) / 20)) if day < 1080 else max(0.0, 1 - (day - 1080) / 20)
    wave = 10 * math.sin(2 * math.pi * minute / 1440)
    return 100 + 60 * ramp + wave + noise.gauss(0, 2)


def test_a_learnt_daily_cycle_raises_nothing_and_a_level_shift_does() -> None:
    model, noise = SeriesModel(DAILY), random.Random(3)
    for m in range(2 * 1440):  # two days to learn the cycle
        model.observe(T0 + 60 * m, cycle(m, noise))

    third_day = [model.observe(T0 + 60 * m, cycle(m, noise)) for m in range(2880, 4320)]
    shifted = model.observe(T0 + 60 * 4320, cycle(4320, noise) + 30)

    outside = sum(1 for v in third_day if v.anomalous)
    assert outside <= 5  # 3 sigma bounds on 1,440 samples: about 4 by chance
    assert shifted.anomalous and shifted.score > 3


def test_without_seasonality_the_same_cycle_is_flagged() -> None:
    model, noise = SeriesModel(AnomalySpec("basic", 3.0, "none")), random.Random(3)
    flags = [model.observe(T0 + 60 * m, cycle(m, noise)).anomalous for m in range(3 * 1440)]

    assert sum(flags[1440:]) >= 4  # the ramps, every day


def test_auto_picks_the_daily_profile_for_a_cyclic_series_only() -> None:
    cyclic, flat, noise = SeriesModel(AnomalySpec()), SeriesModel(AnomalySpec()), random.Random(5)
    for m in range(3 * 1440):
        cyclic.observe(T0 + 60 * m, cycle(m, noise))
        flat.observe(T0 + 60 * m, 100 + noise.gauss(0, 2))

    assert cyclic.chosen().period == "daily"
    assert flat.chosen().period == ""


def test_a_model_restored_from_its_bytes_every_sample_carries_on() -> None:
    """What a cold evaluator does each minute: load, observe one sample, store."""
    kept, noise = SeriesModel(DAILY), random.Random(9)
    stored = SeriesModel(DAILY).to_bytes()
    for m in range(2000):
        value = cycle(m, noise)
        expected = kept.observe(T0 + 60 * m, value)
        restored = SeriesModel.from_bytes(DAILY, stored)
        assert restored is not None
        got = restored.observe(T0 + 60 * m, value)
        stored = restored.to_bytes()
        assert got.anomalous == expected.anomalous
        assert math.isclose(got.expected, expected.expected, rel_tol=1e-4, abs_tol=1e-3)


def test_a_state_for_another_spec_or_garbage_is_not_reused() -> None:
    state = SeriesModel(DAILY).to_bytes()

    assert SeriesModel.from_bytes(AnomalySpec("basic", 3.0, "none"), state) is None
    assert SeriesModel.from_bytes(DAILY, b"\x01garbage") is None
    assert SeriesModel.from_bytes(DAILY, b"") is None


def test_the_state_of_a_daily_model_is_small() -> None:
    # 96 buckets of (mean, weight, spread) as float32 plus a few scalars per track
    assert len(SeriesModel(AnomalySpec()).to_bytes()) < 1300


def test_nan_and_infinite_samples_neither_alert_nor_poison_the_model() -> None:
    model, noise = SeriesModel(DAILY), random.Random(4)
    for m in range(100):
        model.observe(T0 + 60 * m, cycle(m, noise))

    odd = [model.observe(T0 + 6000, v) for v in (math.nan, math.inf, -math.inf)]
    after = model.observe(T0 + 6060, cycle(101, noise))

    assert not any(v.anomalous for v in odd)
    assert math.isfinite(after.expected) and math.isfinite(after.upper)
    assert not after.anomalous
