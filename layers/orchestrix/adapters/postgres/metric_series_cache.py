"""Which series a writer knows to be stored with bounds covering a batch (metric_series).

A series' first_ts/last_ts bounds only promise to cover its samples (reads narrow them down
with the samples themselves), so the writer stores them widened to whole hours and upserts
a series only when a batch falls outside what is stored: in steady state once per series
and hour. Checking the batch's series one by one was a fifth of a remote write's client
time; a batch inside one hour (the usual case) is checked as one set difference against
the series already known to cover that hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrix.adapters.metrics.batch import SeriesKey

HOUR_MS = 3_600_000


@dataclass(slots=True)
class _Tenant:
    bounds: dict[int, tuple[int, int]] = field(default_factory=dict)
    hour: int | None = None
    covering: set[int] = field(default_factory=set)  # stored bounds cover all of `hour`


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    """What a write must upsert (`pending`, with the bounds `first`..`last`), and what it
    may remember once committed."""

    tenant_id: str
    pending: dict[int, SeriesKey]
    first: int
    last: int
    covering: set[int] | None  # the batch's series, when the batch is inside one hour


class KnownSeries:
    def __init__(self) -> None:
        self._tenants: dict[str, _Tenant] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        self._tenants.clear()
        self._size = 0

    def plan(
        self,
        tenant_id: str,
        keys: Sequence[SeriesKey],
        fingerprints: Sequence[int],
        first_ms: int,
        last_ms: int,
    ) -> SeriesPlan:
        """The series of a batch spanning [first_ms, last_ms] that need upserting."""
        first, last = first_ms - first_ms % HOUR_MS, last_ms - last_ms % HOUR_MS + HOUR_MS - 1
        tenant = self._tenants.get(tenant_id) or _Tenant()
        candidates: Sequence[SeriesKey] = keys
        covering = None
        if last - first < HOUR_MS:
            covering = set(fingerprints)
            if tenant.hour == first:
                missing = covering.difference(tenant.covering)
                if not missing:
                    return SeriesPlan(tenant_id, {}, first, last, None)
                if len(missing) < len(covering):
                    candidates = [key for key in keys if key.fingerprint in missing]
        bounds = tenant.bounds
        pending: dict[int, SeriesKey] = {}
        for key in candidates:
            stored = bounds.get(key.fingerprint)
            if stored is None or first < stored[0] or last > stored[1]:
                pending[key.fingerprint] = key
        return SeriesPlan(tenant_id, pending, first, last, covering)

    def remember(self, plan: SeriesPlan) -> None:
        """Record a committed write's plan."""
        tenant = self._tenants.setdefault(plan.tenant_id, _Tenant())
        bounds = tenant.bounds
        for fp in plan.pending:
            stored = bounds.get(fp)
            if stored is None:
                self._size += 1
                bounds[fp] = (plan.first, plan.last)
            else:
                bounds[fp] = (min(stored[0], plan.first), max(stored[1], plan.last))
        if plan.covering is not None:
            if tenant.hour != plan.first:
                tenant.hour, tenant.covering = plan.first, set()
            tenant.covering.update(plan.covering)
