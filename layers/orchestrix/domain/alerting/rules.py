"""Alert rules: the Prometheus form, and the threshold form compiled to PromQL."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from orchestrix.domain.alerting.matchers import Matcher
from orchestrix.domain.anomaly.spec import AnomalySpec

Aggregation = Literal["avg", "sum", "min", "max", "count", "last"]
Operator = Literal[">", ">=", "<", "<=", "==", "!="]
# The language of a rule's `expr`: PromQL over metrics, or LogQL over log lines (log rules).
QueryLanguage = Literal["promql", "logql"]
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SEVERITIES = ("critical", "error", "warning", "info")


@dataclass(frozen=True)
class ThresholdSpec:
    """`aggregation(metric{matchers}) operator threshold`, optionally `by` some labels."""

    metric: str
    operator: Operator
    threshold: float
    aggregation: Aggregation = "last"
    matchers: tuple[Matcher, ...] = ()
    by: tuple[str, ...] = ()

    def to_promql(self) -> str:
        selector = self.metric
        if self.matchers:
            selector += "{" + ", ".join(str(m) for m in self.matchers) + "}"
        if self.aggregation == "last":
            expr = selector
        else:
            grouping = f" by ({', '.join(self.by)})" if self.by else ""
            expr = f"{self.aggregation}{grouping} ({selector})"
        return f"{expr} {self.operator} {_number(self.threshold)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "operator": self.operator,
            "threshold": self.threshold,
            "aggregation": self.aggregation,
            "matchers": [m.as_dict() for m in self.matchers],
            "by": list(self.by),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ThresholdSpec:
        return cls(
            metric=d["metric"],
            operator=d["operator"],
            threshold=float(d["threshold"]),
            aggregation=d.get("aggregation", "last"),
            matchers=tuple(Matcher(m["name"], m["op"], m["value"]) for m in d.get("matchers", [])),
            by=tuple(d.get("by", ())),
        )


def _number(v: float) -> str:
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v) if not v.is_integer() else str(int(v))


@dataclass(frozen=True)
class AlertRule:
    id: str
    tenant_id: str
    name: str  # the alertname
    expr: str
    group: str = "default"
    interval_s: int = 60
    for_s: int = 0
    keep_firing_for_s: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    severity: str = "warning"
    threshold: ThresholdSpec | None = None
    # An anomaly rule alerts on the samples of `expr` outside its model's band.
    anomaly: AnomalySpec | None = None
    remediation_workflow_id: str | None = None
    escalation_policy_id: str | None = None
    enabled: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str = ""
    last_evaluated_at: datetime | None = None
    last_error: str | None = None
    last_duration_ms: float | None = None
    language: QueryLanguage = "promql"

    @property
    def health(self) -> str:
        if self.last_evaluated_at is None:
            return "unknown"
        return "err" if self.last_error else "ok"

    def alert_labels(self) -> dict[str, str]:
        """The rule's labels, templated onto every alert (Prometheus adds nothing else)."""
        return self.labels

    def snapshot(self) -> dict[str, Any]:
        """The audit row's view of a rule."""
        return {
            "name": self.name,
            "group": self.group,
            "interval_s": self.interval_s,
            "expr": self.expr,
            "for_s": self.for_s,
            "keep_firing_for_s": self.keep_firing_for_s,
            "labels": self.labels,
            "annotations": self.annotations,
            "severity": self.severity,
            "threshold": self.threshold.as_dict() if self.threshold else None,
            "anomaly": self.anomaly.as_dict() if self.anomaly else None,
            "remediation_workflow_id": self.remediation_workflow_id,
            "escalation_policy_id": self.escalation_policy_id,
            "enabled": self.enabled,
            "language": self.language,
        }
