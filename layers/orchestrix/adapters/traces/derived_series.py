"""The counters derived from spans, written to the metric store as Prometheus samples.

A series seen for the first time also gets a zero sample a millisecond before its first
value, as a client library's counter starts at zero: `rate()` and `increase()` then count
the first batch instead of waiting for a second sample.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrix.adapters.metrics.batch import DecodedBatch, SeriesKey, fingerprint
from orchestrix.ports.trace_store import CounterSample
from orchestrix.services.metrics import MetricStore


class MetricStoreSeries:
    def __init__(self, store: MetricStore) -> None:
        self._store = store

    def write(self, tenant_id: str, samples: Sequence[CounterSample]) -> None:
        batch = DecodedBatch()
        for sample in samples:
            # Prometheus treats an empty label value as no label at all.
            labels = tuple(pair for pair in sample.labels if pair[1])
            batch.series.append(SeriesKey(labels, fingerprint(labels)))
            if sample.new:
                batch.timestamps_ms.append(sample.timestamp_ms - 1)
                batch.values.append(0.0)
            batch.timestamps_ms.append(sample.timestamp_ms)
            batch.values.append(sample.value)
            batch.offsets.append(len(batch.values))
        self._store.write(tenant_id, batch)
