"""NAB's standard profile, on cases small enough to work out by hand."""

from __future__ import annotations

import math

import pytest

from orchestrix.local.nab_score import (
    best_threshold,
    point_weights,
    probation_length,
    scaled_sigmoid,
    score_at,
)

N = 1000  # points; probation is the first 150
WINDOW = (500, 599)
TS = [f"t{i:04d}" for i in range(N)]


def scores(*detections: int, value: float = 1.0) -> list[float]:
    out = [0.0] * N
    for i in detections:
        out[i] = value
    return out


def normalised(*detections: int) -> float:
    points = point_weights("f", TS, scores(*detections), [(TS[WINDOW[0]], TS[WINDOW[1]])])
    return best_threshold(points).normalised


def test_scaled_sigmoid_and_probation() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.5) == -1.0
    assert probation_length(1000) == 150 and probation_length(10_000) == 750


def test_detecting_a_window_at_its_start_is_perfect_and_missing_it_is_null() -> None:
    assert normalised(500) == pytest.approx(100.0)
    assert normalised() == pytest.approx(0.0)


def test_a_later_detection_earns_less_and_only_the_first_one_counts() -> None:
    # position -(599 - 550 + 1) / 100 = -0.5: (2 sigmoid(2.5) - 1) / (2 sigmoid(5) - 1)
    tp = (2 / (1 + math.exp(-2.5)) - 1) / (2 / (1 + math.exp(-5)) - 1)
    assert normalised(550) == pytest.approx(100 * (tp + 1) / 2)
    assert normalised(550, 560, 590) == pytest.approx(normalised(550))


def test_false_positives_cost_a_tp_weight_of_0_11_less_right_after_a_window() -> None:
    # an FP with no window before it costs the full 0.11
    far = point_weights("f", TS, scores(300, 500), [(TS[500], TS[599])])
    assert score_at(far, 1.0).raw == pytest.approx(1.0 - 0.11)
    assert normalised(300, 500) == pytest.approx(100 * (1.0 - 0.11 + 1) / 2)
    # just after the window's end an FP costs less than far from it
    near = point_weights("f", TS, scores(500, 601), [(TS[500], TS[599])])
    assert -0.11 < score_at(near, 1.0).raw - 1.0 < 0


def test_detections_in_the_probationary_period_are_ignored() -> None:
    assert normalised(100) == pytest.approx(0.0)
    assert normalised(100, 500) == pytest.approx(100.0)


def test_the_threshold_is_chosen_for_the_whole_corpus() -> None:
    window = [(TS[500], TS[599])]
    # file a: the anomaly scores 0.9 and noise 0.8 in 20 places; file b: the anomaly 0.7
    a = scores(500, value=0.9)
    for i in range(200, 400, 10):
        a[i] = 0.8
    b = scores(500, value=0.7)
    points = point_weights("a", TS, a, window) + point_weights("b", TS, b, window)

    best = best_threshold(points)

    # 0.7 would catch b but pay 20 x 0.11 = 2.2 for a's noise: 0.9 is better (1 - 1 = 0 > -0.2)
    assert best.threshold == 0.9
    assert best.detected == 1 and best.false_positives == 0
    assert best.normalised == pytest.approx(50.0)
