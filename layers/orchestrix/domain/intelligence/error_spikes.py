"""Error spikes in a per-service error-rate series, as evidence with a citeable id.

A spike begins at the first point around the incident where the rate is well above its own
recent past: more than three times the baseline median and more than the median plus three
median absolute deviations (so a noisy series needs a real jump), and above a small floor (a
service going from 0 to 0.001 errors/s is no spike).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import median

from orchestrix.domain.intelligence.evidence import Signal

FLOOR = 0.01
# The baseline ends this long before the incident, so slow-burning trouble does not hide in it.
BASELINE_GAP = timedelta(minutes=5)
MIN_BASELINE_POINTS = 3


def metric_id(service: str) -> str:
    return f"met_errors_{service}"


def spikes(
    series: dict[str, list[tuple[int, float]]], incident_start: datetime, look_from: datetime
) -> list[Signal]:
    """One error-spike signal per service whose series jumps at or after `look_from`."""
    cut = int((incident_start - BASELINE_GAP).timestamp() * 1000)
    start = int(look_from.timestamp() * 1000)
    found: list[Signal] = []
    for service, points in sorted(series.items()):
        baseline = [v for t, v in points if t < min(cut, start)]
        if len(baseline) < MIN_BASELINE_POINTS:
            continue
        mid = median(baseline)
        spread = median(abs(v - mid) for v in baseline)
        threshold = max(3 * mid, mid + 3 * spread, FLOOR)
        onset = next(((t, v) for t, v in points if t >= start and v > threshold), None)
        if onset is None:
            continue
        ratio = "from zero" if mid == 0 else f"{onset[1] / mid:.1f}x baseline"
        found.append(
            Signal(
                id=metric_id(service),
                service=service,
                name=f"error rate {onset[1]:.3g}/s ({ratio})",
                kind="error",
                started_at=datetime.fromtimestamp(onset[0] / 1000, tz=UTC),
                labels={"service": service},
            )
        )
    return found
