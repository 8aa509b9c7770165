"""Log rules: the rule engine's view of a LogQL metric query at one instant.

A log rule is an alert rule whose `language` is `logql`, e.g.
`sum(count_over_time({app="api"} |= "error" [5m])) > 10`: its result samples feed the same
pending/firing state machine as PromQL rules, and fire the same alerts.
"""

from __future__ import annotations

from datetime import datetime

from orchestrix.domain.logs import Labels
from orchestrix.logql.model import LogSelector
from orchestrix.logql.parse import parse
from orchestrix.services.logs import LogService


class LogRuleEvaluator:
    def __init__(self, logs: LogService) -> None:
        self._logs = logs

    def __call__(
        self, tenant_id: str, expr: str, at: datetime, timeout_s: float | None = None
    ) -> list[tuple[Labels, float]]:
        """(labels, value) of each series the expression has at `at`; `LogQueryTimeout`
        past `timeout_s` (the rule engine's per-rule query timeout)."""
        query = parse(expr)
        if isinstance(query, LogSelector):
            raise ValueError("a log rule's expression must be a metric query")
        at_ns = int(at.timestamp() * 1_000_000) * 1000
        found = self._logs.evaluate_for_rule(tenant_id, query, at_ns, timeout_s)
        return [(s.labels, s.points[-1][1]) for s in found if s.points[-1][0] == at_ns]
