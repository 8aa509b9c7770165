"""/api/v1/incidents/{id}/postmortem — draft, review and export post-mortems; the tenant's
post-mortem template at /api/v1/postmortem-template."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.postgres.postmortem_components import postmortem_service
from orchestrix.domain.postmortem_template import DEFAULT_TEMPLATE, MAX_TEMPLATE
from orchestrix.domain.postmortems import ActionItemStatus, Postmortem, PostmortemStatus
from orchestrix.services.postmortem_ports import (
    ActionItemInput,
    PostmortemChanges,
    StoredTemplate,
)

router = Router()
IncidentId = Annotated[str, Path(max_length=64)]
Factor = Annotated[str, Field(min_length=1, max_length=2000)]


class ActionItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        default=None, min_length=1, max_length=64, description="Omit to add an item"
    )
    title: str = Field(min_length=1, max_length=500, examples=["Alert on queue age, not depth"])
    owner_member_id: str = Field(min_length=1, max_length=64, description="A member of this tenant")
    due_date: date
    status: ActionItemStatus = ActionItemStatus.OPEN


class PostmortemPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=300)
    narrative: str | None = Field(
        default=None, max_length=20_000, description="Replaces the drafted summary"
    )
    contributing_factors: list[Factor] | None = Field(default=None, max_length=50)
    action_items: list[ActionItemIn] | None = Field(
        default=None, max_length=100, description="The whole list: items left out are removed"
    )
    status: PostmortemStatus | None = Field(
        default=None,
        description="draft -> in_review -> published (or back to draft); publishing needs "
        "the incident resolved",
    )


class ActionItemOut(BaseModel):
    id: str
    title: str
    owner_member_id: str
    due_date: date
    status: ActionItemStatus
    created_at: datetime
    completed_at: datetime | None


class TimelineItem(BaseModel):
    id: str
    at: datetime
    kind: str
    actor: str
    message: str
    data: dict[str, Any]


class EvidenceOut(BaseModel):
    """The incident as recorded when the post-mortem was (re)drafted."""

    incident: dict[str, Any]
    impact: dict[str, Any] = Field(description="start, end (null while open), duration_seconds")
    metrics: dict[str, Any] = Field(description="mtta_seconds, mttr_seconds (null until reached)")
    timeline: list[TimelineItem]
    alerts: list[dict[str, Any]]
    executions: list[dict[str, Any]]
    notes: list[TimelineItem]
    truncated: dict[str, int] = Field(description="entries left out of each list, if any")


class PostmortemOut(BaseModel):
    id: str
    incident_id: str
    status: PostmortemStatus
    title: str
    narrative: str
    narrative_source: str = Field(description="deterministic, model or edited")
    model_id: str | None
    contributing_factors: list[str]
    action_items: list[ActionItemOut]
    evidence: EvidenceOut
    drafted_at: datetime
    created_at: datetime
    created_by: str
    updated_at: datetime
    published_at: datetime | None

    @classmethod
    def of(cls, p: Postmortem) -> PostmortemOut:
        ev = p.evidence
        return cls(
            id=p.id,
            incident_id=p.incident_id,
            status=p.status,
            title=p.title,
            narrative=p.narrative,
            narrative_source=p.narrative_source.value,
            model_id=p.model_id,
            contributing_factors=list(p.contributing_factors),
            action_items=[ActionItemOut(**vars(i)) for i in p.action_items],
            evidence=EvidenceOut(
                incident=ev.incident,
                impact=ev.impact,
                metrics=ev.metrics,
                timeline=[TimelineItem(**e) for e in ev.timeline],
                alerts=ev.alerts,
                executions=ev.executions,
                notes=[TimelineItem(**e) for e in ev.notes],
                truncated=ev.truncated,
            ),
            drafted_at=p.drafted_at,
            created_at=p.created_at,
            created_by=p.created_by,
            updated_at=p.updated_at,
            published_at=p.published_at,
        )


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str = Field(
        min_length=1,
        max_length=MAX_TEMPLATE,
        description="Markdown with Go text/template actions, e.g. {{ .Title }}",
    )


class TemplateOut(BaseModel):
    template: str
    is_default: bool
    updated_at: datetime | None
    updated_by: str | None

    @classmethod
    def of(cls, stored: StoredTemplate | None) -> TemplateOut:
        if stored is None:
            return cls(template=DEFAULT_TEMPLATE, is_default=True, updated_at=None, updated_by=None)
        return cls(
            template=stored.body,
            is_default=False,
            updated_at=stored.updated_at,
            updated_by=stored.updated_by,
        )


@router.post(
    "/api/v1/incidents/<incident_id>/postmortem",
    tags=["postmortems"],
    summary="Draft the incident's post-mortem, or refresh its draft (responder)",
    responses={
        201: {"description": "drafted"},
        409: {"description": "the post-mortem is in review or published"},
    },
)
def draft_postmortem(incident_id: IncidentId) -> Response[PostmortemOut]:
    drafted, created = postmortem_service().draft(
        current_principal(router), incident_id, current_request_id(router)
    )
    status = 201 if created else 200
    return Response(
        status_code=status, content_type="application/json", body=PostmortemOut.of(drafted)
    )


@router.get(
    "/api/v1/incidents/<incident_id>/postmortem",
    tags=["postmortems"],
    summary="Get the incident's post-mortem",
)
def get_postmortem(incident_id: IncidentId) -> PostmortemOut:
    return PostmortemOut.of(postmortem_service().get(current_principal(router), incident_id))


@router.patch(
    "/api/v1/incidents/<incident_id>/postmortem",
    tags=["postmortems"],
    summary="Edit, review or publish the post-mortem (responder)",
    responses={409: {"description": "a transition not allowed, or a published document"}},
)
def update_postmortem(incident_id: IncidentId, body: PostmortemPatch) -> PostmortemOut:
    changes = PostmortemChanges(
        title=body.title,
        narrative=body.narrative,
        contributing_factors=body.contributing_factors,
        action_items=None
        if body.action_items is None
        else [ActionItemInput(**i.model_dump()) for i in body.action_items],
        status=body.status,
    )
    updated = postmortem_service().update(
        current_principal(router), incident_id, changes, current_request_id(router)
    )
    return PostmortemOut.of(updated)


@router.get(
    "/api/v1/incidents/<incident_id>/postmortem.md",
    tags=["postmortems"],
    summary="The post-mortem as markdown, rendered with the tenant's template",
    responses={200: {"description": "the document", "content": {"text/markdown": {}}}},
)
def export_postmortem(incident_id: IncidentId) -> Response[str]:
    text = postmortem_service().markdown(current_principal(router), incident_id)
    return Response(status_code=200, content_type="text/markdown; charset=utf-8", body=text)


@router.get(
    "/api/v1/postmortem-template",
    tags=["postmortems"],
    summary="The tenant's post-mortem template (the default one until one is saved)",
)
def get_postmortem_template() -> TemplateOut:
    return TemplateOut.of(postmortem_service().template(current_principal(router)))


@router.put(
    "/api/v1/postmortem-template",
    tags=["postmortems"],
    summary="Replace the tenant's post-mortem template (editor); checked against the data",
)
def put_postmortem_template(body: TemplateIn) -> TemplateOut:
    saved = postmortem_service().save_template(
        current_principal(router), body.template, current_request_id(router)
    )
    return TemplateOut.of(saved)
