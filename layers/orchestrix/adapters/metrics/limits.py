"""Per-request limits for metrics ingestion (defaults follow Grafana Mimir's)."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """What one write or import request may contain.

    Body sizes are checked before decoding (413). Label limits are checked per series
    (400, the series is named). The series/sample caps bound the memory and time a single
    Lambda invocation spends; Prometheus sends 500-2,000 samples per request by default.
    """

    max_body_bytes: int = 10 * MiB  # API Gateway's payload limit
    max_decompressed_bytes: int = 64 * MiB
    max_series_per_request: int = 100_000
    max_samples_per_request: int = 1_000_000
    max_labels_per_series: int = 30
    max_label_name_bytes: int = 1024
    max_label_value_bytes: int = 2048
    # Sample timestamps (ms) must lie in [min_timestamp_ms, now + max_future_ms]: the store
    # partitions samples by day, and a year-3000 or int64-extreme timestamp would create
    # partitions retention never drops. Mimir's creation grace period is the same 10 minutes.
    min_timestamp_ms: int = 0  # 1970-01-01T00:00:00Z
    max_future_ms: int = 10 * 60 * 1000


DEFAULT_LIMITS = IngestLimits()


def timestamp_bounds(now_ms: int, limits: IngestLimits = DEFAULT_LIMITS) -> tuple[int, int]:
    """The inclusive range of sample timestamps a request arriving at `now_ms` may carry."""
    return limits.min_timestamp_ms, now_ms + limits.max_future_ms
