"""Alerts: one record per fingerprint while open, whatever sent it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertStatus(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"


OPEN_STATUSES = (AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED, AlertStatus.SUPPRESSED)


@dataclass(frozen=True)
class AlertSignal:
    """One alert as a source reports it: firing (again) or resolved.

    `refresh` marks a rule's periodic re-evaluation of a still-firing alert: it updates the
    value and re-checks silences but is not a new occurrence, and never reopens an alert
    somebody resolved by hand.
    """

    labels: dict[str, str]
    firing: bool
    source: str
    at: datetime
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    dedup_key: str | None = None
    generator_url: str | None = None
    value: float | None = None
    rule_id: str | None = None
    refresh: bool = False
    payload: dict[str, Any] | None = None
    severity_hint: str | None = None  # used when the labels carry no severity

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "") or self.labels.get("name", "") or "alert"

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "") or self.severity_hint or "warning"


@dataclass(frozen=True)
class Alert:
    id: str
    tenant_id: str
    fingerprint: str
    status: AlertStatus
    source: str
    name: str
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    last_received_at: datetime
    occurrences: int
    created_at: datetime
    updated_at: datetime
    rule_id: str | None = None
    value: float | None = None
    dedup_key: str | None = None
    generator_url: str | None = None
    ends_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_by: str | None = None
    silenced_by: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def snapshot(self) -> dict[str, Any]:
        """The audit row's and the event's view of an alert."""
        return {
            "id": self.id,
            "fingerprint": self.fingerprint,
            "status": self.status.value,
            "source": self.source,
            "name": self.name,
            "severity": self.severity,
            "labels": self.labels,
            "annotations": self.annotations,
            "value": self.value,
            "rule_id": self.rule_id,
            "dedup_key": self.dedup_key,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "occurrences": self.occurrences,
            "silenced_by": list(self.silenced_by),
        }


@dataclass(frozen=True)
class AlertFilter:
    statuses: tuple[AlertStatus, ...] = ()
    severities: tuple[str, ...] = ()
    matchers: tuple[Any, ...] = ()  # domain.alerting.matchers.Matcher
    since: datetime | None = None
    until: datetime | None = None
    rule_id: str | None = None
