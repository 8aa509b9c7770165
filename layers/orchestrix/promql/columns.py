"""Selected series as columns: every sample of every series in two flat numpy arrays.

The vectorised evaluation (``kernels.py``) works on this form: series ``i`` owns
``timestamps[offsets[i]:offsets[i + 1]]`` and the same slice of ``values``. A storage that
can produce it directly (the PostgreSQL reader decodes its byte strings straight into one
array) offers ``select_columns``; any other ``Queryable`` is converted from ``select``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .values import STALE_NAN_BITS, Labels, Series

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SeriesColumns:
    """Series in label order; their samples time-ordered, unique, inside the selection."""

    labels: list[Labels]
    timestamps: IntArray
    values: FloatArray
    offsets: IntArray  # len(labels) + 1 positions into timestamps/values

    def __len__(self) -> int:
        return len(self.labels)

    def series(self) -> list[Series]:
        """The classic form (lists), for the callers that walk samples one by one."""
        ts, vs, off = self.timestamps.tolist(), self.values.tolist(), self.offsets.tolist()
        return [
            Series(labels, ts[off[i] : off[i + 1]], vs[off[i] : off[i + 1]])
            for i, labels in enumerate(self.labels)
        ]

    def without_stale(self) -> SeriesColumns:
        """The same minus staleness markers (range windows never contain them), and minus
        the series left without samples."""
        stale = stale_mask(self.values)
        if not stale.any():
            return self
        keep = ~stale
        counts = np.add.reduceat(keep.astype(np.int64), self.offsets[:-1])
        offsets = np.zeros(len(self.labels) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        labels = [lab for lab, n in zip(self.labels, counts.tolist(), strict=True) if n]
        kept: IntArray = np.unique(offsets)  # an empty series has equal bounds
        return SeriesColumns(labels, self.timestamps[keep], self.values[keep], kept)

    def series_ids(self) -> IntArray:
        """The series index of every sample."""
        counts = np.diff(self.offsets)
        return np.repeat(np.arange(len(self.labels), dtype=np.int64), counts)


def columns_of(series: Sequence[Series]) -> SeriesColumns:
    """Columns of series in the classic form."""
    offsets = np.zeros(len(series) + 1, dtype=np.int64)
    if series:
        np.cumsum([len(s.timestamps) for s in series], out=offsets[1:])
    total = int(offsets[-1])
    ts = np.fromiter((t for s in series for t in s.timestamps), dtype=np.int64, count=total)
    vs = np.fromiter((v for s in series for v in s.values), dtype=np.float64, count=total)
    return SeriesColumns([s.labels for s in series], ts, vs, offsets)


def stale_mask(values: FloatArray) -> BoolArray:
    """True where a value is Prometheus' staleness marker (not any other NaN)."""
    stale: BoolArray = values.view(np.uint64) == np.uint64(STALE_NAN_BITS)
    return stale
