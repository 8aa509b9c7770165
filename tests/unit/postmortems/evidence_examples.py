"""Incidents and their evidence as the incident services record them, for post-mortem tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrix.domain.incidents import (
    Incident,
    IncidentStatus,
    Severity,
    TimelineEntry,
    TimelineKind,
)
from orchestrix.domain.postmortems import Evidence
from orchestrix.services.postmortem_evidence import collect

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def incident(**changes: Any) -> Incident:
    base: dict[str, Any] = {
        "id": "inc_1",
        "tenant_id": "t",
        "title": "Checkout is failing",
        "description": "",
        "severity": Severity.SEV1,
        "status": IncidentStatus.RESOLVED,
        "service": "checkout",
        "team_id": None,
        "escalation_policy_id": None,
        "group_key": "alertname=CheckoutErrors,service=checkout",
        "roles": {"commander": "mem_ada"},
        "labels": {"alertname": "CheckoutErrors"},
        "alert_count": 1,
        "created_by": "system:alerts",
        "triggered_at": T0,
        "acknowledged_at": T0 + timedelta(minutes=4),
        "acknowledged_by": "ada",
        "resolved_at": T0 + timedelta(minutes=40),
        "resolved_by": "bob",
    }
    return Incident(**{**base, **changes})


def entry(n: int, kind: TimelineKind, message: str, minutes: float) -> TimelineEntry:
    return TimelineEntry(
        f"tle_{n:04d}", "inc_1", T0 + timedelta(minutes=minutes), kind, "ada", message
    )


TIMELINE = [
    entry(1, TimelineKind.TRIGGERED, "opened by alert Checkout is failing", 0),
    entry(2, TimelineKind.NOTIFIED, "paged Ada", 0.1),
    entry(3, TimelineKind.ACKNOWLEDGED, "acknowledged by ada", 4),
    entry(4, TimelineKind.NOTE, "rolled back release 4.2.1", 20),
    entry(5, TimelineKind.RESOLVED, "resolved by bob", 40),
]
ALERTS = [
    {
        "id": "alr_1",
        "name": "CheckoutErrors",
        "severity": "critical",
        "summary": "Checkout is failing",
        "starts_at": T0 - timedelta(minutes=2),
        "resolved_at": T0 + timedelta(minutes=38),
    }
]
EXECUTIONS = [
    {
        "id": "exe_1",
        "workflow_id": "wf_restart",
        "status": "failed",
        "started_at": T0 + timedelta(minutes=1),
        "finished_at": T0 + timedelta(minutes=2),
        "error": "States.TaskFailed",
    }
]


def evidence() -> Evidence:
    return collect(incident(), TIMELINE, ALERTS, EXECUTIONS)
