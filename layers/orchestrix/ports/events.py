from __future__ import annotations

from typing import Any, Protocol


class EventPublisher(Protocol):
    """Domain events out (`alert.fired`, `incident.triggered`, ...) to the orchestrix bus."""

    def publish(self, tenant_id: str, detail_type: str, detail: dict[str, Any]) -> None: ...
