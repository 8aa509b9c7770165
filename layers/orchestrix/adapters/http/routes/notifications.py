"""/api/v1/notifications — the log of every notification and its delivery attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel

from orchestrix.adapters.http.context import current_principal
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.http.types import Rfc3339
from orchestrix.adapters.notify.components import notification_service
from orchestrix.domain.identity import Role
from orchestrix.domain.notifications import (
    ChannelType,
    Notification,
    NotificationFilter,
    NotificationStatus,
    Urgency,
)
from orchestrix.domain.pagination import DEFAULT_LIMIT

router = Router()


class NotificationOut(BaseModel):
    id: str
    status: NotificationStatus
    channel: ChannelType
    target: str
    member_id: str | None
    urgency: Urgency
    title: str
    text: str
    links: dict[str, str]
    context: dict[str, Any]
    attempts: int
    error: str | None
    idempotency_key: str
    created_at: datetime
    not_before: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(
            id=n.id,
            status=n.status,
            channel=n.channel,
            target=n.target,
            member_id=n.member_id,
            urgency=n.urgency,
            title=n.title,
            text=n.text,
            links=n.links,
            context=n.context,
            attempts=n.attempts,
            error=n.error,
            idempotency_key=n.idempotency_key,
            created_at=n.created_at,
            not_before=n.not_before,
            sent_at=n.sent_at,
        )


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


@router.get(
    "/api/v1/notifications",
    tags=["notifications"],
    summary="List notifications, newest first",
)
def list_notifications(
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    status: Annotated[NotificationStatus | None, Query()] = None,
    channel: Annotated[ChannelType | None, Query()] = None,
    member_id: Annotated[str | None, Query(max_length=64)] = None,
    incident_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[Rfc3339 | None, Query(description="created at or after")] = None,
    until: Annotated[Rfc3339 | None, Query(description="created before")] = None,
) -> NotificationPage:
    principal = current_principal(router)
    principal.require_role(Role.VIEWER)
    filters = NotificationFilter(status, channel, member_id, incident_id, since, until)
    page = notification_service().list(
        principal.tenant_id, principal.actor, filters, page_request(limit, cursor)
    )
    return NotificationPage(
        items=[NotificationOut.of(n) for n in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/api/v1/notifications/<notification_id>",
    tags=["notifications"],
    summary="Get one notification",
)
def get_notification(notification_id: Annotated[str, Path(max_length=64)]) -> NotificationOut:
    principal = current_principal(router)
    principal.require_role(Role.VIEWER)
    found = notification_service().get(principal.tenant_id, principal.actor, notification_id)
    return NotificationOut.of(found)
