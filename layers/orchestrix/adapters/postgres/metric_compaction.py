"""Compaction: a tenant's head rows become per-series chunks (see 0015_metric_head.sql).

One run, in the caller's transaction, under the tenant's advisory lock (a concurrent run
for the same tenant returns at once and leaves the work to this one):
1. read the oldest head rows (up to a budget of samples) and decode them into columns;
2. if some head sample is not newer than every chunk compaction wrote before, read the
   stored chunks overlapping the new ones: they are merged with the head and rewritten;
3. sort by series and time, keep one sample per instant (the newest write wins), cut one
   chunk per series (and UTC day), replace the overlapped chunks, insert, delete the head
   rows that were read (exactly those: rows appended meanwhile stay for the next run);
4. merge the small chunks starting in the hour windows that are over (the newest sample is
   past their end by a margin) into one chunk per series: each run adds a chunk per series,
   and an hour of small chunks read back as one row per series instead of one per run is
   what makes reads fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from orchestrix.adapters.postgres import metric_head_columns as head_columns
from orchestrix.adapters.postgres import metric_head_sql as hsql
from orchestrix.adapters.postgres import metric_sql as sql
from orchestrix.adapters.postgres.metric_columns import (
    decode_int4_elements,
    decode_int8_elements,
    int4_array_of,
    int8_array_of,
    timestamps_of_bytes,
    values_of_bytes,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

WINDOW_MS = 3_600_000  # the windows whose small chunks are merged; divides a day
# A window is merged once the newest compacted sample is this far past its end, so that
# samples a little late (a sender's retries) still land before the merge. Later ones
# reopen the window, which the next run merges again.
MERGE_LAG_MS = 300_000
# Head samples one run takes (it starts a last row below this; a request holds at most
# 1,000,000): what it holds in memory stays a few hundred MB.
MAX_SAMPLES_PER_RUN = 1_000_000
# A series' chunks in a window are merged if they average fewer samples than this.
SMALL_CHUNK_SAMPLES = 60
DAY_MS = sql.DAY_MS


@dataclass(frozen=True, slots=True)
class CompactionReport:
    head_rows: int  # head rows moved into chunks
    samples: int  # samples written into chunks (after merging)
    chunks_written: int
    chunks_replaced: int  # stored chunks the head overlapped, rewritten merged
    windows_merged: int  # hour windows whose chunks were merged into one per series


@dataclass(frozen=True, slots=True)
class _Samples:
    """Sorted by series and time, one per (series, instant)."""

    fingerprints: IntArray
    timestamps: IntArray
    values: FloatArray


def compact(conn: psycopg.Connection[Any], tenant_id: str) -> CompactionReport | None:
    """One run for the tenant whose `app.tenant_id` the transaction has; None if another
    run holds the tenant's lock."""
    locked = conn.execute(hsql.TRY_LOCK, (hsql.COMPACTION_LOCK, tenant_id)).fetchone()
    if locked is None or not locked[0]:
        return None
    params = {"tenant": tenant_id, "budget": MAX_SAMPLES_PER_RUN}
    rows = conn.execute(hsql.SELECT_HEAD_FOR_COMPACTION, params, binary=True).fetchall()
    if not rows:
        return CompactionReport(0, 0, 0, 0, 0)
    head = head_columns.decode([(int(seq), bytes(body)) for _, seq, body in rows])
    state = conn.execute(hsql.SELECT_STATE, (tenant_id,)).fetchone()
    oldest = int(head.timestamps.min())
    if state is None:
        found = conn.execute(
            hsql.NEWEST_CHUNK_FROM, {"tenant": tenant_id, "from": oldest - oldest % DAY_MS}
        ).fetchone()
        chunks_max, windows = (found[0] if found else None), set[int]()
    else:
        chunks_max, windows = state[0], {int(w) for w in state[1]}

    overlaps = chunks_max is not None and oldest <= chunks_max
    try:
        with conn.transaction():  # a savepoint: a refused INSERT leaves no trace
            samples, replaced, firsts = _store(conn, tenant_id, head, overlaps)
    except psycopg.errors.UniqueViolation:
        # A stored chunk starts at an instant a new one does, though no chunk seemed to
        # overlap (written before the head existed, beyond what the state knew): look.
        # (Once the overlapping chunks are replaced, no new chunk can collide.)
        if overlaps:
            raise
        samples, replaced, firsts = _store(conn, tenant_id, head, True)
    conn.execute(hsql.DELETE_HEAD, {"tenant": tenant_id, "digests": [bytes(r[0]) for r in rows]})

    newest = int(samples.timestamps.max())
    windows.update(np.unique(firsts // WINDOW_MS * WINDOW_MS).tolist())
    over = sorted(w for w in windows if w + WINDOW_MS + MERGE_LAG_MS <= newest)
    for window in over:
        _merge_window(conn, tenant_id, window)
    windows.difference_update(over)
    conn.execute(
        hsql.SAVE_STATE,
        {
            "tenant": tenant_id,
            "max_ts": newest if chunks_max is None else max(newest, int(chunks_max)),
            "windows": sorted(windows),
        },
    )
    return CompactionReport(
        len(rows), len(samples.timestamps), len(firsts), len(replaced.fingerprints), len(over)
    )


def _store(
    conn: psycopg.Connection[Any],
    tenant_id: str,
    head: head_columns.HeadSamples,
    overlaps: bool,
) -> tuple[_Samples, _StoredChunks, IntArray]:
    """The head's samples stored as chunks, merged with the stored chunks they overlap
    (read only if `overlaps`): the samples written, the chunks replaced, the new chunks'
    first instants."""
    fps: IntArray = head.fingerprints
    ts: IntArray = head.timestamps
    vals: FloatArray = head.values
    priority: IntArray = head.seqs
    replaced = _StoredChunks.none()
    if overlaps:
        replaced = _overlapping(conn, tenant_id, fps, ts)
        stored = replaced.samples
        if len(stored.timestamps):
            fps = np.concatenate((stored.fingerprints, fps))
            ts = np.concatenate((stored.timestamps, ts))
            vals = np.concatenate((stored.values, vals))
            priority = np.concatenate((np.zeros(len(stored.timestamps), np.int64), priority))
    samples = _Samples(*head_columns.newest_per_instant(fps, ts, vals, priority))
    if len(replaced.fingerprints):
        _delete_chunks(conn, tenant_id, replaced.fingerprints, replaced.firsts)
    return samples, replaced, _insert_chunks(conn, tenant_id, samples)


def _overlapping(
    conn: psycopg.Connection[Any], tenant_id: str, fps: IntArray, ts: IntArray
) -> _StoredChunks:
    """The stored chunks overlapping the head's samples, per series and day."""
    day = ts // DAY_MS
    order = np.lexsort((ts, day, fps))
    f, d, t = fps[order], day[order], ts[order]
    starts = np.flatnonzero(np.r_[True, (f[1:] != f[:-1]) | (d[1:] != d[:-1])])
    ends = np.r_[starts[1:], len(order)] - 1
    params = {
        "tenant": tenant_id,
        "fps": int8_array_of(f[starts]),
        "firsts": int8_array_of(t[starts]),
        "lasts": int8_array_of(t[ends]),
        "from": int(t.min()) - int(t.min()) % DAY_MS,
        "to": int(t.max()),
    }
    with conn.cursor(binary=True) as cur:
        sql.register_array_dumpers(cur.adapters)
        row = cur.execute(hsql.OVERLAPPING_CHUNKS, params).fetchone()
    return _chunk_row(row)


@dataclass(frozen=True, slots=True)
class _StoredChunks:
    """Stored chunks: each one's series, first timestamp and size, and their samples."""

    fingerprints: IntArray
    firsts: IntArray
    counts: IntArray
    samples: _Samples

    @staticmethod
    def none() -> _StoredChunks:
        empty = np.zeros(0, np.int64)
        return _StoredChunks(empty, empty, empty, _Samples(empty, empty, np.zeros(0, np.float64)))


def _chunk_row(row: Any) -> _StoredChunks:
    """Decoded OVERLAPPING_CHUNKS."""
    if row is None or row[0] is None:
        return _StoredChunks.none()
    fps = decode_int8_elements(row[0])
    counts = decode_int4_elements(row[2]).astype(np.int64)
    samples = _Samples(np.repeat(fps, counts), timestamps_of_bytes(row[3]), values_of_bytes(row[4]))
    return _StoredChunks(fps, decode_int8_elements(row[1]), counts, samples)


def _delete_chunks(
    conn: psycopg.Connection[Any], tenant_id: str, fps: IntArray, firsts: IntArray
) -> None:
    with conn.cursor(binary=True) as cur:
        sql.register_array_dumpers(cur.adapters)
        cur.execute(
            hsql.DELETE_CHUNKS,
            {
                "tenant": tenant_id,
                "fps": int8_array_of(fps),
                "firsts": int8_array_of(firsts),
                "from": int(firsts.min()),
                "to": int(firsts.max()),
            },
        )


def _insert_chunks(conn: psycopg.Connection[Any], tenant_id: str, samples: _Samples) -> IntArray:
    """One chunk per series and UTC day of sorted, unique samples (chunks never cross
    midnight: day partitions, and reads look back one day at most); their first instants."""
    f, t = samples.fingerprints, samples.timestamps
    if not len(t):
        return np.zeros(0, np.int64)
    day = t // DAY_MS
    starts = np.flatnonzero(np.r_[True, (f[1:] != f[:-1]) | (day[1:] != day[:-1])])
    ends = np.r_[starts[1:], len(t)]
    params = {
        "tenant": tenant_id,
        "fps": int8_array_of(f[starts]),
        "firsts": int8_array_of(t[starts]),
        "lasts": int8_array_of(t[ends - 1]),
        "lo": int4_array_of(starts),
        "hi": int4_array_of(ends),
        "ts": t.astype(">i8").tobytes(),
        "values": samples.values.astype(">f8").tobytes(),
    }
    with conn.cursor(binary=True) as cur:
        sql.register_array_dumpers(cur.adapters)
        cur.execute(sql.INSERT_CHUNKS, params)
    firsts: IntArray = t[starts]
    return firsts


def _merge_window(conn: psycopg.Connection[Any], tenant_id: str, window: int) -> int:
    """The small chunks of one hour window merged into one per series; the chunks written."""
    params = {
        "tenant": tenant_id,
        "start": window,
        "end": window + WINDOW_MS,
        "small": SMALL_CHUNK_SAMPLES,
    }
    return conn.execute(hsql.MERGE_WINDOW, params).rowcount
