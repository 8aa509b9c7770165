"""/api/v1/changes — deployments, config and flag changes that root cause analysis weighs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.http.types import Rfc3339
from orchestrix.adapters.postgres.intelligence_components import config_service
from orchestrix.domain.intelligence.evidence import Change
from orchestrix.domain.pagination import DEFAULT_LIMIT
from orchestrix.services.intelligence_config import NewChange

router = Router()
ChangeId = Annotated[str, Path(max_length=64)]


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str = Field(min_length=1, max_length=128, examples=["payments"])
    kind: Literal["deployment", "config", "infrastructure", "feature_flag", "other"] = "deployment"
    title: str = Field(min_length=1, max_length=300, examples=["payments v2.4.1"])
    at: Rfc3339 | None = Field(default=None, description="When it happened; default: now")
    details: dict[str, Any] = Field(default_factory=dict, max_length=50)
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Your id: the same one twice is one change",
    )


class ChangeOut(BaseModel):
    id: str
    service: str
    kind: str
    title: str
    at: datetime
    source: str
    details: dict[str, Any]
    external_id: str | None

    @classmethod
    def of(cls, c: Change) -> ChangeOut:
        return cls(
            id=c.id,
            service=c.service,
            kind=c.kind,
            title=c.title,
            at=c.at,
            source=c.source,
            details=c.details,
            external_id=c.external_id,
        )


class ChangePage(BaseModel):
    items: list[ChangeOut]
    next_cursor: str | None


@router.post(
    "/api/v1/changes",
    tags=["changes"],
    summary="Record a change (deployment, config, flag) to a service (responder)",
    responses={201: {"description": "recorded (or the one recorded before with this external_id)"}},
)
def create_change(body: ChangeIn) -> Response[ChangeOut]:
    spec = NewChange(
        service=body.service,
        kind=body.kind,
        title=body.title,
        at=body.at,
        details=body.details,
        external_id=body.external_id,
    )
    change = config_service().record_change(
        current_principal(router), spec, current_request_id(router)
    )
    return Response(status_code=201, content_type="application/json", body=ChangeOut.of(change))


@router.get("/api/v1/changes", tags=["changes"], summary="Changes, newest first")
def list_changes(
    service: Annotated[str | None, Query(max_length=128)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> ChangePage:
    page = config_service().changes(current_principal(router), page_request(limit, cursor), service)
    return ChangePage(items=[ChangeOut.of(c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/api/v1/changes/<change_id>", tags=["changes"], summary="One change")
def get_change(change_id: ChangeId) -> ChangeOut:
    return ChangeOut.of(config_service().change(current_principal(router), change_id))
