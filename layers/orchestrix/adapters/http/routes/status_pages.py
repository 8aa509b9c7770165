"""/api/v1/status-pages — pages, component groups and components (with their links to
services and alert rules, and their 90-day uptime)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.postgres.status_components import status_page_service
from orchestrix.domain.pagination import DEFAULT_LIMIT
from orchestrix.domain.status_pages import (
    Component,
    ComponentGroup,
    ComponentSpec,
    GroupSpec,
    PageSpec,
    StatusPage,
    UptimeDay,
)
from orchestrix.domain.uptime import overall

router = Router()
PageId = Annotated[str, Path(max_length=64)]
ItemId = Annotated[str, Path(max_length=64)]
BASE = "/api/v1/status-pages"
TAGS = ["status pages"]


class PageOut(PageSpec):
    id: str
    public_url: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, page: StatusPage) -> PageOut:
        return cls(
            **page.spec.model_dump(),
            id=page.id,
            public_url=f"/status/{page.spec.slug}",
            created_at=page.created_at,
            updated_at=page.updated_at,
        )


class PageList(BaseModel):
    items: list[PageOut]
    next_cursor: str | None


class GroupOut(GroupSpec):
    id: str
    page_id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, group: ComponentGroup) -> GroupOut:
        return cls(
            **group.spec.model_dump(),
            id=group.id,
            page_id=group.page_id,
            created_at=group.created_at,
            updated_at=group.updated_at,
        )


class ComponentOut(ComponentSpec):
    id: str
    page_id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, component: Component) -> ComponentOut:
        return cls(
            **component.spec.model_dump(),
            id=component.id,
            page_id=component.page_id,
            created_at=component.created_at,
            updated_at=component.updated_at,
        )


class GroupList(BaseModel):
    items: list[GroupOut]


class ComponentList(BaseModel):
    items: list[ComponentOut]


class UptimeDayOut(BaseModel):
    date: str
    status: str | None
    uptime: float | None
    outage_seconds: dict[str, int]


class ComponentUptime(BaseModel):
    component_id: str
    name: str
    uptime: float | None
    days: list[UptimeDayOut]

    @classmethod
    def of(cls, component: Component, days: list[UptimeDay]) -> ComponentUptime:
        return cls(
            component_id=component.id,
            name=component.spec.name,
            uptime=overall(days),
            days=[
                UptimeDayOut(
                    date=d.date,
                    status=d.status.value if d.status else None,
                    uptime=d.uptime,
                    outage_seconds=d.outage_seconds,
                )
                for d in days
            ],
        )


def created(body: BaseModel) -> Response[Any]:
    """A 201 with the created resource as JSON."""
    return Response(status_code=201, content_type="application/json", body=body)


class UptimeList(BaseModel):
    items: list[ComponentUptime]


# -- pages ----------------------------------------------------------------------------------


@router.post(
    BASE,
    tags=TAGS,
    summary="Create a status page (editor)",
    responses={201: {"description": "created"}},
)
def create_page(body: PageSpec) -> Response[PageOut]:
    page = status_page_service().create(current_principal(router), body, current_request_id(router))
    return created(PageOut.of(page))


@router.get(BASE, tags=TAGS, summary="List status pages")
def list_pages(limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None) -> PageList:
    found = status_page_service().list(current_principal(router), page_request(limit, cursor))
    return PageList(items=[PageOut.of(p) for p in found.items], next_cursor=found.next_cursor)


@router.get(f"{BASE}/<page_id>", tags=TAGS, summary="Get a status page")
def get_page(page_id: PageId) -> PageOut:
    return PageOut.of(status_page_service().get(current_principal(router), page_id))


@router.put(f"{BASE}/<page_id>", tags=TAGS, summary="Replace a status page (editor)")
def replace_page(page_id: PageId, body: PageSpec) -> PageOut:
    page = status_page_service().replace(
        current_principal(router), page_id, body, current_request_id(router)
    )
    return PageOut.of(page)


@router.delete(
    f"{BASE}/<page_id>",
    tags=TAGS,
    summary="Delete a status page (editor)",
    responses={204: {"description": "deleted"}},
)
def delete_page(page_id: PageId) -> Response[None]:
    status_page_service().delete(current_principal(router), page_id, current_request_id(router))
    return Response(status_code=204)


# -- component groups -----------------------------------------------------------------------


@router.get(f"{BASE}/<page_id>/component-groups", tags=TAGS, summary="List component groups")
def list_groups(page_id: PageId) -> GroupList:
    groups = status_page_service().groups(current_principal(router), page_id)
    return GroupList(items=[GroupOut.of(g) for g in groups])


@router.post(
    f"{BASE}/<page_id>/component-groups",
    tags=TAGS,
    summary="Create a component group (editor)",
    responses={201: {"description": "created"}},
)
def create_group(page_id: PageId, body: GroupSpec) -> Response[GroupOut]:
    group = status_page_service().save_group(
        current_principal(router), page_id, None, body, current_request_id(router)
    )
    return created(GroupOut.of(group))


@router.put(
    f"{BASE}/<page_id>/component-groups/<group_id>", tags=TAGS, summary="Replace a group (editor)"
)
def replace_group(page_id: PageId, group_id: ItemId, body: GroupSpec) -> GroupOut:
    group = status_page_service().save_group(
        current_principal(router), page_id, group_id, body, current_request_id(router)
    )
    return GroupOut.of(group)


@router.delete(
    f"{BASE}/<page_id>/component-groups/<group_id>",
    tags=TAGS,
    summary="Delete a group; its components stay, ungrouped (editor)",
    responses={204: {"description": "deleted"}},
)
def delete_group(page_id: PageId, group_id: ItemId) -> Response[None]:
    status_page_service().delete_item(
        current_principal(router), page_id, "status_group", group_id, current_request_id(router)
    )
    return Response(status_code=204)


# -- components -----------------------------------------------------------------------------


@router.get(f"{BASE}/<page_id>/components", tags=TAGS, summary="List components")
def list_components(page_id: PageId) -> ComponentList:
    found = status_page_service().components(current_principal(router), page_id)
    return ComponentList(items=[ComponentOut.of(c) for c in found])


@router.post(
    f"{BASE}/<page_id>/components",
    tags=TAGS,
    summary="Create a component, linked to services and alert rules (editor)",
    responses={201: {"description": "created"}},
)
def create_component(page_id: PageId, body: ComponentSpec) -> Response[ComponentOut]:
    component = status_page_service().save_component(
        current_principal(router), page_id, None, body, current_request_id(router)
    )
    return created(ComponentOut.of(component))


@router.put(
    f"{BASE}/<page_id>/components/<component_id>",
    tags=TAGS,
    summary="Replace a component; a changed status enters its history (editor)",
)
def replace_component(page_id: PageId, component_id: ItemId, body: ComponentSpec) -> ComponentOut:
    component = status_page_service().save_component(
        current_principal(router), page_id, component_id, body, current_request_id(router)
    )
    return ComponentOut.of(component)


@router.delete(
    f"{BASE}/<page_id>/components/<component_id>",
    tags=TAGS,
    summary="Delete a component (editor)",
    responses={204: {"description": "deleted"}},
)
def delete_component(page_id: PageId, component_id: ItemId) -> Response[None]:
    status_page_service().delete_item(
        current_principal(router),
        page_id,
        "status_component",
        component_id,
        current_request_id(router),
    )
    return Response(status_code=204)


@router.get(f"{BASE}/<page_id>/uptime", tags=TAGS, summary="90-day uptime of each component")
def uptime(page_id: PageId) -> UptimeList:
    found = status_page_service().uptime(current_principal(router), page_id)
    return UptimeList(items=[ComponentUptime.of(c, days) for c, days in found])
