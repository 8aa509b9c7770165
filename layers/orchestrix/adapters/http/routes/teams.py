"""/api/v1/teams — named groups of members (escalation targets)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.notify.components import team_service
from orchestrix.domain.pagination import DEFAULT_LIMIT
from orchestrix.domain.people import Team, TeamSpec

router = Router()
TeamId = Annotated[str, Path(max_length=64)]


class TeamOut(TeamSpec):
    id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, team: Team) -> TeamOut:
        return cls(
            **team.spec.model_dump(),
            id=team.id,
            created_at=team.created_at,
            updated_at=team.updated_at,
        )


class TeamPage(BaseModel):
    items: list[TeamOut]
    next_cursor: str | None


@router.post(
    "/api/v1/teams",
    tags=["teams"],
    summary="Create a team (editor)",
    responses={201: {"description": "created"}},
)
def create_team(body: TeamSpec) -> Response[TeamOut]:
    team = team_service().create(current_principal(router), body, current_request_id(router))
    return Response(status_code=201, content_type="application/json", body=TeamOut.of(team))


@router.get("/api/v1/teams", tags=["teams"], summary="List teams")
def list_teams(limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None) -> TeamPage:
    page = team_service().list(current_principal(router), page_request(limit, cursor))
    return TeamPage(items=[TeamOut.of(t) for t in page.items], next_cursor=page.next_cursor)


@router.get("/api/v1/teams/<team_id>", tags=["teams"], summary="Get one team")
def get_team(team_id: TeamId) -> TeamOut:
    return TeamOut.of(team_service().get(current_principal(router), team_id))


@router.put("/api/v1/teams/<team_id>", tags=["teams"], summary="Replace a team (editor)")
def replace_team(team_id: TeamId, body: TeamSpec) -> TeamOut:
    team = team_service().replace(
        current_principal(router), team_id, body, current_request_id(router)
    )
    return TeamOut.of(team)


@router.delete(
    "/api/v1/teams/<team_id>",
    tags=["teams"],
    summary="Delete a team (editor)",
    responses={204: {"description": "deleted"}},
)
def delete_team(team_id: TeamId) -> Response[None]:
    team_service().delete(current_principal(router), team_id, current_request_id(router))
    return Response(status_code=204)
