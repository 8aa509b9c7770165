"""Status pages: what a tenant tells the public about its components, incidents and
maintenances. Statuses and words follow Atlassian Statuspage, whose clients read our JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator


class ComponentStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"


# Worse statuses rank higher; maintenance is planned, so any outage outranks it.
_RANK = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}


def worst(statuses: list[ComponentStatus]) -> ComponentStatus:
    return max(statuses, key=_RANK.__getitem__, default=ComponentStatus.OPERATIONAL)


class UpdateStatus(StrEnum):
    """Incident statuses, then maintenance statuses (one column holds both)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


INCIDENT_STATUSES = (
    UpdateStatus.INVESTIGATING,
    UpdateStatus.IDENTIFIED,
    UpdateStatus.MONITORING,
    UpdateStatus.RESOLVED,
)
MAINTENANCE_STATUSES = (UpdateStatus.SCHEDULED, UpdateStatus.IN_PROGRESS, UpdateStatus.COMPLETED)
CLOSED = (UpdateStatus.RESOLVED, UpdateStatus.COMPLETED)

# Statuspage's incident impact, from the worst status the incident gives a component.
IMPACT_OF = {
    ComponentStatus.OPERATIONAL: "none",
    ComponentStatus.UNDER_MAINTENANCE: "maintenance",
    ComponentStatus.DEGRADED_PERFORMANCE: "minor",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.MAJOR_OUTAGE: "critical",
}

# Page-level indicator and description (Statuspage's `status` object).
INDICATOR = {
    ComponentStatus.OPERATIONAL: ("none", "All Systems Operational"),
    ComponentStatus.UNDER_MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    ComponentStatus.DEGRADED_PERFORMANCE: ("minor", "Minor Service Outage"),
    ComponentStatus.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    ComponentStatus.MAJOR_OUTAGE: ("critical", "Major System Outage"),
}

LABEL = {
    ComponentStatus.OPERATIONAL: "Operational",
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
    ComponentStatus.UNDER_MAINTENANCE: "Under maintenance",
}

# What an update raised by an Orchestrix incident says: public words only, never the
# incident's own title, labels or notes.
AUTOMATIC_BODY = {
    UpdateStatus.INVESTIGATING: "We are investigating a problem affecting {components}.",
    UpdateStatus.IDENTIFIED: "The cause has been identified and we are working on a fix.",
    UpdateStatus.MONITORING: "A fix has been applied and we are monitoring the results.",
    UpdateStatus.RESOLVED: "This incident has been resolved.",
}

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_COLOR = r"^#[0-9a-fA-F]{6}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Branding(_Model):
    logo_url: AnyHttpUrl | None = Field(default=None, description="https only")
    accent_color: str = Field(default="#1f6feb", pattern=_COLOR)
    support_url: AnyHttpUrl | None = None

    @field_validator("logo_url")
    @classmethod
    def _https_logo(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        # The public page's Content-Security-Policy loads images over https only.
        if value is not None and value.scheme != "https":
            raise ValueError("must be an https URL")
        return value


class PageSpec(_Model):
    slug: str = Field(min_length=1, max_length=63, description="lowercase letters, digits, '-'")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    branding: Branding = Field(default_factory=Branding)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.fullmatch(value):
            raise ValueError("use lowercase letters, digits and '-' (not at either end)")
        return value


class GroupSpec(_Model):
    name: str = Field(min_length=1, max_length=200)
    position: int = Field(default=0, ge=0, le=10_000, strict=True)


_IMPACTS = (
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)


class ComponentSpec(_Model):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    group_id: str | None = Field(default=None, max_length=64)
    position: int = Field(default=0, ge=0, le=10_000, strict=True)
    status: ComponentStatus = ComponentStatus.OPERATIONAL
    services: list[str] = Field(default_factory=list, max_length=50)
    rule_ids: list[str] = Field(default_factory=list, max_length=50)
    impact: ComponentStatus = Field(
        default=ComponentStatus.PARTIAL_OUTAGE,
        description="the status an incident of a linked service or rule gives the component",
    )

    @field_validator("impact")
    @classmethod
    def _impact(cls, value: ComponentStatus) -> ComponentStatus:
        if value not in _IMPACTS:
            raise ValueError("must be degraded_performance, partial_outage or major_outage")
        return value

    @field_validator("services", "rule_ids")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        if any(not v or len(v) > 200 for v in values):
            raise ValueError("each entry must be 1 to 200 characters")
        return list(dict.fromkeys(values))


@dataclass(frozen=True)
class StatusPage:
    id: str
    tenant_id: str
    spec: PageSpec
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ComponentGroup:
    id: str
    page_id: str
    spec: GroupSpec
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Component:
    id: str
    page_id: str
    spec: ComponentSpec
    created_at: datetime
    updated_at: datetime

    @property
    def status(self) -> ComponentStatus:
        return self.spec.status


@dataclass(frozen=True)
class PageUpdate:
    id: str
    incident_id: str  # the page incident's id
    status: UpdateStatus
    body: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class PageIncident:
    """An incident or a scheduled maintenance as the page shows it."""

    id: str
    page_id: str
    kind: str  # "incident" | "maintenance"
    name: str
    status: UpdateStatus
    impact: str
    components: dict[str, ComponentStatus]  # affected component -> status while it lasts
    source_incident_id: str | None  # the Orchestrix incident behind it; never public
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    updates: tuple[PageUpdate, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED

    def audit(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "status": self.status.value,
            "impact": self.impact,
            "components": {k: v.value for k, v in self.components.items()},
            "scheduled_for": _iso(self.scheduled_for),
            "scheduled_until": _iso(self.scheduled_until),
        }


def impact_of(components: dict[str, ComponentStatus]) -> str:
    return IMPACT_OF[worst(list(components.values()))]


def maintenance_status_at(incident: PageIncident, now: datetime) -> UpdateStatus:
    """Where time has moved a maintenance: completed stays completed (also when ended early)."""
    if incident.status is UpdateStatus.COMPLETED:
        return incident.status
    if incident.scheduled_until is not None and now >= incident.scheduled_until:
        return UpdateStatus.COMPLETED
    if incident.scheduled_for is not None and now >= incident.scheduled_for:
        return UpdateStatus.IN_PROGRESS
    return UpdateStatus.SCHEDULED


SubscriberChannel = str  # "email" | "webhook"


@dataclass(frozen=True)
class Subscriber:
    id: str
    page_id: str
    channel: SubscriberChannel
    address: str
    component_ids: tuple[str, ...]  # empty: every component
    status: str  # pending | confirmed | unsubscribed
    created_at: datetime
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None

    def audit(self) -> dict[str, Any]:
        # Webhook URLs may carry credentials: the audit shows only their host part.
        return {
            "id": self.id,
            "channel": self.channel,
            "address": self.address if self.channel == "email" else _host(self.address),
            "component_ids": list(self.component_ids),
            "status": self.status,
        }


@dataclass(frozen=True)
class SubscriberSecrets:
    """Sealed at rest: needed again at every send, unlike the confirmation token."""

    unsubscribe_token: str
    signing_secret: str | None = None


@dataclass(frozen=True)
class ComponentChange:
    at: datetime
    status: ComponentStatus


@dataclass(frozen=True)
class UptimeDay:
    date: str  # YYYY-MM-DD (UTC)
    status: ComponentStatus | None  # the worst of the day; None: before the component existed
    uptime: float | None  # percent
    outage_seconds: dict[str, int] = field(default_factory=dict)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/…"
