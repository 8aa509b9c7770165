"""The benchmark stream score: one alarm per incident, unless a far bigger one follows."""

from __future__ import annotations

from orchestrix.domain.anomaly.streaming import StreamScorer

STEP_S = 300.0


def scores(values: list[float]) -> list[float]:
    scorer = StreamScorer()
    return [scorer.score(i * STEP_S, v) for i, v in enumerate(values)]


def calm(n: int) -> list[float]:
    return [50.0 + (i * 7919 % 13) / 13 for i in range(n)]


def test_a_second_spike_of_the_same_size_soon_after_is_damped() -> None:
    values = calm(600)
    values[500] = values[520] = 80.0

    out = scores(values)

    assert out[500] > 0.5
    assert out[520] < 0.5


def test_a_far_bigger_incident_during_the_quiet_period_raises_its_own_alarm() -> None:
    values = calm(600)
    values[500] = 52.5  # a small surprise that just raises an alarm
    values[520] = 400.0  # an outage-sized one twenty samples later

    out = scores(values)

    assert out[500] > 0.5
    assert out[520] > 0.5


def test_a_stuck_value_inside_the_usual_range_raises_an_alarm_its_cycle_does_not() -> None:
    cycle = [0.0, 1.5, 3.5, 6.5, 9.5, 12.0, 9.5, 6.5, 3.5, 1.5]
    values = [50.0 + cycle[i % len(cycle)] for i in range(1000)]
    values[800:] = [56.5] * 200  # a sensor stuck mid-range: no single value is unusual

    out = scores(values)

    assert max(out[200:800]) < 0.5
    assert max(out[800:810]) >= 0.5
