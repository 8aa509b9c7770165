"""The remediation re-check is a rule query: it runs under the same cost bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from orchestrix.domain.alerting.alerts import Alert, AlertStatus
from orchestrix.domain.alerting.evaluation import ResultSample, alert_instances
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.promql import MemoryStorage
from orchestrix.promql.values import labels_of
from orchestrix.services.remediation import RemediationService
from orchestrix.services.rule_evaluation import EvaluationBudget

AT = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
RULE = AlertRule(
    id="r1", tenant_id="t", name="Backlog", expr="max_over_time(queue_depth[10m]) > 100"
)


def storage() -> MemoryStorage:
    s = MemoryStorage()
    end = int(AT.timestamp() * 1000)
    for t in range(end - 600_000, end + 1, 15_000):  # 41 samples in the 10m window, breaching
        s.add(labels_of({"__name__": "queue_depth", "queue": "mail"}), t, 150.0)
    return s


def firing_alert() -> Alert:
    ((fp, (labels, annotations, value)),) = alert_instances(
        RULE, [ResultSample({"queue": "mail"}, 150.0)]
    ).items()
    return Alert(
        id="a1", tenant_id="t", fingerprint=fp, status=AlertStatus.FIRING, source="rule",
        name=RULE.name, severity="warning", labels=labels, annotations=annotations,
        starts_at=AT, last_received_at=AT, occurrences=1, created_at=AT, updated_at=AT,
    )  # fmt: skip


def service(budget: EvaluationBudget) -> RemediationService:
    unused: Any = None
    data = storage()
    return RemediationService(
        unused, unused, unused, unused, lambda _tenant: data, unused, unused, budget=budget
    )


def test_recheck_sees_a_breach_within_the_sample_budget() -> None:
    checker = service(EvaluationBudget(max_samples=1_000))

    assert checker._breaching("t", RULE, firing_alert(), AT) is True


def test_recheck_over_the_sample_budget_stops_and_keeps_the_alert_firing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The 10m window holds 41 samples: over a bound of 10 the query must stop there, and
    # "cannot tell" must keep the alert firing (escalation), never resolve it.
    checker = service(EvaluationBudget(max_samples=10))

    assert checker._breaching("t", RULE, firing_alert(), AT) is True
    assert "too many samples" in caplog.text
