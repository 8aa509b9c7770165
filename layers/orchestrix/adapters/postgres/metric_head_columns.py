"""The head's samples in numpy: decoding head rows and merging them into a read's columns.

Reads and compaction only (numpy); the write path builds head rows in metric_head.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrix.adapters.postgres.metric_head import HEADER, VERSION
from orchestrix.promql.columns import SeriesColumns
from orchestrix.promql.values import Labels

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_EMPTY_INT: IntArray = np.zeros(0, dtype=np.int64)
_EMPTY_FLOAT: FloatArray = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class HeadSamples:
    """Samples of head rows, one entry per sample, in the rows' order (oldest write first).
    `seqs` orders the writes: where two hold the same series and instant, the higher wins."""

    fingerprints: IntArray
    timestamps: IntArray
    values: FloatArray
    seqs: IntArray

    def __len__(self) -> int:
        return len(self.timestamps)

    def where(self, keep: BoolArray) -> HeadSamples:
        values = self.values[keep] if len(self.values) else self.values
        return HeadSamples(self.fingerprints[keep], self.timestamps[keep], values, self.seqs[keep])


def decode(rows: Sequence[tuple[int, bytes]], *, with_values: bool = True) -> HeadSamples:
    """Head rows `(seq, body)` as one set of columns; without values, `body` may be the
    prefix up to them (SELECT_HEAD_PREFIX)."""
    fps, timestamps, values, seqs = [], [], [], []
    for seq, body in rows:
        version, n = HEADER.unpack_from(body)
        if version != VERSION:
            raise ValueError(f"metric head row {seq} has layout version {version}")
        at = HEADER.size
        series_fps = np.frombuffer(body, "<i8", n, at)
        ends = np.frombuffer(body, "<i8", n, at + 8 * n).astype(np.int64)
        m = int(ends[-1]) if n else 0
        counts = np.diff(ends, prepend=0)
        # Views into the body; the concatenation below makes the one copy (native order).
        fps.append(np.repeat(series_fps, counts))
        timestamps.append(np.frombuffer(body, "<i8", m, at + 16 * n))
        if with_values:
            values.append(np.frombuffer(body, "<f8", m, at + 16 * n + 8 * m))
        seqs.append(np.full(m, seq, dtype=np.int64))
    if not timestamps:
        return HeadSamples(_EMPTY_INT, _EMPTY_INT, _EMPTY_FLOAT, _EMPTY_INT)
    return HeadSamples(
        np.concatenate(fps).astype(np.int64, copy=False),
        np.concatenate(timestamps).astype(np.int64, copy=False),
        np.concatenate(values).astype(np.float64, copy=False) if values else _EMPTY_FLOAT,
        np.concatenate(seqs),
    )


def in_window(head: HeadSamples, start_ms: int, end_ms: int) -> HeadSamples:
    return head.where((head.timestamps >= start_ms) & (head.timestamps <= end_ms))


def fingerprints_in_window(
    rows: Sequence[tuple[int, bytes]], start_ms: int, end_ms: int
) -> IntArray:
    """The series with a head sample in [start, end] (the listing calls' exact window)."""
    head = in_window(decode(rows, with_values=False), start_ms, end_ms)
    found: IntArray = np.unique(head.fingerprints)
    return found


def newest_per_instant(
    series: IntArray, timestamps: IntArray, values: FloatArray, priority: IntArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Samples sorted by series and time, one per (series, instant): the one with the
    highest priority (the newest write)."""
    # Usually each series' samples already come in time order, each instant once (writes
    # follow one another): one stable sort by series is then enough.
    order = np.argsort(series, kind="stable")
    by_series, in_order = series[order], timestamps[order]
    same = by_series[1:] == by_series[:-1]
    if bool(np.all(in_order[1:][same] > in_order[:-1][same])):
        return by_series, in_order, values[order]
    order = np.lexsort((-priority, timestamps, series))
    series, timestamps, values = series[order], timestamps[order], values[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (series[1:] != series[:-1]) | (timestamps[1:] != timestamps[:-1])
    return series[first], timestamps[first], values[first]


def merged(
    stored: SeriesColumns,
    labels: list[Labels],
    fingerprints: IntArray,
    head: HeadSamples,
    start_ms: int,
    end_ms: int,
) -> SeriesColumns:
    """The candidates' (`labels`, `fingerprints`, in label order) samples in [start, end]:
    `stored` (the chunks' columns, a subset of the candidates in the same order) merged with
    the head's; on an instant in both, the head's value (the newer write) wins."""
    head = in_window(head, start_ms, end_ms)
    by_fingerprint = np.argsort(fingerprints)
    at = np.searchsorted(fingerprints, head.fingerprints, sorter=by_fingerprint)
    at = np.minimum(at, len(fingerprints) - 1)
    candidate = by_fingerprint[at]
    mine = fingerprints[candidate] == head.fingerprints
    if not mine.any():
        return stored
    head = head.where(mine)
    h_series, h_ts, h_vals = newest_per_instant(
        candidate[mine], head.timestamps, head.values, head.seqs
    )
    # The stored columns hold the non-empty candidates in candidate order (the same label
    # objects): map them back to candidate positions.
    kept = _positions(stored.labels, labels)
    s_counts = np.diff(stored.offsets)
    s_series = np.repeat(kept, s_counts)
    n = len(labels)
    stored_n = np.zeros(n, dtype=np.int64)
    stored_n[kept] = s_counts
    head_n = np.bincount(h_series, minlength=n).astype(np.int64)
    last_stored = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    nonempty = s_counts > 0
    last_stored[kept[nonempty]] = stored.timestamps[stored.offsets[1:][nonempty] - 1]
    first_head = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    head_starts = np.cumsum(head_n) - head_n
    has_head = head_n > 0
    first_head[has_head] = h_ts[head_starts[has_head]]
    timestamps: IntArray
    values: FloatArray
    if bool(np.all(first_head > last_stored)):
        # The usual case: every series' head samples come after its stored ones, so each
        # series is its stored run followed by its head run, placed without sorting.
        total_n = stored_n + head_n
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(total_n, out=offsets[1:])
        size = int(offsets[-1])
        timestamps = np.empty(size, dtype=np.int64)
        values = np.empty(size, dtype=np.float64)
        s_rank = np.arange(len(s_series), dtype=np.int64) - np.repeat(stored.offsets[:-1], s_counts)
        s_to = offsets[s_series] + s_rank
        h_rank = np.arange(len(h_series), dtype=np.int64) - np.repeat(head_starts, head_n)
        h_to = offsets[h_series] + stored_n[h_series] + h_rank
        timestamps[s_to], values[s_to] = stored.timestamps, stored.values
        timestamps[h_to], values[h_to] = h_ts, h_vals
    else:
        series, timestamps, values = newest_per_instant(
            np.concatenate((s_series, h_series)),
            np.concatenate((stored.timestamps, h_ts)),
            np.concatenate((stored.values, h_vals)),
            np.concatenate(
                (np.zeros(len(s_series), dtype=np.int64), np.ones(len(h_series), dtype=np.int64))
            ),
        )
        total_n = np.bincount(series, minlength=n).astype(np.int64)
    present = total_n > 0
    offsets = np.zeros(int(present.sum()) + 1, dtype=np.int64)
    np.cumsum(total_n[present], out=offsets[1:])
    flags: list[bool] = present.tolist()
    return SeriesColumns(
        [label for label, keep in zip(labels, flags, strict=True) if keep],
        timestamps,
        values,
        offsets,
    )


def _positions(subset: list[Labels], labels: list[Labels]) -> IntArray:
    """Positions in `labels` of the items of `subset`, an ordered subsequence of it."""
    found = np.empty(len(subset), dtype=np.int64)
    position = 0
    for index, item in enumerate(subset):
        while labels[position] is not item and labels[position] != item:
            position += 1
        found[index] = position
        position += 1
    return found
