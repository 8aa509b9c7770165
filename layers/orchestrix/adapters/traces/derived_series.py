"""The counters derived from spans, written to the metric store as Prometheus samples.

A series seen for the first time also gets a zero sample a millisecond before its first
value, as a client library's counter starts at zero: `rate()` and `increase()` then count
the first batch instead of waiting for a second sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from orchestrix.adapters.metrics.batch import DecodedBatch, SeriesKey, fingerprint
from orchestrix.domain.span_metrics import Labels
from orchestrix.ports.trace_store import CounterSample
from orchestrix.services.metrics import MetricStore


@lru_cache(maxsize=100_000)
def series_key(labels: Labels) -> SeriesKey:
    """The metric series of a derived counter (cached: the same few thousand recur)."""
    # Prometheus treats an empty label value as no label at all.
    kept = tuple(pair for pair in labels if pair[1])
    return SeriesKey(kept, fingerprint(kept))


class MetricStoreSeries:
    def __init__(self, store: MetricStore) -> None:
        self._store = store

    def write(self, tenant_id: str, samples: Sequence[CounterSample]) -> None:
        batch = DecodedBatch()
        for sample in samples:
            batch.series.append(series_key(sample.labels))
            if sample.new:
                batch.timestamps_ms.append(sample.timestamp_ms - 1)
                batch.values.append(0.0)
            batch.timestamps_ms.append(sample.timestamp_ms)
            batch.values.append(sample.value)
            batch.offsets.append(len(batch.values))
        self._store.write(tenant_id, batch)
