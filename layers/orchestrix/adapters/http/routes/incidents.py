"""/api/v1/incidents — open, work and close incidents; their timeline and notes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.postgres import incident_components as components
from orchestrix.domain.incidents import Incident, IncidentStatus, Role, Severity, TimelineEntry
from orchestrix.domain.pagination import DEFAULT_LIMIT
from orchestrix.services.incidents import IncidentChanges, NewIncident

router = Router()
IncidentId = Annotated[str, Path(max_length=64)]
Holder = Annotated[str, Field(max_length=200)]
# An id that is given must not be empty: "" would otherwise be stored as a team or policy id.
OptionalId = Annotated[str | None, Field(min_length=1, max_length=64)]


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300, examples=["Checkout is failing"])
    severity: Severity = Severity.SEV3
    description: str = Field(default="", max_length=10_000)
    service: str | None = Field(default=None, max_length=200)
    team_id: OptionalId = None
    escalation_policy_id: OptionalId = None
    roles: dict[Role, Holder] = Field(default_factory=dict)


class IncidentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=10_000)
    severity: Severity | None = None
    service: str | None = Field(default=None, max_length=200)
    team_id: OptionalId = None
    roles: dict[Role, Holder] | None = Field(
        default=None, description="Assign roles; an empty string unassigns one"
    )
    status: IncidentStatus | None = Field(
        default=None, description="Move forward: acknowledged, mitigated or resolved"
    )


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


class LinkedAlert(BaseModel):
    alert_id: str
    fingerprint: str
    severity: str
    labels: dict[str, str]
    linked_at: datetime
    resolved_at: datetime | None


class IncidentOut(BaseModel):
    id: str
    title: str
    description: str
    severity: Severity
    status: IncidentStatus
    service: str | None
    team_id: str | None
    escalation_policy_id: str | None
    roles: dict[str, str]
    labels: dict[str, str]
    alert_count: int
    created_by: str
    triggered_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    sla_breaches: list[str]
    summary: str | None = Field(
        default=None, description="The latest analysis' summary, citing its evidence ids"
    )
    alerts: list[LinkedAlert] | None = Field(
        default=None, description="Linked alerts (on GET of one incident)"
    )

    @classmethod
    def of(cls, i: Incident, alerts: list[dict[str, Any]] | None = None) -> IncidentOut:
        return cls(
            id=i.id,
            title=i.title,
            description=i.description,
            severity=i.severity,
            status=i.status,
            service=i.service,
            team_id=i.team_id,
            escalation_policy_id=i.escalation_policy_id,
            roles=i.roles,
            labels=i.labels,
            alert_count=i.alert_count,
            created_by=i.created_by,
            triggered_at=i.triggered_at,
            acknowledged_at=i.acknowledged_at,
            acknowledged_by=i.acknowledged_by,
            mitigated_at=i.mitigated_at,
            resolved_at=i.resolved_at,
            resolved_by=i.resolved_by,
            sla_breaches=list(i.sla_breaches),
            summary=i.summary,
            alerts=None if alerts is None else [LinkedAlert(**a) for a in alerts],
        )


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    next_cursor: str | None


class TimelineEntryOut(BaseModel):
    id: str
    at: datetime
    kind: str
    actor: str
    message: str
    data: dict[str, Any]

    @classmethod
    def of(cls, e: TimelineEntry) -> TimelineEntryOut:
        return cls(
            id=e.id, at=e.at, kind=e.kind.value, actor=e.actor, message=e.message, data=e.data
        )


class Timeline(BaseModel):
    items: list[TimelineEntryOut]


@router.post(
    "/api/v1/incidents",
    tags=["incidents"],
    summary="Open an incident by hand (responder)",
    responses={201: {"description": "created; level 1 of its escalation policy is paged"}},
)
def create_incident(body: IncidentCreate) -> Response[IncidentOut]:
    spec = NewIncident(
        title=body.title,
        severity=body.severity,
        description=body.description,
        service=body.service,
        team_id=body.team_id,
        escalation_policy_id=body.escalation_policy_id,
        roles={r.value: h for r, h in body.roles.items()},
    )
    incident = components.incident_service().create(
        current_principal(router), spec, current_request_id(router)
    )
    return Response(status_code=201, content_type="application/json", body=IncidentOut.of(incident))


@router.get("/api/v1/incidents", tags=["incidents"], summary="List incidents, newest first")
def list_incidents(
    status: Annotated[IncidentStatus | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    service: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> IncidentPage:
    page = components.incident_service().search(
        current_principal(router),
        page_request(limit, cursor),
        status.value if status else None,
        severity.value if severity else None,
        service,
    )
    return IncidentPage(items=[IncidentOut.of(i) for i in page.items], next_cursor=page.next_cursor)


@router.get("/api/v1/incidents/<incident_id>", tags=["incidents"], summary="Get one incident")
def get_incident(incident_id: IncidentId) -> IncidentOut:
    incident, alerts = components.incident_service().get(current_principal(router), incident_id)
    return IncidentOut.of(incident, alerts)


@router.patch(
    "/api/v1/incidents/<incident_id>",
    tags=["incidents"],
    summary="Change title, severity, roles or status (responder)",
)
def update_incident(incident_id: IncidentId, body: IncidentPatch) -> IncidentOut:
    changes = IncidentChanges(
        title=body.title,
        description=body.description,
        severity=body.severity,
        service=body.service,
        team_id=body.team_id,
        roles=None if body.roles is None else {r.value: h for r, h in body.roles.items()},
        status=body.status,
    )
    incident = components.incident_service().update(
        current_principal(router), incident_id, changes, current_request_id(router)
    )
    return IncidentOut.of(incident)


@router.post(
    "/api/v1/incidents/<incident_id>/acknowledge",
    tags=["incidents"],
    summary="Acknowledge: stops the escalation (responder)",
)
def acknowledge_incident(incident_id: IncidentId) -> IncidentOut:
    incident = components.incident_service().acknowledge(
        current_principal(router), incident_id, current_request_id(router)
    )
    return IncidentOut.of(incident)


@router.post(
    "/api/v1/incidents/<incident_id>/resolve",
    tags=["incidents"],
    summary="Resolve: stops everything still pending (responder)",
)
def resolve_incident(incident_id: IncidentId) -> IncidentOut:
    incident = components.incident_service().resolve(
        current_principal(router), incident_id, current_request_id(router)
    )
    return IncidentOut.of(incident)


@router.get(
    "/api/v1/incidents/<incident_id>/timeline",
    tags=["incidents"],
    summary="Everything that happened, oldest first",
)
def incident_timeline(incident_id: IncidentId) -> Timeline:
    entries = components.incident_service().timeline(current_principal(router), incident_id)
    return Timeline(items=[TimelineEntryOut.of(e) for e in entries])


@router.post(
    "/api/v1/incidents/<incident_id>/notes",
    tags=["incidents"],
    summary="Add a note to the timeline (responder)",
    responses={201: {"description": "added"}},
)
def add_incident_note(incident_id: IncidentId, body: NoteCreate) -> Response[TimelineEntryOut]:
    entry = components.incident_service().add_note(
        current_principal(router), incident_id, body.text, current_request_id(router)
    )
    out = TimelineEntryOut.of(entry)
    return Response(status_code=201, content_type="application/json", body=out)
