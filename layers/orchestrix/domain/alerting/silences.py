"""Silences and maintenance windows: matching alerts are recorded `suppressed`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from orchestrix.domain.alerting.matchers import Matcher, matches_all

SilenceKind = Literal["silence", "maintenance"]


@dataclass(frozen=True)
class Silence:
    id: str
    tenant_id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    kind: SilenceKind = "silence"

    def state(self, now: datetime) -> str:
        """Alertmanager's states: pending, active, expired."""
        if now >= self.ends_at:
            return "expired"
        return "pending" if now < self.starts_at else "active"

    def mutes(self, labels: dict[str, str], now: datetime) -> bool:
        return self.state(now) == "active" and matches_all(self.matchers, labels)

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "matchers": [m.as_dict() for m in self.matchers],
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "comment": self.comment,
            "created_by": self.created_by,
        }


def silencing(silences: list[Silence], labels: dict[str, str], now: datetime) -> list[str]:
    """Ids of the silences muting an alert with these labels right now."""
    return [s.id for s in silences if s.mutes(labels, now)]
