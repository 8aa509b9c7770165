"""What `/api/v1/status/tsdb` reports about one tenant's stored series."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TsdbStats:
    num_series: int
    num_label_pairs: int
    chunk_count: int
    min_time_ms: int | None  # None: nothing stored
    max_time_ms: int | None
    # Each list: the `limit` largest (name, count) pairs, largest first.
    series_count_by_metric_name: list[tuple[str, int]]
    label_value_count_by_label_name: list[tuple[str, int]]
    memory_in_bytes_by_label_name: list[tuple[str, int]]
    series_count_by_label_value_pair: list[tuple[str, int]]
