"""/api/v1/api-keys — ingestion keys for Prometheus, Alertmanager, OTLP exporters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.types import Rfc3339
from orchestrix.domain.api_keys import ApiKey
from orchestrix.domain.identity import Scope
from orchestrix.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor, PageRequest

router = Router()


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, examples=["prometheus"])
    scopes: list[Scope] = Field(min_length=1, examples=[["metrics:write"]])
    expires_at: Rfc3339 | None = None


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[Scope]
    prefix: str = Field(description="The first characters of the secret, to recognise it")
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            scopes=list(key.scopes),
            prefix=key.prefix,
            created_at=key.created_at,
            created_by=key.created_by,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
        )


class ApiKeyCreated(ApiKeyOut):
    secret: str = Field(description="The key itself, `orx_…`; shown only in this response")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None


def page_request(limit: int, cursor: str | None) -> PageRequest:
    return PageRequest(limit=limit, after=Cursor.decode(cursor) if cursor else None)


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
CursorParam = Annotated[str | None, Query(description="`next_cursor` of the previous page")]


@router.post(
    "/api/v1/api-keys",
    tags=["api-keys"],
    summary="Create an ingestion key (admin)",
    responses={201: {"description": "created; the secret is in this response only"}},
)
def create_api_key(body: ApiKeyCreate) -> Response[ApiKeyCreated]:
    created = bootstrap.api_key_service().create(
        current_principal(router),
        body.name,
        body.scopes,
        body.expires_at,
        current_request_id(router),
    )
    out = ApiKeyCreated(**ApiKeyOut.of(created.key).model_dump(), secret=created.secret)
    return Response(status_code=201, content_type="application/json", body=out)


@router.get("/api/v1/api-keys", tags=["api-keys"], summary="List active keys")
def list_api_keys(limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None) -> ApiKeyPage:
    page = bootstrap.api_key_service().list(current_principal(router), page_request(limit, cursor))
    return ApiKeyPage(items=[ApiKeyOut.of(k) for k in page.items], next_cursor=page.next_cursor)


@router.get("/api/v1/api-keys/<key_id>", tags=["api-keys"], summary="Get one key")
def get_api_key(key_id: Annotated[str, Path(max_length=64)]) -> ApiKeyOut:
    return ApiKeyOut.of(bootstrap.api_key_service().get(current_principal(router), key_id))


@router.delete(
    "/api/v1/api-keys/<key_id>",
    tags=["api-keys"],
    summary="Revoke a key (admin)",
    responses={204: {"description": "revoked"}},
)
def revoke_api_key(key_id: Annotated[str, Path(max_length=64)]) -> Response[None]:
    bootstrap.api_key_service().revoke(
        current_principal(router), key_id, current_request_id(router)
    )
    return Response(status_code=204)
