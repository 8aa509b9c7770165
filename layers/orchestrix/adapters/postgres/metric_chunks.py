"""Cutting a decoded batch into sample chunks: one per series and UTC day, sorted, unique.

A remote write batch almost always is that already (each series once, its samples in time
order, all on one day); checking so costs a few C-level passes over the timestamps, and
only other batches (backfills, repeated series) are regrouped sample by sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, islice
from operator import eq, ge

from orchestrix.adapters.metrics.batch import DecodedBatch

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Chunks:
    """Chunk `i` is series `fingerprints[i]` at `timestamps[lo[i] - 1 : hi[i]]` (1-based,
    inclusive bounds, as PostgreSQL array slices take them) and the same slice of values."""

    fingerprints: list[int]
    lo: list[int]
    hi: list[int]
    timestamps: Sequence[int]
    values: Sequence[float]


def cut(batch: DecodedBatch, first_ms: int, last_ms: int) -> Chunks:
    """The batch as chunks; `first_ms`/`last_ms` are its smallest and largest timestamps."""
    offsets, timestamps = batch.offsets, batch.timestamps_ms
    fingerprints = [key.fingerprint for key in batch.series]
    if (
        first_ms // DAY_MS == last_ms // DAY_MS
        and len(set(fingerprints)) == len(fingerprints)
        and not any(map(eq, offsets, islice(offsets, 1, None)))  # no empty series
        and _increasing_within_series(timestamps, offsets)
    ):
        lo = [start + 1 for start in islice(offsets, 0, len(offsets) - 1)]
        return Chunks(fingerprints, lo, offsets[1:], timestamps, batch.values)
    return _regrouped(batch)


def _increasing_within_series(timestamps: Sequence[int], offsets: Sequence[int]) -> bool:
    """True if timestamps only fail to increase where one series ends and the next begins."""
    positions = range(len(timestamps) - 1)
    not_increasing = compress(positions, map(ge, timestamps, islice(timestamps, 1, None)))
    starts: set[int] | None = None
    for position in not_increasing:
        if starts is None:
            starts = set(offsets)
        if position + 1 not in starts:
            return False
    return True


def _regrouped(batch: DecodedBatch) -> Chunks:
    """The general case: group by series and day, sort by time; a later sample wins a tie."""
    grouped: dict[tuple[int, int], dict[int, float]] = {}
    for index, key in enumerate(batch.series):
        lo, hi = batch.offsets[index], batch.offsets[index + 1]
        for t, v in zip(batch.timestamps_ms[lo:hi], batch.values[lo:hi], strict=True):
            grouped.setdefault((key.fingerprint, t // DAY_MS), {})[t] = v
    fingerprints: list[int] = []
    los: list[int] = []
    his: list[int] = []
    timestamps: list[int] = []
    values: list[float] = []
    for (fp, _day), samples in grouped.items():
        fingerprints.append(fp)
        los.append(len(timestamps) + 1)
        for t in sorted(samples):
            timestamps.append(t)
            values.append(samples[t])
        his.append(len(timestamps))
    return Chunks(fingerprints, los, his, timestamps, values)
