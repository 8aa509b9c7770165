"""The ports the post-mortem service needs, reached from a unit of work, and its inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from orchestrix.domain.postmortems import ActionItem, ActionItemStatus, Postmortem, PostmortemStatus
from orchestrix.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class StoredTemplate:
    body: str
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class OverdueItem:
    item: ActionItem
    postmortem_id: str
    incident_id: str


class PostmortemRepository(Protocol):
    def add(self, postmortem: Postmortem) -> None: ...

    def save(self, postmortem: Postmortem) -> None:
        """The post-mortem and its action items as given (items not listed are removed)."""
        ...

    def for_incident(self, incident_id: str, *, lock: bool = False) -> Postmortem | None: ...

    def overdue(self, today: date, limit: int) -> list[str]:
        """Ids of open items due before `today` whose miss of that due date is unpublished."""
        ...

    def claim_overdue(self, item_id: str, today: date) -> OverdueItem | None:
        """Mark the item's miss of its due date published; None if it is not (any more)."""
        ...

    def template(self) -> StoredTemplate | None: ...

    def save_template(self, template: StoredTemplate) -> None: ...


class IncidentEvidence(Protocol):
    """What an incident recorded beyond its own row and timeline."""

    def alerts(self, incident_id: str) -> list[dict[str, Any]]:
        """Linked alerts, oldest first: id, name, severity, summary, starts_at, resolved_at."""
        ...

    def executions(self, incident_id: str) -> list[dict[str, Any]]:
        """Remediation workflow executions of those alerts, oldest first: id, workflow_id,
        status, started_at, finished_at, error."""
        ...

    def member_names(self, member_ids: list[str]) -> dict[str, str]: ...


@dataclass(frozen=True)
class PostmortemStores:
    postmortems: Callable[[UnitOfWork], PostmortemRepository]
    evidence: Callable[[UnitOfWork], IncidentEvidence]


@dataclass(frozen=True)
class ActionItemInput:
    """An action item in a PATCH: with `id` it changes that item, without it adds one."""

    title: str
    owner_member_id: str
    due_date: date
    status: ActionItemStatus = ActionItemStatus.OPEN
    id: str | None = None


@dataclass(frozen=True)
class PostmortemChanges:
    """PATCH: only the fields given change; `action_items` replaces the whole list."""

    title: str | None = None
    narrative: str | None = None
    contributing_factors: list[str] | None = None
    action_items: list[ActionItemInput] | None = None
    status: PostmortemStatus | None = None

    @property
    def content(self) -> bool:
        """Changes the document itself (frozen once published), not only action items."""
        return any(v is not None for v in (self.title, self.narrative, self.contributing_factors))
