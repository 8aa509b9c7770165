"""NAB's standard-profile scoring, written from the benchmark's description.

For each data file, every point gets the score it would earn if it were a detection:
inside a labelled window, a TP weighted by a scaled sigmoid of its position (the window's
first point earns A_TP, its last about half); outside, an FP costing A_FP, fully if no window
precedes it, less the closer it follows the end of one. Points in the probationary period
(the first 15 %, at most 750) are ignored. Only a window's earliest detection counts; a
window without one costs A_FN. One threshold on the anomaly score is chosen for the whole
corpus (the one maximising the total), and the total is normalised so that a detector that
detects nothing scores 0 and a perfect one 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

PROBATION_FRACTION = 0.15


@dataclass(frozen=True)
class Profile:
    tp: float = 1.0
    fp: float = 0.11
    fn: float = 1.0


STANDARD = Profile()


def scaled_sigmoid(position: float) -> float:
    """+1 well before a window's end, -1 well past it: 2 * sigmoid(-5 * position) - 1."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_length(n: int) -> int:
    return min(math.floor(PROBATION_FRACTION * n), int(PROBATION_FRACTION * 5000))


@dataclass(frozen=True)
class Point:
    score: float  # the detector's anomaly score
    weight: float  # what detecting this point is worth
    window: str | None  # "<file>#<k>" inside window k; None outside; "" in probation


def point_weights(
    file: str,
    timestamps: Sequence[str],
    scores: Sequence[float],
    windows: Sequence[tuple[str, str]],
    profile: Profile = STANDARD,
) -> list[Point]:
    index = {ts: i for i, ts in enumerate(timestamps)}
    spans = sorted((index[a], index[b]) for a, b in windows)
    max_tp = scaled_sigmoid(-1.0)
    probation = probation_length(len(timestamps))
    points: list[Point] = []
    k = 0
    current: tuple[int, int] | None = None
    previous: tuple[int, int] | None = None  # (right index, width) of the last window left
    for i, score in enumerate(scores):
        if current is None and k < len(spans) and spans[k][0] == i:
            current = spans[k]
            k += 1
        window: str | None = None
        if current is not None:
            width = current[1] - current[0] + 1
            weight = scaled_sigmoid(-(current[1] - i + 1) / width) * profile.tp / max_tp
            window = f"{file}#{k - 1}"
        elif previous is None:
            weight = -1.0 * profile.fp
        else:
            weight = scaled_sigmoid(abs(previous[0] - i) / (previous[1] - 1)) * profile.fp
        points.append(Point(score, weight, "" if i < probation else window))
        if current is not None and i == current[1]:
            previous = (i, current[1] - current[0] + 1)
            current = None
    return points


@dataclass(frozen=True)
class Result:
    threshold: float
    raw: float
    null: float
    perfect: float
    windows: int
    detected: int
    false_positives: int

    @property
    def normalised(self) -> float:
        if self.windows == 0:
            return math.nan  # nothing to find: only the false positives count
        return 100.0 * (self.raw - self.null) / (self.perfect - self.null)


def best_threshold(points: list[Point], profile: Profile = STANDARD) -> Result:
    """Sweep the threshold down through every distinct score, keeping the best total."""
    windows = {p.window for p in points if p.window}
    parts = dict.fromkeys(windows, -profile.fn)
    fp_total = 0.0
    total = -profile.fn * len(windows)
    best = Result(
        math.inf, total, -profile.fn * len(windows), profile.tp * len(windows), len(windows), 0, 0
    )
    detected = fps = 0
    ordered = sorted(points, key=attrgetter("score"), reverse=True)
    for n, p in enumerate(ordered):
        if p.window is None:
            fp_total += p.weight
            total += p.weight
            fps += 1
        elif p.window:
            before = parts[p.window]
            if p.weight > before:
                if before == -profile.fn:
                    detected += 1
                parts[p.window] = p.weight
                total += p.weight - before
        last_of_threshold = n + 1 == len(ordered) or ordered[n + 1].score != p.score
        if last_of_threshold and total > best.raw:
            best = Result(p.score, total, best.null, best.perfect, len(windows), detected, fps)
    return best


def score_at(points: list[Point], threshold: float, profile: Profile = STANDARD) -> Result:
    """The total when every point scoring >= `threshold` is a detection."""
    windows = {p.window for p in points if p.window}
    parts = dict.fromkeys(windows, -profile.fn)
    fp_total = 0.0
    fps = 0
    for p in points:
        if p.score < threshold:
            continue
        if p.window is None:
            fp_total += p.weight
            fps += 1
        elif p.window:
            parts[p.window] = max(parts[p.window], p.weight)
    detected = sum(1 for v in parts.values() if v != -profile.fn)
    n = len(windows)
    return Result(
        threshold, sum(parts.values()) + fp_total, -profile.fn * n, profile.tp * n, n, detected, fps
    )
