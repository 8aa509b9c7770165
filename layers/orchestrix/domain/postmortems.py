"""Post-mortems: what an incident taught, drafted from what it recorded.

A post-mortem keeps the evidence it was drafted from (the incident's timeline, alerts,
workflow executions and times) as it was then, so a review reads the same facts however
long it takes; people add the narrative, contributing factors and action items on top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from orchestrix.domain.errors import Conflict


def display_time(iso: str | None) -> str:
    """Evidence times are ISO 8601; documents show them as `2026-12-04 22:06:56 UTC`."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")


class PostmortemStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"


# Review sends a draft back or publishes it; a published post-mortem is the record.
_NEXT: dict[PostmortemStatus, tuple[PostmortemStatus, ...]] = {
    PostmortemStatus.DRAFT: (PostmortemStatus.IN_REVIEW,),
    PostmortemStatus.IN_REVIEW: (PostmortemStatus.DRAFT, PostmortemStatus.PUBLISHED),
    PostmortemStatus.PUBLISHED: (),
}


def check_transition(current: PostmortemStatus, wanted: PostmortemStatus) -> None:
    if wanted is not current and wanted not in _NEXT[current]:
        allowed = ", ".join(s.value for s in _NEXT[current]) or "nothing"
        raise Conflict(
            f"a post-mortem that is {current.value} cannot become {wanted.value} "
            f"(it can become: {allowed})"
        )


class NarrativeSource(StrEnum):
    DETERMINISTIC = "deterministic"  # written from the evidence by rules
    MODEL = "model"  # written by the stage's language model from the evidence only
    EDITED = "edited"  # written or changed by a person: a redraft keeps it


class ActionItemStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True)
class ActionItem:
    id: str
    title: str
    owner_member_id: str
    due_date: date
    status: ActionItemStatus
    created_at: datetime
    completed_at: datetime | None = None

    def is_overdue(self, today: date) -> bool:
        return self.status is ActionItemStatus.OPEN and self.due_date < today

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "owner_member_id": self.owner_member_id,
            "due_date": self.due_date.isoformat(),
            "status": self.status.value,
        }


@dataclass(frozen=True)
class Evidence:
    """What the incident recorded, as plain JSON values (stored with the post-mortem).

    `incident`: its fields; `timeline`: every entry oldest first (notes included);
    `alerts` and `executions`: what fired and what ran; `impact`: start/end/duration;
    `metrics`: MTTA/MTTR in seconds (None until acknowledged/resolved)."""

    incident: dict[str, Any]
    timeline: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    executions: list[dict[str, Any]]
    impact: dict[str, Any]
    metrics: dict[str, Any]
    truncated: dict[str, int] = field(default_factory=dict)  # list name -> entries left out

    def as_json(self) -> dict[str, Any]:
        return {
            "incident": self.incident,
            "timeline": self.timeline,
            "alerts": self.alerts,
            "executions": self.executions,
            "impact": self.impact,
            "metrics": self.metrics,
            "truncated": self.truncated,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        return cls(
            incident=dict(data["incident"]),
            timeline=list(data["timeline"]),
            alerts=list(data["alerts"]),
            executions=list(data["executions"]),
            impact=dict(data["impact"]),
            metrics=dict(data["metrics"]),
            truncated=dict(data.get("truncated") or {}),
        )

    @property
    def notes(self) -> list[dict[str, Any]]:
        return [e for e in self.timeline if e["kind"] == "note"]


@dataclass(frozen=True)
class Postmortem:
    id: str
    tenant_id: str
    incident_id: str
    status: PostmortemStatus
    title: str
    narrative: str
    narrative_source: NarrativeSource
    model_id: str | None
    contributing_factors: tuple[str, ...]
    evidence: Evidence
    drafted_at: datetime
    created_at: datetime
    created_by: str
    updated_at: datetime
    published_at: datetime | None = None
    action_items: tuple[ActionItem, ...] = ()

    def snapshot(self) -> dict[str, Any]:
        """The audit view: what people change, not the (large, immutable) evidence."""
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "status": self.status.value,
            "title": self.title,
            "narrative": self.narrative,
            "narrative_source": self.narrative_source.value,
            "model_id": self.model_id,
            "contributing_factors": list(self.contributing_factors),
            "action_items": [i.snapshot() for i in self.action_items],
            "drafted_at": self.drafted_at.isoformat(),
        }
