"""Incidents: what happened, how bad, who is on it, and which alerts belong to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from orchestrix.domain.errors import Conflict


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"
    SEV5 = "SEV5"


class IncidentStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


OPEN_STATUSES = (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.MITIGATED)

# Forward only: an incident is never "un-acknowledged"; a relapse is a new incident.
_NEXT: dict[IncidentStatus, tuple[IncidentStatus, ...]] = {
    IncidentStatus.TRIGGERED: (
        IncidentStatus.ACKNOWLEDGED,
        IncidentStatus.MITIGATED,
        IncidentStatus.RESOLVED,
    ),
    IncidentStatus.ACKNOWLEDGED: (IncidentStatus.MITIGATED, IncidentStatus.RESOLVED),
    IncidentStatus.MITIGATED: (IncidentStatus.RESOLVED,),
    IncidentStatus.RESOLVED: (),
}


def check_transition(current: IncidentStatus, wanted: IncidentStatus) -> None:
    if wanted not in _NEXT[current]:
        raise Conflict(f"an incident that is {current.value} cannot become {wanted.value}")


class Role(StrEnum):
    COMMANDER = "commander"
    SCRIBE = "scribe"
    COMMUNICATIONS = "communications"


# Alert severities (Prometheus convention) to incident severities.
ALERT_SEVERITY = {
    "critical": Severity.SEV1,
    "error": Severity.SEV2,
    "warning": Severity.SEV3,
    "info": Severity.SEV4,
}


@dataclass(frozen=True)
class Incident:
    id: str
    tenant_id: str
    title: str
    description: str
    severity: Severity
    status: IncidentStatus
    service: str | None
    team_id: str | None
    escalation_policy_id: str | None
    group_key: str | None
    roles: dict[str, str]  # role -> member id or subject
    labels: dict[str, str]
    alert_count: int
    created_by: str
    triggered_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    last_alert_at: datetime | None = None
    updated_at: datetime | None = None
    sla_breaches: tuple[str, ...] = ()  # "ack", "resolve"
    summary: str | None = None  # the latest analysis' summary (root cause, cited evidence)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def snapshot(self) -> dict[str, Any]:
        """The audit/event view of an incident."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity.value,
            "status": self.status.value,
            "service": self.service,
            "team_id": self.team_id,
            "escalation_policy_id": self.escalation_policy_id,
            "roles": dict(self.roles),
            "alert_count": self.alert_count,
            "triggered_at": self.triggered_at.isoformat(),
            "acknowledged_at": _iso(self.acknowledged_at),
            "mitigated_at": _iso(self.mitigated_at),
            "resolved_at": _iso(self.resolved_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class TimelineKind(StrEnum):
    TRIGGERED = "triggered"
    ALERT_LINKED = "alert_linked"
    ALERT_RESOLVED = "alert_resolved"
    NOTIFIED = "notified"
    ESCALATED = "escalated"
    ESCALATION_EXHAUSTED = "escalation_exhausted"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    UPDATED = "updated"
    ROLE_ASSIGNED = "role_assigned"
    NOTE = "note"
    SLA_BREACHED = "sla_breached"


@dataclass(frozen=True)
class TimelineEntry:
    id: str
    incident_id: str
    at: datetime
    kind: TimelineKind
    actor: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertSnapshot:
    """What the incident side needs to know about a firing alert."""

    id: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    severity: str
    suppressed: bool
    escalation_policy_id: str | None
    rule_id: str | None
    at: datetime | None
    # The rule's remediation workflow: the fix is tried before anyone is paged (an
    # `alert.remediation_failed` brings the alert back to the incident side if it fails).
    remediation_workflow_id: str | None = None

    @property
    def title(self) -> str:
        summary = self.annotations.get("summary") or self.annotations.get("title")
        return summary or self.labels.get("alertname") or "alert"

    @classmethod
    def parse(cls, data: dict[str, Any]) -> AlertSnapshot:
        """Lenient: accepts the alert itself or an event detail `{"alert": {...}}`."""
        raw = data.get("alert") if isinstance(data.get("alert"), dict) else data
        assert isinstance(raw, dict)
        labels = {str(k): str(v) for k, v in (raw.get("labels") or {}).items()}
        annotations = {str(k): str(v) for k, v in (raw.get("annotations") or {}).items()}
        fingerprint = str(raw.get("fingerprint") or raw.get("id") or "")
        at_raw = raw.get("starts_at") or raw.get("fired_at") or raw.get("startsAt")
        at = datetime.fromisoformat(str(at_raw).replace("Z", "+00:00")) if at_raw else None
        return cls(
            id=str(raw.get("id") or fingerprint),
            fingerprint=fingerprint,
            labels=labels,
            annotations=annotations,
            severity=str(raw.get("severity") or labels.get("severity") or "").lower(),
            suppressed=bool(raw.get("suppressed") or raw.get("silenced")),
            escalation_policy_id=_opt(
                raw.get("escalation_policy_id") or data.get("escalation_policy_id")
            ),
            rule_id=_opt(raw.get("rule_id") or data.get("rule_id")),
            at=at,
            remediation_workflow_id=_opt(
                raw.get("remediation_workflow_id") or data.get("remediation_workflow_id")
            ),
        )


def _opt(value: Any) -> str | None:
    return str(value) if value else None


@dataclass(frozen=True)
class SlaTarget:
    ack_minutes: int | None = None
    resolve_minutes: int | None = None


DEFAULT_SLA: dict[Severity, SlaTarget] = {
    Severity.SEV1: SlaTarget(5, 60),
    Severity.SEV2: SlaTarget(15, 240),
    Severity.SEV3: SlaTarget(60, 24 * 60),
}


@dataclass(frozen=True)
class IncidentSettings:
    """Per-tenant rules for turning alerts into incidents, and SLA targets."""

    severities: tuple[str, ...] = ("critical", "error")
    group_by: tuple[str, ...] = ("alertname", "service")
    window: timedelta = timedelta(minutes=5)
    default_escalation_policy_id: str | None = None
    service_policies: dict[str, str] = field(default_factory=dict)
    sla: dict[Severity, SlaTarget] = field(default_factory=lambda: dict(DEFAULT_SLA))

    def opens_incident(self, alert: AlertSnapshot) -> bool:
        return not alert.suppressed and alert.severity in self.severities

    def group_key(self, labels: dict[str, str]) -> str:
        """Alerts sharing these label values belong to the same incident."""
        return ",".join(f"{name}={labels.get(name, '')}" for name in self.group_by)

    def policy_for(self, alert_policy: str | None, service: str | None) -> str | None:
        if alert_policy:
            return alert_policy
        if service and service in self.service_policies:
            return self.service_policies[service]
        return self.default_escalation_policy_id


def severity_of(alert: AlertSnapshot) -> Severity:
    return ALERT_SEVERITY.get(alert.severity, Severity.SEV3)
