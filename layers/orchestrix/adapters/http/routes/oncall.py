"""/api/v1/oncall — schedules, overrides, who is on call, the rendered timeline and iCal."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.http.types import Rfc3339
from orchestrix.adapters.notify.components import oncall_service
from orchestrix.domain.oncall import Override, Schedule
from orchestrix.domain.oncall.models import require_instant
from orchestrix.domain.pagination import DEFAULT_LIMIT
from orchestrix.domain.people import StoredSchedule

router = Router()
ScheduleId = Annotated[str, Path(max_length=64)]
ICAL_DEFAULT_PAST = timedelta(days=30)
ICAL_DEFAULT_AHEAD = timedelta(days=90)


class ScheduleOut(BaseModel):
    id: str
    name: str
    time_zone: str
    description: str
    layers: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, stored: StoredSchedule) -> ScheduleOut:
        body = stored.schedule.model_dump(mode="json")
        return cls(id=stored.id, created_at=stored.created_at, updated_at=stored.updated_at, **body)


class SchedulePage(BaseModel):
    items: list[ScheduleOut]
    next_cursor: str | None


# The domain's rules for override bounds, checked on the request so errors name `from`/`to`.
OverrideBound = Annotated[Rfc3339, AfterValidator(require_instant)]


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    who: str = Field(min_length=1, max_length=64, description="The member id on call instead")
    from_: OverrideBound = Field(alias="from")
    to: OverrideBound

    @field_validator("to")
    @classmethod
    def _to_after_from(cls, to: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("from_")
        if start is not None and to <= start:
            raise PydanticCustomError(
                "time_range", "must be after from ({start})", {"start": start.isoformat()}
            )
        return to


class OverrideOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    schedule_id: str
    who: str
    from_: datetime = Field(alias="from")
    to: datetime

    @classmethod
    def of(cls, schedule_id: str, override: Override) -> OverrideOut:
        return cls.model_validate(
            {
                "id": override.id or "",
                "schedule_id": schedule_id,
                "who": override.member_id,
                "from": override.start,
                "to": override.end,
            }
        )


class OverrideList(BaseModel):
    items: list[OverrideOut]


class CurrentOut(BaseModel):
    schedule_id: str
    at: datetime
    on_call: list[str] = Field(description="Member ids; empty when nobody is on call")


class ShiftOut(BaseModel):
    member_id: str
    start: datetime
    end: datetime
    sources: list[str]


class ShiftList(BaseModel):
    schedule_id: str
    items: list[ShiftOut]


@router.post(
    "/api/v1/oncall/schedules",
    tags=["oncall"],
    summary="Create an on-call schedule (editor)",
    responses={201: {"description": "created"}},
)
def create_schedule(body: Schedule) -> Response[ScheduleOut]:
    stored = oncall_service().create(current_principal(router), body, current_request_id(router))
    return Response(status_code=201, content_type="application/json", body=ScheduleOut.of(stored))


@router.get("/api/v1/oncall/schedules", tags=["oncall"], summary="List schedules")
def list_schedules(limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None) -> SchedulePage:
    page = oncall_service().list(current_principal(router), page_request(limit, cursor))
    return SchedulePage(items=[ScheduleOut.of(s) for s in page.items], next_cursor=page.next_cursor)


@router.get("/api/v1/oncall/schedules/<schedule_id>", tags=["oncall"], summary="Get a schedule")
def get_schedule(schedule_id: ScheduleId) -> ScheduleOut:
    return ScheduleOut.of(oncall_service().get(current_principal(router), schedule_id))


@router.put("/api/v1/oncall/schedules/<schedule_id>", tags=["oncall"], summary="Replace a schedule")
def replace_schedule(schedule_id: ScheduleId, body: Schedule) -> ScheduleOut:
    stored = oncall_service().replace(
        current_principal(router), schedule_id, body, current_request_id(router)
    )
    return ScheduleOut.of(stored)


@router.delete(
    "/api/v1/oncall/schedules/<schedule_id>",
    tags=["oncall"],
    summary="Delete a schedule and its overrides (editor)",
    responses={204: {"description": "deleted"}},
)
def delete_schedule(schedule_id: ScheduleId) -> Response[None]:
    oncall_service().delete(current_principal(router), schedule_id, current_request_id(router))
    return Response(status_code=204)


@router.post(
    "/api/v1/oncall/schedules/<schedule_id>/overrides",
    tags=["oncall"],
    summary="Put someone on call for a while, above every layer (responder)",
    responses={201: {"description": "created"}},
)
def create_override(schedule_id: ScheduleId, body: OverrideIn) -> Response[OverrideOut]:
    override = oncall_service().add_override(
        current_principal(router),
        schedule_id,
        body.who,
        body.from_,
        body.to,
        current_request_id(router),
    )
    out = OverrideOut.of(schedule_id, override)
    return Response(status_code=201, content_type="application/json", body=out)


@router.get(
    "/api/v1/oncall/schedules/<schedule_id>/overrides",
    tags=["oncall"],
    summary="List overrides, optionally those overlapping [from, to)",
)
def list_overrides(
    schedule_id: ScheduleId,
    from_: Annotated[Rfc3339 | None, Query(alias="from")] = None,
    to: Annotated[Rfc3339 | None, Query()] = None,
) -> OverrideList:
    found = oncall_service().overrides(current_principal(router), schedule_id, from_, to)
    return OverrideList(items=[OverrideOut.of(schedule_id, o) for o in found])


@router.delete(
    "/api/v1/oncall/schedules/<schedule_id>/overrides/<override_id>",
    tags=["oncall"],
    summary="Delete an override (responder)",
    responses={204: {"description": "deleted"}},
)
def delete_override(
    schedule_id: ScheduleId, override_id: Annotated[str, Path(max_length=64)]
) -> Response[None]:
    oncall_service().delete_override(
        current_principal(router), schedule_id, override_id, current_request_id(router)
    )
    return Response(status_code=204)


@router.get("/api/v1/oncall/current", tags=["oncall"], summary="Who is on call (now or at `at`)")
def current(
    schedule_id: Annotated[str, Query(max_length=64)],
    at: Annotated[Rfc3339 | None, Query()] = None,
) -> CurrentOut:
    when, members = oncall_service().current(current_principal(router), schedule_id, at)
    return CurrentOut(schedule_id=schedule_id, at=when, on_call=members)


@router.get(
    "/api/v1/oncall/schedules/<schedule_id>/shifts",
    tags=["oncall"],
    summary="The final timeline in [from, to) (at most 366 days)",
)
def list_shifts(
    schedule_id: ScheduleId,
    from_: Annotated[Rfc3339, Query(alias="from")],
    to: Annotated[Rfc3339, Query()],
) -> ShiftList:
    found = oncall_service().shifts(current_principal(router), schedule_id, from_, to)
    items = [
        ShiftOut(member_id=s.member_id, start=s.start, end=s.end, sources=list(s.sources))
        for s in found
    ]
    return ShiftList(schedule_id=schedule_id, items=items)


@router.get(
    "/api/v1/oncall/schedules/<schedule_id>/ical",
    tags=["oncall"],
    summary="iCalendar export (RFC 5545), one event per shift; default 30 days back, 90 ahead",
    responses={200: {"description": "the calendar", "content": {"text/calendar": {}}}},
)
def export_ical(
    schedule_id: ScheduleId,
    from_: Annotated[Rfc3339 | None, Query(alias="from")] = None,
    to: Annotated[Rfc3339 | None, Query()] = None,
) -> Response[str]:
    service = oncall_service()
    principal = current_principal(router)
    now = service.now()
    start = from_ or now - ICAL_DEFAULT_PAST
    end = to or start + ICAL_DEFAULT_PAST + ICAL_DEFAULT_AHEAD
    text = service.ical(principal, schedule_id, start, end)
    return Response(status_code=200, content_type="text/calendar; charset=utf-8", body=text)
