"""A stream anomaly score in [0, 1) for benchmark-style use (one score per sample).

Several kinds of surprise, each measured against this series' own history, combined as the
length of the vector they make (any one alone can raise the score; together more):

- the deviation, the larger of two views of it: the sample's deviation from what the model
  expected, in standard deviations, against the deviations this series usually shows
  (spikes, sudden shifts); and the recent *average* deviation compared with how that average
  usually varies on this series (a likelihood in the manner of Numenta's), so a series that
  is a little off for a while, or that turns noisier, stands out even if no single sample
  does;
- how far the sample leaves the range of every value seen so far, as a fraction of that
  range (a new high or low: CPU pinned at a level never reached before);
- the context novelty (context.py): the share of the recent shape, quantised, never seen
  before; a detector of a different kind, blind to deviations but not to new patterns;
- stillness: the moment the value has stayed exactly the same for longer than it ever did
  before (a stretch that ended), e.g. a bursty series gone silent or a stuck sensor. Every
  other term is blind to it: a value held flat deviates from nothing.

After a strong detection the next scores are damped for a while: one incident should raise
one alarm, not a train of them (NAB, like an on-call engineer, charges each extra alarm).
A far bigger surprise during that quiet time (an outage after a blip) still raises its own.
An alarm at the same time of day as alarms on each of the previous ROUTINE_DAYS days is a
routine (a nightly job, a backup), not an incident: it is damped the same way, unless it is
far bigger than those. One repeat is not enough: an incident that comes back the next day
is still reported.
"""

from __future__ import annotations

import math
from collections import deque

from orchestrix.domain.anomaly.context import ContextNovelty
from orchestrix.domain.anomaly.model import SeriesModel
from orchestrix.domain.anomaly.spec import AnomalySpec

DEFAULT_SPEC = AnomalySpec(algorithm="agile", bounds=3.0, seasonality="auto")
Z_CAP = 50.0
Z_SCALE = 6.0  # deviations that make a point surprise of 1
SHORT_TAU = 3.0  # samples the recent average deviation spans
LONG_TAU = 500.0  # samples the usual behaviour of that average is learnt over
L_SCALE = 5.0  # standard deviations of the average that make a surprise of 1
TRIGGER = 1.0  # surprise that counts as a detection for the damping
QUIET_SAMPLES = 100
DAMPING = 0.3
BREAK = 3.0  # a surprise this many times the one that raised the alarm raises another
TAIL = 0.99  # the quantile of this series' deviations tracked
TAIL_RATE = 0.05  # log-step of that quantile's tracker
TAIL_FACTOR = 1.6  # a point must exceed this multiple of that quantile to surprise
RANGE_WARMUP = 150  # samples before the range seen counts
N_SCALE = 0.1  # leaving the range by this fraction of its width makes a surprise of 1
C_SCALE = 1.0  # an entirely new context makes a surprise of 1
STILL_RECORD = 12  # samples: the stillest stretch must have been at least this long to count
STILL_SURPRISE = 2.0  # the surprise of being still for longer than ever before (an alarm)
DAY = 86_400.0  # seconds
ROUTINE_DAYS = 2  # days in a row an alarm must have come at that time to be routine
ROUTINE_TOLERANCE = 3_600.0  # seconds either side of the same time of day


class StreamScorer:
    def __init__(self, spec: AnomalySpec = DEFAULT_SPEC) -> None:
        self.model = SeriesModel(spec)
        self.recent = 0.0
        self.mean = 0.0
        self.var = 0.0
        self.seen = 0
        self.quiet = 0
        self.alarm = 0.0
        self.log_tail = math.log(3.0)
        self.low = math.inf
        self.high = -math.inf
        self.context = ContextNovelty()
        self.run = 0  # samples the value has stayed exactly the same
        self.longest_run = 0  # the longest such stretch that has ended
        self.last = math.nan
        self.alarms: deque[tuple[float, float]] = deque()  # the last few days' (time, surprise)

    def score(self, t: float, value: float) -> float:
        context = self.context.score(value)
        z = abs(self.model.observe(t, value).score)
        z = min(z, Z_CAP) if math.isfinite(z) else Z_CAP
        self.recent += (z - self.recent) / min(self.seen + 1, SHORT_TAU)
        gap = self.recent - self.mean
        unusual = gap / math.sqrt(self.var) if self.seen > SHORT_TAU and self.var > 0 else 0.0
        weight = 1.0 / min(self.seen + 1, LONG_TAU)
        self.mean += weight * gap
        self.var += weight * (gap * gap - self.var)
        self.seen += 1
        usual = max(Z_SCALE, TAIL_FACTOR * math.exp(self.log_tail))
        self.log_tail += TAIL_RATE * ((1.0 if z > math.exp(self.log_tail) else 0.0) - (1 - TAIL))
        novelty = 0.0
        if self.seen > RANGE_WARMUP and self.high > self.low:
            width = self.high - self.low
            novelty = max(0.0, (value - self.high) / width, (self.low - value) / width)
        self.low, self.high = min(self.low, value), max(self.high, value)
        if value != self.last:
            self.longest_run = max(self.longest_run, self.run)
            self.run = 0
        self.run += 1
        self.last = value
        record = self.longest_run >= STILL_RECORD and self.run == self.longest_run + 1
        still = STILL_SURPRISE if record and self.seen > RANGE_WARMUP else 0.0
        # The point's deviation and the recent average of that same deviation are one piece of
        # evidence seen at two time scales, not two: the stronger one counts. Adding them as if
        # independent let every ordinary spike (which lifts both) pass for an incident.
        deviation = max(z / usual, max(unusual, 0.0) / L_SCALE)
        surprise = math.hypot(deviation, novelty / N_SCALE, context / C_SCALE, still)
        score = surprise / (surprise + 1.0)
        if self.quiet > 0 and surprise < BREAK * self.alarm:
            self.quiet -= 1
            score *= DAMPING
        elif surprise >= TRIGGER:
            routine = self._routine(t, surprise)
            self.alarms.append((t, surprise))
            if routine:
                score *= DAMPING
            else:
                self.quiet = QUIET_SAMPLES
                self.alarm = surprise
        return score

    def _routine(self, t: float, surprise: float) -> bool:
        """Whether alarms came at this time of day on each of the last ROUTINE_DAYS days,
        none of them far smaller than this one (a routine grown into an outage is not one)."""
        while self.alarms and self.alarms[0][0] < t - ROUTINE_DAYS * DAY - ROUTINE_TOLERANCE:
            self.alarms.popleft()
        return all(
            any(
                abs(t - days * DAY - a) <= ROUTINE_TOLERANCE and surprise < BREAK * size
                for a, size in self.alarms
            )
            for days in range(1, ROUTINE_DAYS + 1)
        )
