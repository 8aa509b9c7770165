"""One series' anomaly model, updated one sample at a time, with a compact byte state.

Each model keeps a small set of *tracks* that predict the next value:

- the flat track: an exponentially weighted level (what `basic` uses alone);
- one seasonal track per period (hourly, daily, weekly): a profile of the value by time of
  period (linearly interpolated between bucket centres) plus a fast offset, so a level shift
  is learnt by the offset in minutes while the cycle itself is learnt over several periods.

Every track also keeps the mean absolute residual of its predictions. The band is the chosen
track's prediction +- `bounds` standard deviations (estimated from that residual); with
`seasonality: auto` the chosen track is the one with the smallest long-run residual, a
seasonal one only once it has seen a whole period and beats the flat one clearly.

Updates are clipped to a few deviations (a Huber step), so one spike barely moves the model
and a lasting shift is absorbed gradually instead of at once. Time constants are counted in
samples (one sample per evaluation), bucket positions in wall-clock time.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from dataclasses import dataclass, field

from orchestrix.domain.anomaly.spec import PERIOD_S, AnomalySpec

BUCKETS = {"hourly": 60, "daily": 96, "weekly": 168}
SIGMA_PER_MAD = math.sqrt(math.pi / 2)  # sigma of a normal residual / its mean |residual|
MIN_SAMPLES = 12  # no verdict before the scale is measured
SELECT_MARGIN = 0.8  # a seasonal track must err 20 % less than the flat one to be chosen
VERSION = 1


@dataclass(frozen=True)
class Tuning:
    level_tau: float  # samples
    dev_tau: float
    clip: float  # residual deviations an update may move by
    memory_periods: float  # how many periods a seasonal profile averages over


TUNING = {
    "basic": Tuning(level_tau=30, dev_tau=240, clip=4.0, memory_periods=3),
    "agile": Tuning(level_tau=30, dev_tau=240, clip=4.0, memory_periods=3),
    "robust": Tuning(level_tau=240, dev_tau=720, clip=3.0, memory_periods=6),
}


@dataclass(frozen=True)
class Verdict:
    """The model's view of one sample, taken *before* the sample updated it."""

    value: float
    expected: float
    lower: float
    upper: float
    score: float  # signed deviation in standard deviations (0 until the model is warm)

    @property
    def anomalous(self) -> bool:
        return self.value > self.upper or self.value < self.lower


def _floats(raw: bytes) -> array[float]:
    """float32 values stored little-endian."""
    values = array("f")
    values.frombytes(raw)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _raw(values: array[float]) -> bytes:
    if sys.byteorder == "big":
        values = array("f", values)
        values.byteswap()
    return values.tobytes()


@dataclass
class Track:
    period: str  # "" for the flat track
    level: float = 0.0  # the flat track's level; the seasonal track's offset
    dev: float = 0.0  # EW mean |residual|
    err: float = 0.0  # slow EW mean |residual|, to choose between tracks
    scored: int = 0  # samples this track has predicted
    # Per bucket, as float32 (the stored precision, so a restored model is the same model):
    profile: array[float] = field(default_factory=lambda: array("f"))  # mean value
    weight: array[float] = field(default_factory=lambda: array("f"))  # samples averaged
    spread: array[float] = field(default_factory=lambda: array("f"))  # EW mean |residual|

    def __post_init__(self) -> None:
        if self.period and not self.profile:
            zeros = bytes(4 * BUCKETS[self.period])
            self.profile, self.weight, self.spread = (_floats(zeros) for _ in range(3))

    def deviation(self, t: float) -> float:
        """The mean |residual| expected at `t`: the larger of the overall one and the one
        seen at this time of the period (a daily batch job is noisy at its hour only)."""
        if not self.period:
            return self.dev
        i, j, f = self._where(t)
        return max(self.dev, (1 - f) * self.spread[i] + f * self.spread[j])

    def _where(self, t: float) -> tuple[int, int, float]:
        n = len(self.profile)
        width = PERIOD_S[self.period] / n
        pos = (t % PERIOD_S[self.period]) / width - 0.5
        base = math.floor(pos)
        return base % n, (base + 1) % n, pos - base

    def predict(self, t: float) -> float | None:
        if not self.period:
            return self.level
        i, j, f = self._where(t)
        if self.weight[i] <= 0 or self.weight[j] <= 0:
            return None
        return (1 - f) * self.profile[i] + f * self.profile[j] + self.level


@dataclass
class SeriesModel:
    spec: AnomalySpec
    samples: int = 0
    first_t: float = 0.0
    last_t: float = 0.0
    step_s: float = 0.0  # EW sampling interval
    magnitude: float = 0.0  # EW |value|, for a scale floor on flat series
    tracks: list[Track] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.tracks:
            self.tracks = [Track("")] + [Track(p) for p in self.spec.periods()]

    @property
    def tuning(self) -> Tuning:
        return TUNING[self.spec.algorithm]

    def chosen(self) -> Track:
        flat = self.tracks[0]
        best = flat
        for track in self.tracks[1:]:
            whole_period = self.last_t - self.first_t >= PERIOD_S[track.period]
            if (
                whole_period
                and track.scored >= MIN_SAMPLES
                and track.err < SELECT_MARGIN * flat.err
                and track.err < best.err
            ):
                best = track
        if self.spec.seasonality not in ("auto", "none") and best is flat:
            # An explicit seasonality is used as soon as its profile can predict.
            named = self.tracks[1] if len(self.tracks) > 1 else flat
            if named.scored >= MIN_SAMPLES:
                best = named
        return best

    def _floor(self) -> float:
        return 1e-3 * self.magnitude + 1e-9

    def observe(self, t: float, value: float) -> Verdict:
        """The verdict on `value` at `t` (seconds), then the model learns from it. A NaN or
        infinite value (a division by zero in the rule's expr) is neither judged nor learnt:
        it would poison every average it touched."""
        if not math.isfinite(value):
            return Verdict(value, math.nan, -math.inf, math.inf, 0.0)
        verdict = self.verdict(t, value)
        self._learn(t, value)
        return verdict

    def verdict(self, t: float, value: float) -> Verdict:
        track = self.chosen()
        expected = track.predict(t)
        if expected is None:
            track, expected = self.tracks[0], self.tracks[0].level
        if self.samples < MIN_SAMPLES:
            return Verdict(value, expected, -math.inf, math.inf, 0.0)
        sigma = SIGMA_PER_MAD * max(track.deviation(t), self._floor())
        half = self.spec.bounds * sigma
        score = (value - expected) / sigma
        return Verdict(value, expected, expected - half, expected + half, score)

    def _learn(self, t: float, value: float) -> None:
        tune = self.tuning
        if self.samples == 0:
            self.first_t = t
            self.magnitude = abs(value)
            for track in self.tracks:
                track.level = value if not track.period else 0.0
        else:
            gap = t - self.last_t
            if gap > 0:
                self.step_s = gap if self.step_s == 0 else self.step_s + 0.05 * (gap - self.step_s)
        self.magnitude += (abs(value) - self.magnitude) / min(self.samples + 1, tune.dev_tau)
        self.last_t = t
        self.samples += 1
        for track in self.tracks:
            self._learn_track(track, t, value, tune)

    def _learn_track(self, track: Track, t: float, value: float, tune: Tuning) -> None:
        predicted = track.predict(t)
        n = min(track.scored + 1, tune.dev_tau)
        residual = 0.0
        if predicted is not None:
            residual = value - predicted
            limit = tune.clip * SIGMA_PER_MAD * max(track.deviation(t), self._floor())
            step = max(-limit, min(limit, residual)) if track.scored >= MIN_SAMPLES else residual
            track.dev += (min(abs(residual), 2 * limit) - track.dev) / n
            track.err += (abs(step) - track.err) / min(track.scored + 1, 4 * tune.dev_tau)
            track.scored += 1
        else:
            step = 0.0
        if not track.period:
            track.level += step / min(self.samples, tune.level_tau)
            return
        track.level += step / tune.level_tau
        # The profile learns the value less the offset; a bucket's first samples set it.
        target = value - track.level
        i, j, f = track._where(t)
        width = PERIOD_S[track.period] / len(track.profile)
        per_bucket = max(1.0, width / self.step_s) if self.step_s > 0 else 1.0
        cap = per_bucket * tune.memory_periods
        for k, share in ((i, 1 - f), (j, f)):
            if share <= 0:
                continue
            track.weight[k] = min(track.weight[k] + share, cap)
            gain = share / track.weight[k]
            track.profile[k] += gain * (target - track.profile[k])
            if predicted is not None:
                track.spread[k] += gain * (min(abs(residual), 2 * limit) - track.spread[k])

    # --- compact state: a version byte, the scalars, then per track its scalars and arrays.
    def to_bytes(self) -> bytes:
        head = struct.pack(
            "<BIdddd", VERSION, self.samples, self.first_t, self.last_t, self.step_s, self.magnitude
        )
        parts = [head, struct.pack("<B", len(self.tracks))]
        for track in self.tracks:
            name = track.period.encode()
            parts.append(struct.pack("<B", len(name)) + name)
            parts.append(struct.pack("<dddI", track.level, track.dev, track.err, track.scored))
            parts.append(struct.pack("<H", len(track.profile)))
            parts += [_raw(track.profile), _raw(track.weight), _raw(track.spread)]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, spec: AnomalySpec, data: bytes) -> SeriesModel | None:
        """The stored model, or None if it was made for another version or spec."""
        try:
            version, samples, first_t, last_t, step_s, magnitude = struct.unpack_from(
                "<BIdddd", data, 0
            )
            if version != VERSION:
                return None
            offset = struct.calcsize("<BIdddd")
            (count,) = struct.unpack_from("<B", data, offset)
            offset += 1
            tracks = []
            for _ in range(count):
                (size,) = struct.unpack_from("<B", data, offset)
                period = data[offset + 1 : offset + 1 + size].decode()
                offset += 1 + size
                level, dev, err, scored = struct.unpack_from("<dddI", data, offset)
                offset += struct.calcsize("<dddI")
                (n,) = struct.unpack_from("<H", data, offset)
                offset += 2
                if len(data) < offset + 12 * n:
                    return None
                profile, weight, spread = (
                    _floats(data[offset + 4 * n * k : offset + 4 * n * (k + 1)]) for k in range(3)
                )
                offset += 12 * n
                tracks.append(Track(period, level, dev, err, scored, profile, weight, spread))
        except (struct.error, UnicodeDecodeError, KeyError):
            return None
        if [t.period for t in tracks] != ["", *spec.periods()]:
            return None
        return cls(spec, samples, first_t, last_t, step_s, magnitude, tracks)
