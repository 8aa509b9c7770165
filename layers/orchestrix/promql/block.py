"""An instant vector over all steps as matrices (what the numpy kernels produce).

This module imports no numpy at run time: the evaluator checks for blocks on every node,
and importing the engine (the metric store does, for its label matchers) must not load
numpy; the kernels that build blocks are imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .values import Labels

if TYPE_CHECKING:
    from .columns import BoolArray, FloatArray

# Range functions kernels.py computes from each window's first and last sample; the rest
# are evaluated step-wise.
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


@dataclass(slots=True)
class VectorBlock:
    """An instant vector over all steps: ``values[i, k]`` counts where ``present[i, k]``,
    and is 0.0 elsewhere (so that sums can take whole rows)."""

    labels: list[Labels]
    values: FloatArray
    present: BoolArray
    drop_name: bool = False

    def rows(self) -> list[tuple[Labels, list[float | None]]]:
        """Each series with its values per step (``None`` = no value), in the classic form."""
        cells = self.values.astype(object)
        cells[~self.present] = None
        return list(zip(self.labels, cells.tolist(), strict=True))
