"""Anomaly models (one packed state per rule and series), and the band series writer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg

from orchestrix.adapters.metrics.batch import DecodedBatch, SeriesKey, fingerprint

LOAD = """
SELECT rule_id, fingerprint, state FROM anomaly_models WHERE rule_id = ANY(%(rule_ids)s)
"""
# One statement for all of a tick's models (unnest of arrays: no per-row round trip).
SAVE = """
INSERT INTO anomaly_models (tenant_id, rule_id, fingerprint, state, updated_at)
SELECT %(tenant_id)s, r, f, s, %(at)s
FROM unnest(%(rule_ids)s::text[], %(fps)s::text[], %(states)b::bytea[]) AS t(r, f, s)
ON CONFLICT (tenant_id, rule_id, fingerprint) DO UPDATE SET
  state = excluded.state, updated_at = excluded.updated_at
"""

FORGET = "DELETE FROM anomaly_models WHERE rule_id = ANY(%(rule_ids)s) AND updated_at < %(before)s"


class PostgresAnomalyModels:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def load(self, rule_ids: Sequence[str]) -> dict[str, dict[str, bytes]]:
        out: dict[str, dict[str, bytes]] = {rid: {} for rid in rule_ids}
        for rule_id, fp, state in self._conn.execute(LOAD, {"rule_ids": list(rule_ids)}):
            out.setdefault(rule_id, {})[fp] = bytes(state)
        return out

    def save(self, tenant_id: str, rows: Sequence[tuple[str, str, bytes]], at: datetime) -> None:
        if not rows:
            return
        self._conn.execute(
            SAVE,
            {
                "tenant_id": tenant_id,
                "at": at,
                "rule_ids": [r[0] for r in rows],
                "fps": [r[1] for r in rows],
                "states": [r[2] for r in rows],
            },
        )

    def forget_before(self, rule_ids: Sequence[str], before: datetime) -> int:
        params = {"rule_ids": list(rule_ids), "before": before}
        return self._conn.execute(FORGET, params).rowcount


class MetricStoreBands:
    """Writes band samples through the metric store, like any ingested series."""

    def __init__(self, store: Callable[[], Any]) -> None:
        self._store = store

    def write(self, tenant_id: str, samples: Sequence[tuple[dict[str, str], int, float]]) -> None:
        batch = DecodedBatch()
        for labels, ts, value in samples:
            pairs = tuple(sorted(labels.items()))
            batch.series.append(SeriesKey(pairs, fingerprint(pairs)))
            batch.timestamps_ms.append(ts)
            batch.values.append(value)
            batch.offsets.append(len(batch.values))
        self._store().write(tenant_id, batch)
