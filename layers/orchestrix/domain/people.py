"""Members (people who get paged), their contact methods and rules, and teams."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from orchestrix.domain.notifications import SECRET_CHANNELS, Urgency, mask
from orchestrix.domain.oncall import Schedule

ContactType = Literal["email", "sms", "slack", "teams", "webhook"]
MAX_DELAY_MINUTES = 24 * 60


def _zone(key: str) -> str:
    try:
        if key == "localtime":
            raise ZoneInfoNotFoundError(key)
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"'{key}' is not a known IANA time zone") from None
    return key


TimeZone = Annotated[str, AfterValidator(_zone)]
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_PHONE = r"^\+[1-9][0-9]{6,14}$"


def _is_email(text: str) -> bool:
    """What `_EMAIL` says, without backtracking (`re` is quadratic on long dotted input)."""
    local, at, domain = text.partition("@")
    if not at or not local or "@" in domain or any(c.isspace() for c in text):
        return False
    return "." in domain[1:-1]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactMethod(_Model):
    """Where to reach someone. Slack/Teams/webhook addresses are secrets (encrypted at rest)."""

    type: ContactType
    address: str = Field(min_length=1, max_length=2048)
    # Signs generic webhooks (HMAC-SHA256); required for them so receivers can verify.
    signing_secret: str | None = Field(default=None, min_length=16, max_length=256)

    @model_validator(mode="after")
    def _address_fits_type(self) -> ContactMethod:
        if self.type == "email" and not _is_email(self.address):
            raise ValueError("address must be an email address for type 'email'")
        if self.type == "sms" and not re.fullmatch(_PHONE, self.address):
            raise ValueError("address must be an E.164 phone number (+491701234567) for 'sms'")
        if self.type in SECRET_CHANNELS and not self.address.startswith(("https://", "http://")):
            raise ValueError(f"address must be an http(s) URL for type '{self.type}'")
        if self.type == "webhook" and not self.signing_secret:
            raise ValueError("signing_secret is required for type 'webhook'")
        if self.type != "webhook" and self.signing_secret:
            raise ValueError("signing_secret is only used by type 'webhook'")
        return self

    def shown(self) -> ContactMethod:
        """The API view: secrets reduced to their last 4 characters."""
        if self.type not in SECRET_CHANNELS:
            return self
        secret = mask(self.signing_secret) if self.signing_secret else None
        return self.model_copy(update={"address": mask(self.address), "signing_secret": secret})


class NotificationRule(_Model):
    contact_method: int = Field(ge=0, description="Index into contact_methods")
    delay_minutes: int = Field(default=0, ge=0, le=MAX_DELAY_MINUTES)


class MemberSpec(_Model):
    """What a client writes; ids and timestamps are ours."""

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, pattern=_EMAIL, max_length=320)
    phone: str | None = Field(default=None, pattern=_PHONE)
    slack_user_id: str | None = Field(default=None, max_length=64)
    time_zone: TimeZone = "UTC"
    subject: str | None = Field(
        default=None, min_length=1, max_length=255, description="The identity provider subject"
    )
    contact_methods: list[ContactMethod] = Field(default_factory=list, max_length=20)
    notification_rules: dict[Urgency, list[NotificationRule]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _rules_point_at_methods(self) -> MemberSpec:
        for urgency, rules in self.notification_rules.items():
            for rule in rules:
                if rule.contact_method >= len(self.contact_methods):
                    raise ValueError(
                        f"notification_rules.{urgency}: contact_method {rule.contact_method} "
                        f"does not exist (there are {len(self.contact_methods)})"
                    )
        return self


@dataclass(frozen=True)
class Member:
    id: str
    tenant_id: str
    spec: MemberSpec
    created_at: datetime
    updated_at: datetime


def rules_for(member: Member, urgency: Urgency) -> list[tuple[ContactMethod, int]]:
    """(contact method, delay in minutes) to use; without rules, every method at once."""
    methods = member.spec.contact_methods
    rules = member.spec.notification_rules.get(urgency)
    if not rules:
        return [(method, 0) for method in methods]
    return [(methods[r.contact_method], r.delay_minutes) for r in rules]


class TeamSpec(_Model):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    member_ids: list[str] = Field(default_factory=list, max_length=500)


@dataclass(frozen=True)
class Team:
    id: str
    tenant_id: str
    spec: TeamSpec
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredSchedule:
    """An on-call schedule as kept: the domain Schedule plus identity and timestamps."""

    id: str
    tenant_id: str
    schedule: Schedule
    created_at: datetime
    updated_at: datetime


def shown(member: Member) -> Member:
    """The member as the API shows it: channel secrets reduced to their last 4 characters."""
    spec = member.spec.model_copy(
        update={"contact_methods": [c.shown() for c in member.spec.contact_methods]}
    )
    return Member(member.id, member.tenant_id, spec, member.created_at, member.updated_at)
