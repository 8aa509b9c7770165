"""/api/v1/silences — silences and maintenance windows in Orchestrix' shape."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.types import Rfc3339
from orchestrix.adapters.postgres.alerting_components import silence_service
from orchestrix.domain.alerting.matchers import Matcher, MatcherError
from orchestrix.domain.alerting.silences import Silence
from orchestrix.domain.errors import ValidationFailed

router = Router()


class MatcherBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, examples=["alertname"])
    op: Literal["=", "!=", "=~", "!~"] = "="
    value: str = Field(max_length=1000, examples=["HighLatency"])


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matchers: list[MatcherBody] = Field(min_length=1, max_length=50)
    starts_at: Rfc3339 | None = None
    ends_at: Rfc3339
    comment: str = Field("", max_length=2000)
    kind: Literal["silence", "maintenance"] = Field(
        "silence", description="a maintenance window is a silence planned ahead"
    )


class SilenceOut(BaseModel):
    id: str
    kind: str
    state: str
    matchers: list[MatcherBody]
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, s: Silence, now: datetime) -> SilenceOut:
        return cls(
            id=s.id,
            kind=s.kind,
            state=s.state(now),
            matchers=[MatcherBody(name=m.name, op=m.op, value=m.value) for m in s.matchers],
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            comment=s.comment,
            created_by=s.created_by,
            created_at=s.created_at,
            updated_at=s.updated_at,
        )


class SilenceList(BaseModel):
    items: list[SilenceOut]
    next_cursor: str | None = None


def matchers_of(body: list[MatcherBody]) -> list[Matcher]:
    try:
        return [Matcher(m.name, m.op, m.value) for m in body]
    except MatcherError as exc:
        raise ValidationFailed.single(("body", "matchers"), str(exc)) from None


SilenceId = Annotated[str, Path(max_length=64)]


@router.post(
    "/api/v1/silences", tags=["silences"], summary="Create a silence or maintenance window"
)
def create_silence(body: SilenceIn) -> Response[SilenceOut]:
    service = silence_service()
    silence = service.create(
        current_principal(router),
        matchers_of(body.matchers),
        body.starts_at,
        body.ends_at,
        body.comment,
        kind=body.kind,
        request_id=current_request_id(router),
    )
    out = SilenceOut.of(silence, service.now())
    return Response(status_code=201, content_type="application/json", body=out)


@router.get("/api/v1/silences", tags=["silences"], summary="Active, pending and recently expired")
def list_silences() -> SilenceList:
    service = silence_service()
    now = service.now()
    return SilenceList(
        items=[SilenceOut.of(s, now) for s in service.list(current_principal(router))]
    )


@router.get("/api/v1/silences/<silence_id>", tags=["silences"], summary="One silence")
def get_silence(silence_id: SilenceId) -> SilenceOut:
    service = silence_service()
    return SilenceOut.of(service.get(current_principal(router), silence_id), service.now())


@router.delete(
    "/api/v1/silences/<silence_id>",
    tags=["silences"],
    summary="Expire a silence now",
    responses={204: {"description": "expired"}},
)
def expire_silence(silence_id: SilenceId) -> Response[None]:
    silence_service().expire(current_principal(router), silence_id, current_request_id(router))
    return Response(status_code=204)
