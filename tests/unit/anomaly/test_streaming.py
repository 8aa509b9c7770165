"""The benchmark stream score: a spike judged by its size, a small shift by its persistence,
one alarm per incident (unless a far bigger one follows), none for a daily routine, and one
when a series stays still for longer than it ever did."""

from __future__ import annotations

import random

from orchestrix.domain.anomaly.streaming import StreamScorer

STEP_S = 300.0


def scores(values: list[float]) -> list[float]:
    scorer = StreamScorer()
    return [scorer.score(i * STEP_S, v) for i, v in enumerate(values)]


def calm(n: int) -> list[float]:
    return [50.0 + (i * 7919 % 13) / 13 for i in range(n)]


def noisy(n: int) -> list[float]:
    draw = random.Random(7)
    return [50.0 + draw.gauss(0.0, 1.0) for _ in range(n)]


def test_a_lone_spike_is_an_incident_at_four_standard_deviations_not_three() -> None:
    # A spike lifts the recent average deviation too; that is the same evidence, not more.
    three, four = noisy(1200), noisy(1200)
    three[1000] = 53.0  # the mean plus three standard deviations
    four[1000] = 54.0

    assert scores(three)[1000] < 0.5
    assert scores(four)[1000] > 0.5


def test_a_shift_no_single_sample_shows_is_found_within_a_few_samples() -> None:
    values = noisy(1400)
    values[1000:] = [v + 1.5 for v in values[1000:]]  # 1.5 standard deviations, for good

    out = scores(values)

    assert max(out[1000:1010]) > 0.5


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


DAY_SAMPLES = 288  # a sample every five minutes


def test_a_spike_at_the_same_time_every_day_is_a_routine_from_the_third_day_on() -> None:
    values = calm(6 * DAY_SAMPLES)
    nightly = [day * DAY_SAMPLES + 40 for day in range(1, 6)]  # 03:20 each night
    for i in nightly:
        values[i] = 80.0
    values[4 * DAY_SAMPLES + 200] = 80.0  # the same spike at another time of day

    out = scores(values)

    assert [out[i] > 0.5 for i in nightly] == [True, True, False, False, False]
    assert out[4 * DAY_SAMPLES + 200] > 0.5


def test_a_nightly_spike_grown_into_an_outage_is_no_routine() -> None:
    values = calm(5 * DAY_SAMPLES)
    for day in range(1, 5):
        values[day * DAY_SAMPLES + 40] = 80.0
    values[4 * DAY_SAMPLES + 40] = 5000.0  # the fourth night: far bigger than the others

    out = scores(values)

    assert out[3 * DAY_SAMPLES + 40] < 0.5
    assert out[4 * DAY_SAMPLES + 40] > 0.5


def test_a_bursty_series_gone_silent_for_longer_than_ever_raises_an_alarm() -> None:
    values: list[float] = []
    for burst in range(80):
        values += [0.0] * (4, 9, 14)[burst % 3]  # it rests at 0 between bursts: 14 at most
        values += [40.0, 90.0, 60.0, 20.0]
    silent = len(values)
    values += [0.0] * 100  # then nothing at all

    out = scores(values)

    assert max(out[silent : silent + 14]) < 0.5  # as long as a usual rest: nothing new
    assert out[silent + 14] > 0.5  # the fifteenth silent sample: longer than ever
    assert max(out[silent + 15 :]) < 0.5  # one alarm, not one per sample
