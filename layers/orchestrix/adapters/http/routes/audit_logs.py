"""/api/v1/audit-logs — who changed what, when, through which request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.http.types import Rfc3339
from orchestrix.domain.audit import AuditEntry, AuditFilter
from orchestrix.domain.pagination import DEFAULT_LIMIT

router = Router()


class AuditEntryOut(BaseModel):
    id: str
    actor: str
    action: str
    resource_type: str
    resource_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            id=entry.id,
            actor=entry.actor,
            action=entry.action,
            resource_type=entry.resource_type,
            resource_id=entry.resource_id,
            before=entry.before,
            after=entry.after,
            request_id=entry.request_id,
            at=entry.at,
        )


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


Text = Annotated[str | None, Query(max_length=200)]
Time = Annotated[Rfc3339 | None, Query()]


@router.get("/api/v1/audit-logs", tags=["audit"], summary="Search the audit trail")
def list_audit_logs(
    actor: Text = None,
    action: Text = None,
    resource_type: Text = None,
    resource_id: Text = None,
    since: Time = None,
    until: Time = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> AuditPage:
    filters = AuditFilter(actor, action, resource_type, resource_id, since, until)
    page = bootstrap.audit_service().list(
        current_principal(router), filters, page_request(limit, cursor)
    )
    return AuditPage(items=[AuditEntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/api/v1/audit-logs/<audit_id>", tags=["audit"], summary="Get one audit entry")
def get_audit_log(audit_id: Annotated[str, Path(max_length=64)]) -> AuditEntryOut:
    return AuditEntryOut.of(bootstrap.audit_service().get(current_principal(router), audit_id))
