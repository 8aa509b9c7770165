"""Vectorised evaluation: whole series x step matrices with numpy instead of per-sample Python.

The common shapes of dashboards and alert rules — a vector selector, ``rate``/``increase``/
``delta`` and ``*_over_time`` over a selector, ``sum``/``count``/``min``/``max``/``group``
over those — are computed here as a :class:`VectorBlock`: one row per series, one column per
step, with a presence mask (a missing value is not a NaN). Everything else is evaluated by
the step-wise code in ``functions.py``/``aggregations.py``, which a block turns into on demand
(``to_series``). Results are the step-wise code's: the same float operations in the same
order, element by element; where the order cannot be kept (a counter reset inside a window,
a sum that cancels) the affected rows or cells are handed to that code.

Windows are found for all series at once: every sample gets the key ``series << bits |
(t - base)``, which sorts like (series, time), so one ``searchsorted`` over the keys gives
the first and last sample of every (series, step) window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .columns import BoolArray, FloatArray, IntArray, SeriesColumns, stale_mask
from .rangefuncs import RANGE_FUNCTIONS
from .values import Labels

# Functions computed here from each window's first/last index; the rest go step-wise.
RANGE_KERNELS = frozenset(
    {
        "rate",
        "increase",
        "delta",
        "max_over_time",
        "min_over_time",
        "count_over_time",
        "present_over_time",
        "last_over_time",
        "first_over_time",
        "ts_of_last_over_time",
        "ts_of_first_over_time",
    }
)
AGGREGATION_KERNELS = frozenset({"sum", "count", "max", "min", "group"})
# Rows per batch are chosen so that one batch's series x step arrays stay around this size.
_BATCH_CELLS = 1 << 20
_EPSILON = np.finfo(np.float64).eps
# A vectorised sum is kept when its worst-case rounding error (n * eps * sum |x|) is this far
# below the sum itself; other cells are summed again by the step-wise code (Kahan-Neumaier).
_SUM_TOLERANCE = 1e-12


@dataclass(slots=True)
class VectorBlock:
    """An instant vector over all steps: ``values[i, k]`` counts where ``present[i, k]``."""

    labels: list[Labels]
    values: FloatArray
    present: BoolArray
    drop_name: bool = False

    def rows(self) -> list[tuple[Labels, list[float | None]]]:
        """Each series with its values per step (``None`` = no value), in the classic form."""
        cells = self.values.astype(object)
        cells[~self.present] = None
        return list(zip(self.labels, cells.tolist(), strict=True))


def _kept(labels: list[Labels], keep: BoolArray) -> list[Labels]:
    flags: list[bool] = keep.tolist()
    return [label for label, kept in zip(labels, flags, strict=True) if kept]


@dataclass(frozen=True, slots=True)
class _Keys:
    keys: IntArray
    bits: int
    base: int


def _keys(cols: SeriesColumns, points: Sequence[int]) -> _Keys | None:
    """Sort keys of all samples, or None when series x time does not fit 63 bits."""
    ts = cols.timestamps
    low = min(points)
    high = max(points)
    if len(ts):
        low, high = min(low, int(ts.min())), max(high, int(ts.max()))
    base = low - 1
    bits = (high - base + 1).bit_length()
    if (len(cols) + 1).bit_length() + bits > 62:
        return None
    keys = (cols.series_ids() << bits) | (ts - base)
    return _Keys(keys, bits, base)


def _positions(k: _Keys, rows: IntArray, points: IntArray) -> IntArray:
    """For each (row, point): the number of samples of all series up to and including
    (row, point) — i.e. ``bisect_right`` of the point in the row's samples, plus the row's
    offset."""
    queries = (rows[:, None] << k.bits) | (points - k.base)[None, :]
    found: IntArray = np.searchsorted(k.keys, queries.ravel(), side="right").reshape(queries.shape)
    return found


def _batches(rows: int, steps: int) -> list[tuple[int, int]]:
    size = max(1, _BATCH_CELLS // max(steps, 1))
    return [(lo, min(rows, lo + size)) for lo in range(0, rows, size)]


def vector_selector(
    cols: SeriesColumns, refs: Sequence[int], lookback: int
) -> tuple[VectorBlock, int] | None:
    """The value of each series at each reference time (the latest sample no older than the
    lookback, unless it is a staleness marker); with the number of values found."""
    k = _keys(cols, [refs[0] - lookback, refs[-1]])
    if k is None:
        return None
    n_series, n_steps = len(cols), len(refs)
    values = np.zeros((n_series, n_steps))
    present = np.zeros((n_series, n_steps), dtype=bool)
    ref_arr = np.asarray(refs, dtype=np.int64)
    starts = cols.offsets[:-1]
    ts, vs = cols.timestamps, cols.values
    for lo, hi in _batches(n_series, n_steps):
        rows = np.arange(lo, hi, dtype=np.int64)
        last = _positions(k, rows, ref_arr) - 1
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
) -> RangeResult | None:
    """``name(selector[rng])`` at every reference time, for functions in RANGE_KERNELS.

    ``cols`` holds the selected samples without staleness markers.
    """
    k = _keys(cols, [refs[0] - rng, refs[-1]])
    if k is None:
        return None
    n_series, n_steps = len(cols), len(refs)
    ref_arr = np.asarray(refs, dtype=np.int64)
    values = np.zeros((n_series, n_steps))
    present = np.zeros((n_series, n_steps), dtype=bool)
    first_lo = np.zeros(n_series, dtype=np.int64)
    last_hi = np.zeros(n_series, dtype=np.int64)
    resets = _series_with_resets(cols) if name in ("rate", "increase") else None
    for lo, hi in _batches(n_series, n_steps):
        rows = np.arange(lo, hi, dtype=np.int64)
        w_lo = _positions(k, rows, ref_arr - rng)
        w_hi = _positions(k, rows, ref_arr)
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
    is_counter = name != "delta"
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
        to_start = np.where(to_start >= threshold, average / 2, to_start)
        if is_counter:
            to_zero = np.where(
                (result > 0) & (v_first >= 0), sampled * (v_first / result), to_start
            )
            to_start = np.where(to_zero < to_start, to_zero, to_start)
        to_end = np.where(to_end >= threshold, average / 2, to_end)
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
    order = np.argsort(group_of, kind="stable")
    sorted_groups = group_of[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    present = block.present[order]
    counts = np.add.reduceat(present.astype(np.int64), starts, axis=0)
    redo: list[tuple[int, int]] = []
    if op in ("sum", "count", "group"):
        if op == "sum":
            cells = np.where(present, block.values[order], 0.0)
            members = np.diff(np.r_[starts, len(order)])[:, None]
            with np.errstate(invalid="ignore", over="ignore"):
                # + 0.0: the step-wise sum starts from +0.0, so it never ends on -0.0.
                out = np.add.reduceat(cells, starts, axis=0) + 0.0
                magnitude = np.add.reduceat(np.abs(cells), starts, axis=0)
                bound = members * _EPSILON * magnitude
                exact = (members <= 1) | ~np.isfinite(out) | (bound <= _SUM_TOLERANCE * np.abs(out))
            redo = [
                (int(g), int(s)) for g, s in zip(*np.nonzero(~exact & (counts > 0)), strict=True)
            ]
        elif op == "count":
            out = counts.astype(np.float64)
        else:
            out = np.ones(counts.shape)
    else:
        cells = np.where(present, block.values[order], np.nan)
        reduce = np.fmax if op == "max" else np.fmin
        out = reduce.reduceat(cells, starts, axis=0)
    ok = counts > 0
    return VectorBlock(groups, np.where(ok, out, 0.0), ok, block.drop_name), redo
