"""Context novelty: how much of the recent shape of a series was never seen before.

A second, different kind of surprise beside the model's deviations (in the manner of
NAB's contextOSE detector): each value is quantised into one of LEVELS bins of the range
seen so far, and the latest bin is paired with each of the previous few, at its distance
(`(lag, earlier bin, latest bin)`). The novelty is the fraction of those pairs met for the
first time. A clean periodic signal soon repeats every pair it makes (novelty 0); a level
shift, a spike or a new rhythm makes pairs it never made. It needs no model of the signal,
so it sees shapes the model's deviation can miss (a value normal on its own, after values
it never followed).
"""

from __future__ import annotations

import math
from collections import deque

LEVELS = 12  # bins of the range seen so far
WINDOW = 5  # the latest value and the four before it
WARMUP = 150  # samples before novelty counts (everything is new at first)


class ContextNovelty:
    def __init__(self) -> None:
        self.low = math.inf
        self.high = -math.inf
        self.recent: deque[int] = deque(maxlen=WINDOW)
        self.known: set[tuple[int, int, int]] = set()
        self.seen = 0

    def score(self, value: float) -> float:
        """Novelty in [0, 1] of the context `value` completes (0 during the warm-up)."""
        self.seen += 1
        self.low, self.high = min(self.low, value), max(self.high, value)
        width = self.high - self.low
        level = 0 if width <= 0 else min(LEVELS - 1, int(LEVELS * (value - self.low) / width))
        self.recent.append(level)
        pairs = new = 0
        for lag in range(1, len(self.recent)):
            key = (lag, self.recent[-1 - lag], level)
            pairs += 1
            if key not in self.known:
                new += 1
                self.known.add(key)
        if self.seen < WARMUP or pairs == 0:
            return 0.0
        return new / pairs
