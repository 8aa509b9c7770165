"""The evidence an incident analysis stands on: alerts/anomalies (signals) and changes.

Every item has an id that answers cite (`alr_…`, `chg_…`), so a reader can check each claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

SignalKind = Literal["alert", "anomaly", "error"]
ChangeKind = Literal["deployment", "config", "infrastructure", "feature_flag", "other"]

# Alerts are "anomalous metric" evidence when the anomaly detector raised them, and "error
# spike" evidence when their name or labels say they count errors.
_ERROR_WORDS = ("error", "5xx", "fail", "exception")


def signal_kind(labels: dict[str, str], source: str = "") -> SignalKind:
    if labels.get("anomaly_rule") or labels.get("anomaly") == "true" or source == "anomaly":
        return "anomaly"
    name = labels.get("alertname", "").lower()
    if labels.get("signal") == "errors" or any(word in name for word in _ERROR_WORDS):
        return "error"
    return "alert"


@dataclass(frozen=True)
class Signal:
    """An alert (threshold, anomaly or error spike) seen around the incident."""

    id: str
    service: str | None
    name: str
    kind: SignalKind
    started_at: datetime
    severity: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    linked: bool = False  # one of the incident's own alerts
    ended_at: datetime | None = None  # resolved at

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.kind,
            "service": self.service,
            "name": self.name,
            "severity": self.severity,
            "at": self.started_at.isoformat(),
            "linked": self.linked,
        }


@dataclass(frozen=True)
class Change:
    """A deployment, configuration or infrastructure change to one service."""

    id: str
    service: str
    kind: ChangeKind
    title: str
    at: datetime
    source: str = "api"
    details: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "change",
            "kind": self.kind,
            "service": self.service,
            "name": self.title,
            "source": self.source,
            "at": self.at.isoformat(),
        }
