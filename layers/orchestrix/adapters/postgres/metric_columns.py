"""The read side of the metric store in numpy: samples query results into columns.

Its own module so that the write path (and a Lambda serving only remote writes) never
imports numpy.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from orchestrix.adapters.postgres.metric_sql import Int4Array, Int8Array
from orchestrix.promql.columns import SeriesColumns, columns_of
from orchestrix.promql.values import Labels


def no_columns() -> SeriesColumns:
    return columns_of([])


def fingerprints_of(values: Iterable[int]) -> npt.NDArray[np.int64]:
    found: npt.NDArray[np.int64] = np.fromiter(values, np.int64)
    return found


# array_send elements of a one-dimensional array without NULLs (SELECT_SAMPLES cuts off
# the header): per element its int32 length (8) and its 8 bytes, big-endian.
_INT8_ELEMENTS = np.dtype([("length", ">i4"), ("value", ">i8")])
_INT4_ELEMENTS = np.dtype([("length", ">i4"), ("value", ">i4")])


def decode_int8_elements(elements: bytes) -> npt.NDArray[np.int64]:
    """Concatenated array_send elements of bigint[]s as one native int64 array."""
    return np.frombuffer(elements, dtype=_INT8_ELEMENTS)["value"].astype(np.int64)


def decode_int4_elements(elements: bytes) -> npt.NDArray[np.int32]:
    """The same for integer[]."""
    return np.frombuffer(elements, dtype=_INT4_ELEMENTS)["value"].astype(np.int32)


def int8_array_of(values: npt.NDArray[np.int64]) -> Int8Array:
    """`int8_array` of a numpy column: the elements written as one structured array."""
    return Int8Array(_array_of(values, _INT8_ELEMENTS, 20))


def int4_array_of(values: npt.NDArray[np.int64]) -> Int4Array:
    """The same for an integer[] parameter."""
    return Int4Array(_array_of(values, _INT4_ELEMENTS, 23))


def _array_of(values: npt.NDArray[Any], dtype: np.dtype[Any], oid: int) -> bytes:
    """A one-dimensional array without NULLs in binary form: its 20-byte header, then per
    element an int32 length and the value, big-endian."""
    elements = np.empty(len(values), dtype=dtype)
    elements["length"] = dtype["value"].itemsize
    elements["value"] = values
    return struct.pack(">iiiii", 1, 0, oid, len(values), 1) + elements.tobytes()


def timestamps_of_bytes(data: bytes) -> npt.NDArray[np.int64]:
    """A chunk's `ts` (0017_metric_chunk_bytes.sql), or several joined, as native int64."""
    return np.frombuffer(data, dtype=">i8").astype(np.int64)


def values_of_bytes(data: bytes) -> npt.NDArray[np.float64]:
    """The same for `vals`; the byte swap keeps every bit, NaN payloads included."""
    return np.frombuffer(data, dtype=">f8").astype(np.float64)


# SELECT_SAMPLES' row: series, first timestamp, samples in the chunk, index of the slice's
# first sample, the slice's timestamps and values.
ChunkRow = tuple[int, int, int, int, bytes, bytes]


@dataclass(frozen=True, slots=True)
class Chunks:
    """Chunk slices decoded per column, in no particular order: each one's series, first
    timestamp, size in the chunk and index of its first sample there, and all their
    samples one slice after another."""

    fingerprints: npt.NDArray[np.int64]
    first_ts: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    starts: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    def short(self, start_ms: int, end_ms: int) -> npt.NDArray[np.bool_]:
        """The slices that may miss a sample of [start, end]: one not starting at its
        chunk's beginning must start before the window, one not reaching its chunk's end
        must end after it."""
        ends = np.cumsum(self.counts)
        begins = ends - self.counts
        empty = self.counts == 0
        stamps = self.timestamps if len(self.timestamps) else np.zeros(1, np.int64)
        first = stamps[np.minimum(begins, len(stamps) - 1)]
        last = stamps[np.maximum(ends - 1, 0)]
        low_ok = (self.starts == 0) | (~empty & (first < start_ms))
        high_ok = (self.starts + self.counts == self.sizes) | (~empty & (last > end_ms))
        short: npt.NDArray[np.bool_] = ~(low_ok & high_ok)
        return short

    def without(self, drop: npt.NDArray[np.bool_]) -> Chunks:
        keep = np.repeat(~drop, self.counts)
        return Chunks(
            self.fingerprints[~drop],
            self.first_ts[~drop],
            self.sizes[~drop],
            self.starts[~drop],
            self.counts[~drop],
            self.timestamps[keep],
            self.values[keep],
        )

    def plus(self, other: Chunks) -> Chunks:
        return Chunks(
            *(np.concatenate((a, b)) for a, b in zip(_fields(self), _fields(other), strict=True))
        )

    def within(self, start_ms: int, end_ms: int) -> Chunks:
        """Only the samples inside [start, end] (slices hold a margin around it)."""
        inside = (self.timestamps >= start_ms) & (self.timestamps <= end_ms)
        if inside.all():
            return self
        owner = np.repeat(np.arange(len(self.counts)), self.counts)
        counts = np.bincount(owner[inside], minlength=len(self.counts)).astype(np.int64)
        return Chunks(
            self.fingerprints,
            self.first_ts,
            self.sizes,
            self.starts,
            counts,
            self.timestamps[inside],
            self.values[inside],
        )


def _fields(chunks: Chunks) -> tuple[npt.NDArray[Any], ...]:
    return (
        chunks.fingerprints,
        chunks.first_ts,
        chunks.sizes,
        chunks.starts,
        chunks.counts,
        chunks.timestamps,
        chunks.values,
    )


def chunks_of(rows: Sequence[ChunkRow]) -> Chunks:
    """SELECT_SAMPLES' rows as columns: every slice's bytes joined in one copy."""
    if not rows:
        empty = np.zeros(0, np.int64)
        return Chunks(empty, empty, empty, empty, empty, empty, np.zeros(0, np.float64))
    fps, firsts, sizes, starts, stamps, values = zip(*rows, strict=True)  # columns, in C
    return Chunks(
        np.array(fps, np.int64),
        np.array(firsts, np.int64),
        np.array(sizes, np.int64),
        np.array(starts, np.int64),
        np.fromiter(map(len, stamps), np.int64, len(rows)) // 8,
        timestamps_of_bytes(b"".join(stamps)),
        values_of_bytes(b"".join(values)),
    )


def columns(
    labels: list[Labels], fingerprints: npt.NDArray[np.int64], chunks: Chunks
) -> SeriesColumns:
    """One pair of arrays for all series, in the candidates' (label) order; each series'
    chunks in time order. `labels` and `fingerprints` are the candidates'."""
    by_fingerprint = np.argsort(fingerprints)
    series = by_fingerprint[
        np.searchsorted(fingerprints, chunks.fingerprints, sorter=by_fingerprint)
    ]
    counts = chunks.counts
    order = np.lexsort((chunks.first_ts, series))
    # The samples of the chunks in that order: a gather of whole runs.
    starts = np.cumsum(counts) - counts
    runs = counts[order]
    total = int(runs.sum())
    run_starts = np.cumsum(runs) - runs
    gather = np.repeat(starts[order] - run_starts, runs) + np.arange(total, dtype=np.int64)
    timestamps = chunks.timestamps[gather]
    values = chunks.values[gather]
    per_series = np.bincount(series, weights=counts, minlength=len(labels)).astype(np.int64)
    chunked = np.bincount(series[counts > 0], minlength=len(labels))
    kept = per_series > 0
    offsets = np.zeros(int(kept.sum()) + 1, dtype=np.int64)
    np.cumsum(per_series[kept], out=offsets[1:])
    flags: list[bool] = kept.tolist()
    found = SeriesColumns(
        [label for label, keep in zip(labels, flags, strict=True) if keep],
        timestamps,
        values,
        offsets,
    )
    merged: list[int] = np.flatnonzero(chunked[kept] > 1).tolist()
    return _first_per_timestamp(found, merged) if merged else found


def _first_per_timestamp(columns: SeriesColumns, merged: list[int]) -> SeriesColumns:
    """Samples with one value per timestamp, in time order: overlapping chunks may both hold
    one instant (a backfill over data already written); either value was sent for it, keep
    the one of the earlier chunk."""
    ts, vs, off = columns.timestamps, columns.values, columns.offsets
    if all(bool(np.all(np.diff(ts[off[i] : off[i + 1]]) > 0)) for i in merged):
        return columns
    keep = np.ones(len(ts), dtype=bool)
    order = np.arange(len(ts))
    for i in merged:
        lo, hi = int(off[i]), int(off[i + 1])
        part = np.argsort(ts[lo:hi], kind="stable")
        order[lo:hi] = part + lo
        sorted_ts = ts[lo:hi][part]
        keep[lo + 1 : hi] = sorted_ts[1:] != sorted_ts[:-1]
    ts, vs = ts[order][keep], vs[order][keep]
    counts = np.add.reduceat(keep, off[:-1]) if len(ts) else np.zeros(0, dtype=np.int64)
    offsets = np.zeros(len(columns.labels) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return SeriesColumns(columns.labels, ts, vs, offsets)
