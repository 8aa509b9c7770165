"""Context novelty: new shapes score high, a repeating one soon scores nothing."""

from __future__ import annotations

from orchestrix.domain.anomaly.context import WARMUP, ContextNovelty


def run(values: list[float]) -> list[float]:
    detector = ContextNovelty()
    return [detector.score(v) for v in values]


CYCLE = [0.0, 1.5, 3.5, 6.5, 9.5, 12.0, 9.5, 6.5, 3.5, 1.5]  # inside bins, off their edges


def periodic(n: int) -> list[float]:
    return [50.0 + CYCLE[i % len(CYCLE)] for i in range(n)]


def test_a_clean_periodic_signal_scores_nothing_once_its_shapes_are_known() -> None:
    out = run(periodic(600))

    assert max(out[WARMUP:]) == 0.0


def test_a_level_shift_inside_the_range_scores_high() -> None:
    values = periodic(600)
    values[500:] = [56.5] * 100  # a flat line where the signal always moved

    out = run(values)

    assert max(out[500:505]) >= 0.5


def test_a_spike_scores_high_and_its_repetition_less() -> None:
    values = periodic(600)
    values[400] = values[500] = 200.0

    out = run(values)

    assert out[400] >= 0.5
    assert out[500] < out[400]


def test_nothing_counts_during_the_warm_up() -> None:
    values = periodic(WARMUP)
    values[50] = 500.0

    assert run(values) == [0.0] * WARMUP


def test_the_score_is_deterministic() -> None:
    values = [float(i * 7919 % 97) for i in range(800)]

    assert run(values) == run(values)
