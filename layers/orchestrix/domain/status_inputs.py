"""What editors and the public send about status page events and subscriptions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from orchestrix.domain.status_pages import INCIDENT_STATUSES, ComponentStatus, UpdateStatus

_OUTAGES = (
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)


def _incident_status(value: UpdateStatus) -> UpdateStatus:
    if value not in INCIDENT_STATUSES:
        raise ValueError("must be investigating, identified, monitoring or resolved")
    return value


def _outage_statuses(value: dict[str, ComponentStatus]) -> dict[str, ComponentStatus]:
    if any(status not in _OUTAGES for status in value.values()):
        raise ValueError(
            "each component's status must be degraded_performance, partial_outage or major_outage"
        )
    return value


def _rfc3339_only(value: Any) -> Any:
    # pydantic would read a number as a unix time; the documented format is RFC 3339.
    if isinstance(value, (int, float)):
        raise ValueError("must be an RFC 3339 date-time with a timezone")
    return value


# Schedules name their moment as a four-digit year (EventBridge Scheduler `at(...)`), and no
# maintenance is planned centuries ahead or back.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _plausible(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between 2000-01-01 and 2100-01-01")
    return value


IncidentStatus = Annotated[UpdateStatus, AfterValidator(_incident_status)]
AffectedComponents = Annotated[
    dict[Annotated[str, Field(max_length=64)], ComponentStatus],
    Field(max_length=100),
    AfterValidator(_outage_statuses),
]
Moment = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only), AfterValidator(_plausible)]
Body = Annotated[str, Field(min_length=1, max_length=5000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IncidentSpec(_Model):
    """An incident posted by hand, with its first update."""

    name: str = Field(min_length=1, max_length=200)
    status: IncidentStatus = UpdateStatus.INVESTIGATING
    body: Body
    components: AffectedComponents = Field(
        default_factory=dict, description="component id -> the status it has while this lasts"
    )


class UpdateSpec(_Model):
    status: IncidentStatus
    body: Body
    components: AffectedComponents | None = Field(
        default=None, description="replaces the affected components and their statuses"
    )


class MaintenanceSpec(_Model):
    name: str = Field(min_length=1, max_length=200)
    body: Body
    scheduled_for: Moment
    scheduled_until: Moment
    component_ids: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=100
    )

    @field_validator("scheduled_until")
    @classmethod
    def _window(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("scheduled_for")
        if start is not None and value <= start:
            raise ValueError("must be after scheduled_for")
        return value


class SubscriberSpec(_Model):
    channel: Literal["email", "webhook"]
    address: str = Field(min_length=3, max_length=2000, description="an email or https URL")
    component_ids: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=100, description="empty: every component"
    )

    @field_validator("address")
    @classmethod
    def _address(cls, value: str, info: ValidationInfo) -> str:
        channel = info.data.get("channel")
        if channel == "email" and not _is_email(value):
            raise ValueError("must be an email address for channel 'email'")
        if channel == "webhook" and not value.lower().startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL for channel 'webhook'")
        return value


def _is_email(text: str) -> bool:
    local, at, domain = text.partition("@")
    if not at or not local or "@" in domain or any(c.isspace() for c in text):
        return False
    return "." in domain[1:-1]
