"""/api/v1/escalation-policies and /api/v1/incident-settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.postgres import incident_components as components
from orchestrix.domain.escalation import MAX_LEVELS, MAX_REPEAT, EscalationPolicy, Id, Level
from orchestrix.domain.incidents import IncidentSettings, Severity, SlaTarget
from orchestrix.domain.pagination import DEFAULT_LIMIT
from orchestrix.services.escalation_policies import PolicySpec

router = Router()
PolicyId = Annotated[str, Path(max_length=64)]


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["api"])
    description: str = Field(default="", max_length=2000)
    repeat: int = Field(
        default=0, ge=0, le=MAX_REPEAT, description="Extra rounds after the last level"
    )
    # Id: an empty or blank id is refused (422), never stored as "no owner".
    owner_member_id: Id | None = Field(
        default=None, description="Told when every round went unacknowledged"
    )
    levels: list[Level] = Field(min_length=1, max_length=MAX_LEVELS)

    def spec(self) -> PolicySpec:
        return PolicySpec(
            name=self.name,
            levels=tuple(self.levels),
            repeat=self.repeat,
            description=self.description,
            owner_member_id=self.owner_member_id,
        )


class PolicyOut(BaseModel):
    id: str
    name: str
    description: str
    repeat: int
    owner_member_id: str | None
    levels: list[Level]
    created_at: datetime
    updated_at: datetime
    created_by: str

    @classmethod
    def of(cls, p: EscalationPolicy) -> PolicyOut:
        return cls(
            id=p.id,
            name=p.name,
            description=p.description,
            repeat=p.repeat,
            owner_member_id=p.owner_member_id,
            levels=list(p.levels),
            created_at=p.created_at,
            updated_at=p.updated_at,
            created_by=p.created_by,
        )


class PolicyPage(BaseModel):
    items: list[PolicyOut]
    next_cursor: str | None


class SlaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ack_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    resolve_minutes: int | None = Field(default=None, ge=1, le=90 * 24 * 60)


class IncidentSettingsIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severities: list[str] = Field(
        default=["critical", "error"],
        max_length=10,
        description="Alert severities that open incidents",
    )
    group_by: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default=["alertname", "service"], max_length=10
    )
    window_minutes: int = Field(default=5, ge=1, le=24 * 60)
    default_escalation_policy_id: Id | None = None
    service_policies: dict[Annotated[str, Field(min_length=1, max_length=200)], Id] = Field(
        default_factory=dict, description="service label value -> escalation policy id"
    )
    sla: dict[Severity, SlaIn] = Field(default_factory=dict)

    def settings(self) -> IncidentSettings:
        return IncidentSettings(
            severities=tuple(s.lower() for s in self.severities),
            group_by=tuple(self.group_by),
            window=timedelta(minutes=self.window_minutes),
            default_escalation_policy_id=self.default_escalation_policy_id,
            service_policies=dict(self.service_policies),
            sla={k: SlaTarget(v.ack_minutes, v.resolve_minutes) for k, v in self.sla.items()},
        )

    @classmethod
    def of(cls, s: IncidentSettings) -> IncidentSettingsIO:
        # Settings saved before empty ids were refused may hold "": show them as unset
        # rather than fail this model's own validation.
        return cls(
            severities=list(s.severities),
            group_by=list(s.group_by),
            window_minutes=int(s.window.total_seconds() // 60),
            default_escalation_policy_id=s.default_escalation_policy_id or None,
            service_policies={k: v for k, v in s.service_policies.items() if k and v},
            sla={
                k: SlaIn(ack_minutes=v.ack_minutes, resolve_minutes=v.resolve_minutes)
                for k, v in s.sla.items()
            },
        )


@router.post(
    "/api/v1/escalation-policies",
    tags=["escalation"],
    summary="Create an escalation policy (editor)",
    responses={201: {"description": "created"}},
)
def create_policy(body: PolicyIn) -> Response[PolicyOut]:
    policy = components.escalation_policy_service().create(
        current_principal(router), body.spec(), current_request_id(router)
    )
    return Response(status_code=201, content_type="application/json", body=PolicyOut.of(policy))


@router.get("/api/v1/escalation-policies", tags=["escalation"], summary="List escalation policies")
def list_policies(limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None) -> PolicyPage:
    page = components.escalation_policy_service().list(
        current_principal(router), page_request(limit, cursor)
    )
    return PolicyPage(items=[PolicyOut.of(p) for p in page.items], next_cursor=page.next_cursor)


@router.get(
    "/api/v1/escalation-policies/<policy_id>", tags=["escalation"], summary="Get one policy"
)
def get_policy(policy_id: PolicyId) -> PolicyOut:
    return PolicyOut.of(
        components.escalation_policy_service().get(current_principal(router), policy_id)
    )


@router.put(
    "/api/v1/escalation-policies/<policy_id>",
    tags=["escalation"],
    summary="Replace a policy (editor); running escalations use it from their next step",
)
def replace_policy(policy_id: PolicyId, body: PolicyIn) -> PolicyOut:
    policy = components.escalation_policy_service().replace(
        current_principal(router), policy_id, body.spec(), current_request_id(router)
    )
    return PolicyOut.of(policy)


@router.delete(
    "/api/v1/escalation-policies/<policy_id>",
    tags=["escalation"],
    summary="Delete a policy (editor)",
    responses={204: {"description": "deleted"}},
)
def delete_policy(policy_id: PolicyId) -> Response[None]:
    components.escalation_policy_service().delete(
        current_principal(router), policy_id, current_request_id(router)
    )
    return Response(status_code=204)


@router.get(
    "/api/v1/incident-settings", tags=["incidents"], summary="Alert grouping, default policy, SLA"
)
def get_incident_settings() -> IncidentSettingsIO:
    return IncidentSettingsIO.of(
        components.escalation_policy_service().settings(current_principal(router))
    )


@router.put(
    "/api/v1/incident-settings", tags=["incidents"], summary="Replace the incident settings (admin)"
)
def put_incident_settings(body: IncidentSettingsIO) -> IncidentSettingsIO:
    saved = components.escalation_policy_service().save_settings(
        current_principal(router), body.settings(), current_request_id(router)
    )
    return IncidentSettingsIO.of(saved)
