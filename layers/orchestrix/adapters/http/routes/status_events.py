"""/api/v1/status-pages/{page_id}/incidents, /maintenances and /subscribers."""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.http.routes.status_pages import TAGS, ItemId, PageId, created
from orchestrix.adapters.postgres.status_components import (
    status_event_service,
    status_subscriber_service,
)
from orchestrix.domain.pagination import DEFAULT_LIMIT, Page
from orchestrix.domain.status_inputs import (
    IncidentSpec,
    MaintenanceSpec,
    SubscriberSpec,
    UpdateSpec,
)
from orchestrix.domain.status_pages import PageIncident, Subscriber

router = Router()
BASE = "/api/v1/status-pages/<page_id>"


class UpdateOut(BaseModel):
    id: str
    status: str
    body: str
    created_by: str
    created_at: datetime


class EventOut(BaseModel):
    """An incident or a maintenance of the page (`kind`)."""

    id: str
    page_id: str
    kind: str
    name: str
    status: str
    impact: str
    components: dict[str, str]
    from_incident: bool = Field(description="raised by an Orchestrix incident")
    incident_id: str | None = Field(description="that incident (never shown publicly)")
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    updates: list[UpdateOut] = Field(description="newest first")

    @classmethod
    def of(cls, e: PageIncident) -> EventOut:
        return cls(
            id=e.id,
            page_id=e.page_id,
            kind=e.kind,
            name=e.name,
            status=e.status.value,
            impact=e.impact,
            components={k: v.value for k, v in e.components.items()},
            from_incident=e.source_incident_id is not None,
            incident_id=e.source_incident_id,
            scheduled_for=e.scheduled_for,
            scheduled_until=e.scheduled_until,
            created_at=e.created_at,
            updated_at=e.updated_at,
            resolved_at=e.resolved_at,
            updates=[
                UpdateOut(
                    id=u.id,
                    status=u.status.value,
                    body=u.body,
                    created_by=u.created_by,
                    created_at=u.created_at,
                )
                for u in e.updates
            ],
        )


class EventList(BaseModel):
    items: list[EventOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[PageIncident]) -> EventList:
        return cls(items=[EventOut.of(e) for e in page.items], next_cursor=page.next_cursor)


class SubscriberOut(BaseModel):
    id: str
    page_id: str
    channel: str
    address: str
    component_ids: list[str]
    status: str = Field(description="pending until confirmed by the link sent to the address")
    created_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None

    @classmethod
    def of(cls, s: Subscriber) -> SubscriberOut:
        # Webhook URLs may carry credentials: shown as their scheme and host.
        return cls(
            **{**s.audit(), "page_id": s.page_id},
            created_at=s.created_at,
            confirmed_at=s.confirmed_at,
            unsubscribed_at=s.unsubscribed_at,
        )


class SubscriberCreated(SubscriberOut):
    signing_secret: str | None = Field(
        description="webhooks: the HMAC key of X-Orchestrix-Signature; shown only here"
    )


class SubscriberList(BaseModel):
    items: list[SubscriberOut]
    next_cursor: str | None


# -- incidents ------------------------------------------------------------------------------


@router.get(f"{BASE}/incidents", tags=TAGS, summary="List the page's incidents, newest first")
def list_incidents(
    page_id: PageId, limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None
) -> EventList:
    found = status_event_service().list(
        current_principal(router), page_id, "incident", page_request(limit, cursor)
    )
    return EventList.of(found)


@router.post(
    f"{BASE}/incidents",
    tags=TAGS,
    summary="Post an incident with its first update (responder)",
    responses={201: {"description": "created"}},
)
def post_incident(page_id: PageId, body: IncidentSpec) -> Response[EventOut]:
    incident = status_event_service().post_incident(
        current_principal(router), page_id, body, current_request_id(router)
    )
    return created(EventOut.of(incident))


@router.get(f"{BASE}/incidents/<incident_id>", tags=TAGS, summary="Get one incident of the page")
def get_incident(page_id: PageId, incident_id: ItemId) -> EventOut:
    found = status_event_service().get(current_principal(router), page_id, "incident", incident_id)
    return EventOut.of(found)


@router.post(
    f"{BASE}/incidents/<incident_id>/updates",
    tags=TAGS,
    summary="Post an update: investigating, identified, monitoring or resolved (responder)",
    responses={201: {"description": "created"}},
)
def post_update(page_id: PageId, incident_id: ItemId, body: UpdateSpec) -> Response[EventOut]:
    incident = status_event_service().post_update(
        current_principal(router), page_id, incident_id, body, current_request_id(router)
    )
    return created(EventOut.of(incident))


# -- maintenances ---------------------------------------------------------------------------


@router.get(f"{BASE}/maintenances", tags=TAGS, summary="List scheduled maintenances")
def list_maintenances(
    page_id: PageId, limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None
) -> EventList:
    found = status_event_service().list(
        current_principal(router), page_id, "maintenance", page_request(limit, cursor)
    )
    return EventList.of(found)


@router.post(
    f"{BASE}/maintenances",
    tags=TAGS,
    summary="Schedule a maintenance; it starts and completes by time (editor)",
    responses={201: {"description": "created"}},
)
def schedule_maintenance(page_id: PageId, body: MaintenanceSpec) -> Response[EventOut]:
    maintenance = status_event_service().schedule_maintenance(
        current_principal(router), page_id, body, current_request_id(router)
    )
    return created(EventOut.of(maintenance))


@router.get(f"{BASE}/maintenances/<maintenance_id>", tags=TAGS, summary="Get one maintenance")
def get_maintenance(page_id: PageId, maintenance_id: ItemId) -> EventOut:
    found = status_event_service().get(
        current_principal(router), page_id, "maintenance", maintenance_id
    )
    return EventOut.of(found)


@router.delete(
    f"{BASE}/maintenances/<maintenance_id>",
    tags=TAGS,
    summary="Cancel a maintenance (editor)",
    responses={204: {"description": "cancelled"}},
)
def cancel_maintenance(page_id: PageId, maintenance_id: ItemId) -> Response[None]:
    status_event_service().cancel_maintenance(
        current_principal(router), page_id, maintenance_id, current_request_id(router)
    )
    return Response(status_code=204)


# -- subscribers ----------------------------------------------------------------------------


@router.get(f"{BASE}/subscribers", tags=TAGS, summary="List subscribers (editor)")
def list_subscribers(
    page_id: PageId, limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None
) -> SubscriberList:
    found = status_subscriber_service().list(
        current_principal(router), page_id, page_request(limit, cursor)
    )
    items = [SubscriberOut.of(s) for s in found.items]
    return SubscriberList(items=items, next_cursor=found.next_cursor)


@router.post(
    f"{BASE}/subscribers",
    tags=TAGS,
    summary="Add a subscriber; it gets a confirmation link and stays pending until used (editor)",
    responses={201: {"description": "created"}},
)
def add_subscriber(page_id: PageId, body: SubscriberSpec) -> Response[SubscriberCreated]:
    added = status_subscriber_service().add(
        current_principal(router), page_id, body, current_request_id(router)
    )
    out = SubscriberOut.of(added.subscriber)
    return created(SubscriberCreated(**out.model_dump(), signing_secret=added.signing_secret))


@router.delete(
    f"{BASE}/subscribers/<subscriber_id>",
    tags=TAGS,
    summary="Remove a subscriber (editor)",
    responses={204: {"description": "deleted"}},
)
def delete_subscriber(page_id: PageId, subscriber_id: ItemId) -> Response[None]:
    status_subscriber_service().delete(
        current_principal(router), page_id, subscriber_id, current_request_id(router)
    )
    return Response(status_code=204)
