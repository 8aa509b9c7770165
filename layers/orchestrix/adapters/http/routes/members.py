"""/api/v1/members — the people Orchestrix pages, and how to reach them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.notify.components import member_service
from orchestrix.domain.notifications import Urgency
from orchestrix.domain.pagination import DEFAULT_LIMIT
from orchestrix.domain.people import ContactType, Member, MemberSpec

router = Router()
MemberId = Annotated[str, Path(max_length=64)]


class ContactMethodOut(BaseModel):
    type: ContactType
    address: str = Field(description="Slack/Teams/webhook URLs show only their last 4 chars")
    signing_secret: str | None = Field(default=None, description="Last 4 chars only")


class NotificationRuleOut(BaseModel):
    contact_method: int
    delay_minutes: int


class MemberOut(BaseModel):
    """A member as stored, with channel secrets masked."""

    id: str
    name: str
    email: str | None
    phone: str | None
    slack_user_id: str | None
    time_zone: str
    subject: str | None
    contact_methods: list[ContactMethodOut]
    notification_rules: dict[Urgency, list[NotificationRuleOut]]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        spec = member.spec
        return cls(
            id=member.id,
            name=spec.name,
            email=spec.email,
            phone=spec.phone,
            slack_user_id=spec.slack_user_id,
            time_zone=spec.time_zone,
            subject=spec.subject,
            contact_methods=[
                ContactMethodOut(type=c.type, address=c.address, signing_secret=c.signing_secret)
                for c in spec.contact_methods
            ],
            notification_rules={
                urgency: [
                    NotificationRuleOut(
                        contact_method=r.contact_method, delay_minutes=r.delay_minutes
                    )
                    for r in rules
                ]
                for urgency, rules in spec.notification_rules.items()
            },
            created_at=member.created_at,
            updated_at=member.updated_at,
        )


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


@router.post(
    "/api/v1/members",
    tags=["members"],
    summary="Create a member (editor)",
    responses={201: {"description": "created"}},
)
def create_member(body: MemberSpec) -> Response[MemberOut]:
    member = member_service().create(current_principal(router), body, current_request_id(router))
    return Response(status_code=201, content_type="application/json", body=MemberOut.of(member))


@router.get("/api/v1/members", tags=["members"], summary="List members")
def list_members(limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None) -> MemberPage:
    page = member_service().list(current_principal(router), page_request(limit, cursor))
    return MemberPage(items=[MemberOut.of(m) for m in page.items], next_cursor=page.next_cursor)


@router.get("/api/v1/members/<member_id>", tags=["members"], summary="Get one member")
def get_member(member_id: MemberId) -> MemberOut:
    return MemberOut.of(member_service().get(current_principal(router), member_id))


@router.put(
    "/api/v1/members/<member_id>",
    tags=["members"],
    summary="Replace a member (editor); send contact method secrets again in full",
)
def replace_member(member_id: MemberId, body: MemberSpec) -> MemberOut:
    member = member_service().replace(
        current_principal(router), member_id, body, current_request_id(router)
    )
    return MemberOut.of(member)


@router.delete(
    "/api/v1/members/<member_id>",
    tags=["members"],
    summary="Delete a member (editor); refused while a schedule names them",
    responses={204: {"description": "deleted"}},
)
def delete_member(member_id: MemberId) -> Response[None]:
    member_service().delete(current_principal(router), member_id, current_request_id(router))
    return Response(status_code=204)
