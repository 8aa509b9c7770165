"""Vectorised evaluation: whole series x step matrices with numpy instead of per-sample Python.

The common shapes of dashboards and alert rules — a vector selector, ``rate``/``increase``/
``delta`` and ``*_over_time`` over a selector, ``sum``/``count``/``min``/``max``/``group``
over those — are computed here as a :class:`VectorBlock`: one row per series, one column per
step, with a presence mask (a missing value is not a NaN). Everything else is evaluated by
the step-wise code in ``functions.py``/``aggregations.py``, which a block turns into on demand
(``to_series``). Results are the step-wise code's: the same float operations in the same
order, element by element; where the order cannot be kept (a counter reset inside a window,
a sum that cancels) the affected rows or cells are handed to that code.

Windows are found for all series at once by counting, per series, the samples up to each
reference time (see ``_positions``): that gives the first and last sample of every
(series, step) window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .block import VectorBlock
from .columns import BoolArray, FloatArray, IntArray, SeriesColumns, stale_mask
from .rangefuncs import RANGE_FUNCTIONS
from .values import Labels

# Rows per batch are chosen so that one batch's series x step arrays stay around this size.
_BATCH_CELLS = 1 << 20
_EPSILON = np.finfo(np.float64).eps
# A vectorised sum is kept when its worst-case rounding error (n * eps * sum |x|) is this far
# below the sum itself; other cells are summed again by the step-wise code (Kahan-Neumaier).
_SUM_TOLERANCE = 1e-12
# Up to this many groups, each is reduced through a row mask; more are sorted first.
_MASKED_GROUPS = 64


def _kept(labels: list[Labels], keep: BoolArray) -> list[Labels]:
    flags: list[bool] = keep.tolist()
    return [label for label, kept in zip(labels, flags, strict=True) if kept]


def _positions(cols: SeriesColumns, lo: int, hi: int, points: IntArray) -> IntArray:
    """For series lo..hi-1 and each of the sorted points: the index (into the flat sample
    arrays) just past the series' last sample at or before the point — ``bisect_right`` in
    the series, plus its offset.

    Counted, not searched: each sample falls before one point (a search among the few
    points), a histogram per series of those points, and its running sum.
    """
    start, end = int(cols.offsets[lo]), int(cols.offsets[hi])
    n_points = len(points)
    first_point = np.searchsorted(points, cols.timestamps[start:end], side="left")
    rows = np.repeat(np.arange(hi - lo, dtype=np.int64), np.diff(cols.offsets[lo : hi + 1]))
    hist = np.bincount(rows * (n_points + 1) + first_point, minlength=(hi - lo) * (n_points + 1))
    counts = np.cumsum(hist.reshape(hi - lo, n_points + 1)[:, :n_points], axis=1)
    found: IntArray = counts + cols.offsets[lo:hi, None]
    return found


def _batches(rows: int, steps: int) -> list[tuple[int, int]]:
    size = max(1, _BATCH_CELLS // max(steps, 1))
    return [(lo, min(rows, lo + size)) for lo in range(0, rows, size)]


def vector_selector(
    cols: SeriesColumns, refs: Sequence[int], lookback: int
) -> tuple[VectorBlock, int]:
    """The value of each series at each reference time (the latest sample no older than the
    lookback, unless it is a staleness marker); with the number of values found."""
    n_series, n_steps = len(cols), len(refs)
    values = np.zeros((n_series, n_steps))
    present = np.zeros((n_series, n_steps), dtype=bool)
    ref_arr = np.asarray(refs, dtype=np.int64)
    starts = cols.offsets[:-1]
    ts, vs = cols.timestamps, cols.values
    for lo, hi in _batches(n_series, n_steps):
        last = _positions(cols, lo, hi, ref_arr) - 1
        ok = last >= starts[lo:hi, None]
        at = np.where(ok, last, 0)
        ok &= ts[at] > (ref_arr - lookback)[None, :]
        got = vs[at]
        ok &= ~stale_mask(got)
        values[lo:hi] = np.where(ok, got, 0.0)
        present[lo:hi] = ok
    keep: BoolArray = np.any(present, axis=1)
    block = VectorBlock(
        _kept(cols.labels, keep),
        values[keep],
        present[keep],
    )
    return block, int(present.sum())


@dataclass(frozen=True, slots=True)
class RangeResult:
    block: VectorBlock
    loaded: int  # the most samples any one series had in its windows (query accounting)


def range_function(
    name: str, cols: SeriesColumns, refs: Sequence[int], rng: int, steps: Sequence[int]
) -> RangeResult:
    """``name(selector[rng])`` at every reference time, for functions in RANGE_KERNELS.

    ``cols`` holds the selected samples without staleness markers.
    """
    n_series, n_steps = len(cols), len(refs)
    ref_arr = np.asarray(refs, dtype=np.int64)
    values = np.zeros((n_series, n_steps))
    present = np.zeros((n_series, n_steps), dtype=bool)
    first_lo = np.zeros(n_series, dtype=np.int64)
    last_hi = np.zeros(n_series, dtype=np.int64)
    resets = _series_with_resets(cols) if name in ("rate", "increase") else None
    for lo, hi in _batches(n_series, n_steps):
        w_lo = _positions(cols, lo, hi, ref_arr - rng)
        w_hi = _positions(cols, lo, hi, ref_arr)
        some = w_hi > w_lo
        out, ok = _apply(name, cols, w_lo, w_hi, some, ref_arr, rng)
        values[lo:hi] = out
        present[lo:hi] = ok
        any_window = some.any(axis=1)
        first_step = np.argmax(some, axis=1)
        last_step = n_steps - 1 - np.argmax(some[:, ::-1], axis=1)
        local = np.arange(hi - lo)
        first_lo[lo:hi] = np.where(any_window, w_lo[local, first_step], 0)
        last_hi[lo:hi] = np.where(any_window, w_hi[local, last_step], 0)
    if resets is not None and resets.any():
        _redo_rows(name, cols, np.flatnonzero(resets), refs, rng, steps, values, present)
    loaded = int((last_hi - first_lo).max()) if n_series else 0
    keep: BoolArray = np.any(present, axis=1)
    block = VectorBlock(
        _kept(cols.labels, keep),
        values[keep],
        present[keep],
        drop_name=name not in ("last_over_time", "first_over_time"),
    )
    return RangeResult(block, loaded)


def _series_with_resets(cols: SeriesColumns) -> BoolArray:
    """Series in which some value is below the one before it (a counter reset)."""
    vs = cols.values
    if len(vs) < 2:
        return np.zeros(len(cols), dtype=bool)
    drops = vs[1:] < vs[:-1]
    boundaries = cols.offsets[1:-1]
    drops[boundaries[boundaries > 0] - 1] = False  # a series' first sample follows another's
    ids = cols.series_ids()[1:][drops]
    flagged: BoolArray = np.bincount(ids, minlength=len(cols)) > 0
    return flagged


def _redo_rows(
    name: str,
    cols: SeriesColumns,
    rows: IntArray,
    refs: Sequence[int],
    rng: int,
    steps: Sequence[int],
    values: FloatArray,
    present: BoolArray,
) -> None:
    """Rows the step-wise function computes: its additions happen in sample order."""
    fn = RANGE_FUNCTIONS[name]
    from bisect import bisect_right

    for row in rows.tolist():
        start, end = int(cols.offsets[row]), int(cols.offsets[row + 1])
        ts = cols.timestamps[start:end].tolist()
        vs = cols.values[start:end].tolist()
        for i, ref in enumerate(refs):
            lo = bisect_right(ts, ref - rng)
            hi = bisect_right(ts, ref)
            got = fn(ts, vs, lo, hi, ref - rng, ref, steps[i], [], False) if lo < hi else None
            present[row, i] = got is not None
            values[row, i] = 0.0 if got is None else got


def _apply(
    name: str,
    cols: SeriesColumns,
    w_lo: IntArray,
    w_hi: IntArray,
    some: BoolArray,
    refs: IntArray,
    rng: int,
) -> tuple[FloatArray, BoolArray]:
    ts, vs = cols.timestamps, cols.values
    first = np.where(some, w_lo, 0)
    last = np.where(some, w_hi - 1, 0)
    if name in ("rate", "increase", "delta"):
        return _extrapolated(name, ts, vs, first, last, w_hi - w_lo, refs, rng)
    if name in ("max_over_time", "min_over_time"):
        reduce = np.fmax if name == "max_over_time" else np.fmin
        padded = np.append(vs, np.nan)  # reduceat needs every index below the length
        bounds = np.stack([w_lo, w_hi], axis=-1).ravel()
        out = reduce.reduceat(padded, bounds)[0::2].reshape(w_lo.shape)
        return out, some
    simple: dict[str, Callable[[], FloatArray]] = {
        "count_over_time": lambda: (w_hi - w_lo).astype(np.float64),
        "present_over_time": lambda: np.ones(w_lo.shape),
        "last_over_time": lambda: vs[last],
        "first_over_time": lambda: vs[first],
        "ts_of_last_over_time": lambda: ts[last] / 1000,
        "ts_of_first_over_time": lambda: ts[first] / 1000,
    }
    return simple[name](), some


def _extrapolated(
    name: str,
    ts: IntArray,
    vs: FloatArray,
    first: IntArray,
    last: IntArray,
    count: IntArray,
    refs: IntArray,
    rng: int,
) -> tuple[FloatArray, BoolArray]:
    """rangefuncs._extrapolated for every window at once (windows without a counter reset:
    rows with one are redone step-wise)."""
    ok = count >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        first_t, last_t = ts[first], ts[last]
        v_first = vs[first]
        result = vs[last] - v_first
        to_start = (first_t - (refs - rng)[None, :]) / 1000
        to_end = (refs[None, :] - last_t) / 1000
        sampled = (last_t - first_t) / 1000
        average = sampled / (count - 1)
        threshold = average * 1.1
        half = average / 2
        np.copyto(to_start, half, where=to_start >= threshold)
        if name != "delta":  # a counter: not extrapolated below zero
            to_zero = sampled * (v_first / result)
            np.copyto(to_start, to_zero, where=(result > 0) & (v_first >= 0) & (to_zero < to_start))
        np.copyto(to_end, half, where=to_end >= threshold)
        factor = (sampled + to_start + to_end) / sampled
        if name == "rate":
            factor /= rng / 1000
        out: FloatArray = result * factor
    return np.where(ok, out, 0.0), ok


def aggregate(
    op: str, block: VectorBlock, groups: list[Labels], group_of: IntArray
) -> tuple[VectorBlock, list[tuple[int, int]]]:
    """``op`` over the rows of each group (``group_of[row]``; groups numbered by first
    appearance). Also returns the (group, step) cells whose sum must be redone step-wise."""
    if not groups:
        return VectorBlock([], block.values[:0], block.present[:0], block.drop_name), []
    redo: list[tuple[int, int]] = []
    n_groups = len(groups)
    counts = _group_reduce(np.add, block.present.astype(np.int64), group_of, n_groups)
    if op == "sum":
        out, redo = _sum(block, group_of, counts)
    elif op == "count":
        out = counts.astype(np.float64)
    elif op == "group":
        out = np.ones(counts.shape)
    else:
        cells = np.where(block.present, block.values, np.nan)
        out = _group_reduce(np.fmax if op == "max" else np.fmin, cells, group_of, n_groups)
    ok = counts > 0
    return VectorBlock(groups, np.where(ok, out, 0.0), ok, block.drop_name), redo


def _group_reduce(
    ufunc: np.ufunc, cells: npt.NDArray[Any], group_of: IntArray, n_groups: int
) -> npt.NDArray[Any]:
    """``ufunc.reduce`` over the rows of each group, taken in row order. A few groups are
    picked out by masks (a row-wise reduction runs at memory speed); many are sorted."""
    if n_groups <= _MASKED_GROUPS:
        return np.stack([ufunc.reduce(cells[group_of == g], axis=0) for g in range(n_groups)])
    order = np.argsort(group_of, kind="stable")
    sorted_groups = group_of[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    reduced: npt.NDArray[Any] = ufunc.reduceat(cells[order], starts, axis=0)
    return reduced


def _sum(
    block: VectorBlock, group_of: IntArray, counts: IntArray
) -> tuple[FloatArray, list[tuple[int, int]]]:
    """Group sums, and the cells the step-wise Kahan-Neumaier sum must redo: those whose
    worst-case rounding error (members * eps * sum |x|) is not far below the sum.

    The plain sums are taken in row order: where they end non-finite they are the
    step-wise result, whose running total is exactly that sequential sum.
    """
    cells = block.values  # 0.0 where absent
    n_groups = counts.shape[0]
    members = np.bincount(group_of, minlength=n_groups)[:, None]
    with np.errstate(invalid="ignore", over="ignore"):
        # + 0.0: the step-wise sum starts from +0.0, so it never ends on -0.0.
        out: FloatArray = _group_reduce(np.add, cells, group_of, n_groups) + 0.0
        magnitude = _group_reduce(np.add, np.abs(cells), group_of, n_groups)
        bound = members * _EPSILON * magnitude
        exact = (members <= 1) | ~np.isfinite(out) | (bound <= _SUM_TOLERANCE * np.abs(out))
    redo = [(int(g), int(s)) for g, s in zip(*np.nonzero(~exact & (counts > 0)), strict=True)]
    return out, redo
