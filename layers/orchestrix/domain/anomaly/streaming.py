"""A stream anomaly score in [0, 1) for benchmark-style use (one score per sample).

The score is how far the sample is outside what the model expected, in standard deviations,
relative to the largest deviation this series has shown recently (a slowly decaying peak):
a series that spikes to 8 sigma every few hours makes its next 8 sigma spike unremarkable,
while a quiet series' first 6 sigma step stands out. After a strong detection the next
scores are damped for a while: one incident should raise one alarm, not a train of them.
"""

from __future__ import annotations

import math

from orchestrix.domain.anomaly.model import SeriesModel
from orchestrix.domain.anomaly.spec import AnomalySpec

DEFAULT_SPEC = AnomalySpec(algorithm="agile", bounds=3.0, seasonality="auto")
PEAK_FLOOR = 4.0  # deviations below this never count as a series' usual peak
PEAK_HALF_LIFE = 1000.0  # samples
TRIGGER = 1.5  # score ratio that counts as a detection for the damping
QUIET_SAMPLES = 60
DAMPING = 0.5


class StreamScorer:
    def __init__(self, spec: AnomalySpec = DEFAULT_SPEC) -> None:
        self.model = SeriesModel(spec)
        self.peak = PEAK_FLOOR
        self.quiet = 0
        self._decay = 0.5 ** (1.0 / PEAK_HALF_LIFE)

    def score(self, t: float, value: float) -> float:
        z = abs(self.model.observe(t, value).score)
        if not math.isfinite(z):
            z = 1e6
        ratio = z / PEAK_FLOOR
        self.peak = max(PEAK_FLOOR, self.peak * self._decay, min(z, 4 * self.peak))
        score = ratio / (ratio + 1.0)
        if self.quiet > 0:
            self.quiet -= 1
            score *= DAMPING
        elif ratio >= TRIGGER:
            self.quiet = QUIET_SAMPLES
        return score
