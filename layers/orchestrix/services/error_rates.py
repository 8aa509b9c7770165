"""Per-service error rates from the tenant's metrics, for root cause evidence.

The tenant names one PromQL query (`error_query` in the correlation settings) whose result
carries a `service` label, e.g. `sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))`;
it is evaluated over the analysis window with the same engine as the query API, under a short
timeout and sample budget (an analysis must stay cheap).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from orchestrix.promql import Engine, Queryable
from orchestrix.promql.parse import parse
from orchestrix.promql.values import RangeSeries

STEP = timedelta(minutes=1)
TIMEOUT_S = 3.0
MAX_SAMPLES = 500_000


class PromqlErrorRates:
    def __init__(self, reader: Callable[[str], Queryable]) -> None:
        self._reader = reader

    def series(
        self, tenant_id: str, query: str, start: datetime, end: datetime
    ) -> dict[str, list[tuple[int, float]]]:
        engine = Engine(self._reader(tenant_id), timeout_s=TIMEOUT_S, max_samples=MAX_SAMPLES)
        result = engine.range_tree(
            parse(query),
            query,
            int(start.timestamp() * 1000),
            int(end.timestamp() * 1000),
            int(STEP.total_seconds() * 1000),
        )
        out: dict[str, list[tuple[int, float]]] = {}
        for item in result.value if isinstance(result.value, list) else []:
            if isinstance(item, RangeSeries) and (service := dict(item.labels).get("service")):
                out.setdefault(service, []).extend(item.points)
        return out
