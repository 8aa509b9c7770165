"""/api/v1/alerts — list, inspect, raise, acknowledge and resolve alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.http.types import Rfc3339
from orchestrix.adapters.postgres.alerting_components import alert_service
from orchestrix.domain.alerting.alerts import Alert, AlertFilter, AlertSignal, AlertStatus
from orchestrix.domain.alerting.matchers import MatcherError, parse_matchers
from orchestrix.domain.errors import ValidationFailed
from orchestrix.domain.pagination import DEFAULT_LIMIT

router = Router()


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: dict[str, str] = Field(min_length=1, examples=[{"alertname": "DiskFull"}])
    annotations: dict[str, str] = Field(default_factory=dict)
    status: str = Field("firing", pattern="^(firing|resolved)$")
    dedup_key: str | None = Field(None, max_length=255)
    severity: str | None = Field(None, max_length=50)
    starts_at: Rfc3339 | None = None


class AlertOut(BaseModel):
    id: str
    fingerprint: str
    status: AlertStatus
    source: str
    name: str
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str]
    value: float | None
    rule_id: str | None
    dedup_key: str | None
    generator_url: str | None
    starts_at: datetime
    ends_at: datetime | None
    last_received_at: datetime
    occurrences: int
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_by: str | None
    silenced_by: list[str]

    @classmethod
    def of(cls, a: Alert) -> AlertOut:
        return cls(
            id=a.id,
            fingerprint=a.fingerprint,
            status=a.status,
            source=a.source,
            name=a.name,
            severity=a.severity,
            labels=a.labels,
            annotations=a.annotations,
            value=a.value if a.value is None or a.value == a.value else None,
            rule_id=a.rule_id,
            dedup_key=a.dedup_key,
            generator_url=a.generator_url,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            last_received_at=a.last_received_at,
            occurrences=a.occurrences,
            acknowledged_at=a.acknowledged_at,
            acknowledged_by=a.acknowledged_by,
            resolved_by=a.resolved_by,
            silenced_by=list(a.silenced_by),
        )


class RemediationOut(BaseModel):
    """One auto-remediation attempt: the workflow execution it started and how it ended."""

    id: str
    attempt: int
    workflow_id: str
    execution_id: str | None
    execution_status: str | None
    status: str = Field(description="running, resolved, escalated or failed")
    reason: str | None
    started_at: datetime
    finished_at: datetime | None


class AlertDetail(AlertOut):
    recent_occurrences: list[dict[str, Any]]
    remediations: list[RemediationOut] = Field(default_factory=list)


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None


AlertId = Annotated[str, Path(max_length=64)]


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@router.get("/api/v1/alerts", tags=["alerts"], summary="List alerts, newest first")
def list_alerts(
    status: Annotated[str | None, Query(description="firing,acknowledged,...")] = None,
    severity: Annotated[str | None, Query(description="critical,warning,...")] = None,
    match: Annotated[
        list[str] | None, Query(description='label matchers, e.g. service="api"')
    ] = None,
    since: Annotated[Rfc3339 | None, Query()] = None,
    until: Annotated[Rfc3339 | None, Query()] = None,
    rule_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> AlertPage:
    try:
        statuses = tuple(AlertStatus(s) for s in _csv(status))
    except ValueError:
        raise ValidationFailed.single(
            ("query", "status"), "use firing, acknowledged, resolved or suppressed"
        ) from None
    try:
        matchers = tuple(m for text in match or [] for m in parse_matchers(text))
    except MatcherError as exc:
        raise ValidationFailed.single(("query", "match"), str(exc)) from None
    filters = AlertFilter(statuses, tuple(_csv(severity)), matchers, since, until, rule_id)
    page = alert_service().list(current_principal(router), filters, page_request(limit, cursor))
    return AlertPage(items=[AlertOut.of(a) for a in page.items], next_cursor=page.next_cursor)


@router.post("/api/v1/alerts", tags=["alerts"], summary="Raise (or repeat, or resolve) an alert")
def create_alert(body: AlertIn) -> Response[AlertOut]:
    from orchestrix import bootstrap

    now = bootstrap.clock().now()
    signal = AlertSignal(
        labels=body.labels,
        firing=body.status == "firing",
        source="api",
        at=now,
        annotations=body.annotations,
        starts_at=body.starts_at,
        dedup_key=body.dedup_key,
        severity_hint=body.severity,
    )
    alert = alert_service().create(current_principal(router), signal, current_request_id(router))
    return Response(status_code=201, content_type="application/json", body=AlertOut.of(alert))


@router.get("/api/v1/alerts/<alert_id>", tags=["alerts"], summary="One alert and its occurrences")
def get_alert(alert_id: AlertId) -> AlertDetail:
    principal = current_principal(router)  # once: an API key is re-checked in the database
    alert, occurrences = alert_service().get(principal, alert_id)
    recent = [{**o, "at": o["at"].isoformat()} for o in occurrences]
    # auto-remediation: the attempts, newest first
    from orchestrix.adapters.postgres.remediation_components import remediation_service

    attempts = remediation_service().for_alert(principal, alert_id)
    remediations = [
        RemediationOut(
            id=r.id,
            attempt=r.attempt,
            workflow_id=r.workflow_id,
            execution_id=r.execution_id,
            execution_status=r.execution_status,
            status=r.status.value,
            reason=r.reason,
            started_at=r.started_at,
            finished_at=r.finished_at,
        )
        for r in attempts
    ]
    return AlertDetail(
        **AlertOut.of(alert).model_dump(), recent_occurrences=recent, remediations=remediations
    )


@router.post("/api/v1/alerts/<alert_id>/acknowledge", tags=["alerts"], summary="Acknowledge")
def acknowledge_alert(alert_id: AlertId) -> AlertOut:
    return AlertOut.of(
        alert_service().acknowledge(current_principal(router), alert_id, current_request_id(router))
    )


@router.post("/api/v1/alerts/<alert_id>/resolve", tags=["alerts"], summary="Resolve by hand")
def resolve_alert(alert_id: AlertId) -> AlertOut:
    return AlertOut.of(
        alert_service().resolve(current_principal(router), alert_id, current_request_id(router))
    )
