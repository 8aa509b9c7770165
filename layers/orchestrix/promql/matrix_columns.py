"""A range query's matrix kept as the kernels' arrays, for the API to render without
building a (timestamp, value) tuple per point twice.

Only imported when a range query ends in a `VectorBlock`, so numpy is loaded already.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress
from operator import add
from typing import cast

import numpy as np
import orjson

from .block import VectorBlock
from .columns import BoolArray, FloatArray
from .values import Labels, Matrix, RangeSeries, drop_metric_name


@dataclass(frozen=True, slots=True)
class MatrixColumns:
    """Rows in label order, each with a value somewhere: ``values[i, k]`` at ``steps[k]``
    where ``present[i, k]``."""

    labels: list[Labels]
    steps: list[int]
    values: FloatArray
    present: BoolArray

    def matrix(self) -> Matrix:
        out: Matrix = []
        full = _full_rows(self.present)
        for labels, row, mask, whole in zip(
            self.labels, self.values.tolist(), self.present.tolist(), full, strict=True
        ):
            if whole:
                out.append(RangeSeries(labels, list(zip(self.steps, row, strict=True))))
            else:
                points = compress(zip(self.steps, row, strict=True), mask)
                out.append(RangeSeries(labels, list(points)))
        return out


def matrix_columns(block: VectorBlock, steps: list[int]) -> MatrixColumns | None:
    """The block as a range query's result; None where dropping the metric names leaves two
    rows with one label set (they merge, or fail, the step-wise way)."""
    labels = [drop_metric_name(s) for s in block.labels] if block.drop_name else block.labels
    if len(set(labels)) != len(labels):
        return None
    kept = cast("list[bool]", block.present.any(axis=1).tolist())
    order = [i for i in sorted(range(len(labels)), key=labels.__getitem__) if kept[i]]
    index = np.array(order, dtype=np.int64)
    return MatrixColumns(
        [labels[i] for i in order], steps, block.values[index], block.present[index]
    )


def points_json(columns: MatrixColumns, stamps: list[str]) -> list[str] | None:
    """`[t,"v"],...` per row, with `stamps[k]` = `[<seconds of steps[k]>,"`; None if a value
    needs Go's exponent form or is not finite (the caller then writes value by value).

    One orjson call writes every value: as Go's shortest text plus ".0" for whole numbers,
    and in plain notation exactly where Go's 'f' format applies (see format._points_json).
    """
    if not len(columns.labels):
        return []
    texts = orjson.dumps(columns.values.ravel(), option=orjson.OPT_SERIALIZE_NUMPY)
    if b"e" in texts or b"null" in texts:
        return None
    values = texts[1:-1].decode().split(",")
    width = len(columns.steps)
    out = []
    full = _full_rows(columns.present)
    for i, whole in enumerate(full):
        row = values[i * width : (i + 1) * width]
        if whole:
            joined = '"],'.join(map(add, stamps, row))
        else:
            mask = columns.present[i].tolist()
            joined = '"],'.join(map(add, compress(stamps, mask), compress(row, mask)))
        out.append((joined + '"]').replace('.0"', '"'))  # ".0" before a quote ends a value
    return out


def _full_rows(present: BoolArray) -> list[bool]:
    return cast("list[bool]", present.all(axis=1).tolist())
