"""The metrics head: one row per write, holding the request's columns (0015_metric_head.sql).

A head row's `body` is the decoded batch as flat little-endian columns, built with a few
C-level array copies (no numpy: a Lambda serving only remote writes never loads it):

    uint32 version (1) | uint32 n (series)
    int64  fingerprints[n]
    int64  ends[n]        -- series i owns samples [ends[i - 1], ends[i]) (ends[-1] = 0)
    int64  timestamps[m]  -- m = ends[n - 1], milliseconds
    float64 values[m]     -- bit-exact (staleness markers survive)

The prefix up to the values is what the listing calls read (which series have a sample in a
window). The digest of the body is the row's key: the same request sent again is refused
by the primary key instead of being stored twice.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256

from orchestrix.adapters.metrics.batch import DecodedBatch

VERSION = 1
HEADER = struct.Struct("<II")


@dataclass(frozen=True, slots=True)
class HeadRow:
    digest: bytes
    min_ts: int
    max_ts: int
    series: int
    samples: int
    body: bytes


def _little_endian(column: array[int] | array[float]) -> bytes:
    if sys.byteorder != "little":
        column.byteswap()
    return column.tobytes()


def encode(batch: DecodedBatch, fingerprints: Sequence[int]) -> HeadRow:
    """The head row of a batch with at least one sample; `fingerprints` are its series'."""
    timestamps = batch.timestamps_ms
    body = b"".join(
        (
            HEADER.pack(VERSION, len(batch.series)),
            _little_endian(array("q", fingerprints)),
            _little_endian(array("q", batch.offsets[1:])),
            _little_endian(array("q", timestamps)),
            _little_endian(array("d", batch.values)),
        )
    )
    return HeadRow(
        digest=sha256(body).digest()[:16],
        min_ts=min(timestamps),
        max_ts=max(timestamps),
        series=len(batch.series),
        samples=len(timestamps),
        body=body,
    )


def prefix_length(series: int, samples: int) -> int:
    """Bytes of a body up to its values (`substring(body FROM 1 FOR ...)` in SQL)."""
    return HEADER.size + 16 * series + 8 * samples
