"""The read side of the metric store in numpy: samples query results into columns.

Its own module so that the write path (and a Lambda serving only remote writes) never
imports numpy.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrix.adapters.postgres.metric_sql import Int8Array
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
_FLOAT8_ELEMENTS = np.dtype([("length", ">i4"), ("value", ">f8")])
_INT4_ELEMENTS = np.dtype([("length", ">i4"), ("value", ">i4")])


def decode_int8_elements(elements: bytes) -> npt.NDArray[np.int64]:
    """Concatenated array_send elements of bigint[]s as one native int64 array."""
    return np.frombuffer(elements, dtype=_INT8_ELEMENTS)["value"].astype(np.int64)


def decode_int4_elements(elements: bytes) -> npt.NDArray[np.int32]:
    """The same for integer[]."""
    return np.frombuffer(elements, dtype=_INT4_ELEMENTS)["value"].astype(np.int32)


def decode_float8_elements(elements: bytes) -> npt.NDArray[np.float64]:
    """The same for float8[]; the byte swap keeps every bit, NaN payloads included."""
    return np.frombuffer(elements, dtype=_FLOAT8_ELEMENTS)["value"].astype(np.float64)


def int8_array_of(values: npt.NDArray[np.int64]) -> Int8Array:
    """`int8_array` of a numpy column: the elements written as one structured array."""
    elements = np.empty(len(values), dtype=_INT8_ELEMENTS)
    elements["length"] = 8
    elements["value"] = values
    header = struct.pack(">iiiii", 1, 0, 20, len(values), 1)
    return Int8Array(header + elements.tobytes())


@dataclass(frozen=True, slots=True)
class Chunks:
    """SELECT_SAMPLES' row: per chunk (in no particular order) its series, first timestamp
    and number of samples in the window (array_send elements), and all those samples."""

    fingerprints: bytes
    first_ts: bytes
    counts: bytes
    timestamps: bytes
    values: bytes


def columns(
    labels: list[Labels], fingerprints: npt.NDArray[np.int64], chunks: Chunks
) -> SeriesColumns:
    """One pair of arrays for all series, in the candidates' (label) order; each series'
    chunks in time order. `labels` and `fingerprints` are the candidates'."""
    by_fingerprint = np.argsort(fingerprints)
    chunk_fps = decode_int8_elements(chunks.fingerprints)
    series = by_fingerprint[np.searchsorted(fingerprints, chunk_fps, sorter=by_fingerprint)]
    counts = decode_int4_elements(chunks.counts).astype(np.int64)
    order = np.lexsort((decode_int8_elements(chunks.first_ts), series))
    # The elements of the chunks in that order: a gather of whole runs.
    starts = np.cumsum(counts) - counts
    runs = counts[order]
    total = int(runs.sum())
    run_starts = np.cumsum(runs) - runs
    gather = np.repeat(starts[order] - run_starts, runs) + np.arange(total, dtype=np.int64)
    timestamps = decode_int8_elements(chunks.timestamps)[gather]
    values = decode_float8_elements(chunks.values)[gather]
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
