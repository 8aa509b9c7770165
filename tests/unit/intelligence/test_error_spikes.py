"""Error spikes: a jump well above a series' own recent past, dated, with a citeable id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrix.domain.intelligence.error_spikes import spikes

OPEN = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def minutes(values: list[float], first: int = -60) -> list[tuple[int, float]]:
    start = OPEN + timedelta(minutes=first)
    return [
        (int((start + timedelta(minutes=i)).timestamp() * 1000), v) for i, v in enumerate(values)
    ]


def test_a_jump_is_a_spike_dated_at_its_first_point():
    series = {"db": minutes([1.0, 1.2, 0.9, 1.1] * 10 + [1.0] * 10 + [9.0] * 10)}
    (found,) = spikes(series, OPEN, OPEN - timedelta(minutes=30))
    assert (found.id, found.service, found.kind) == ("met_errors_db", "db", "error")
    assert found.started_at == OPEN - timedelta(minutes=10)
    assert "baseline" in found.name


def test_noise_and_tiny_rates_are_no_spike():
    noisy = [1.0, 3.0, 0.5, 2.5] * 15
    tiny = [0.0] * 55 + [0.005] * 5
    found = spikes(
        {"api": minutes(noisy), "web": minutes(tiny)}, OPEN, OPEN - timedelta(minutes=30)
    )
    assert found == []


def test_too_short_a_history_says_nothing():
    assert spikes({"db": minutes([0.0, 50.0], first=-2)}, OPEN, OPEN - timedelta(minutes=30)) == []
