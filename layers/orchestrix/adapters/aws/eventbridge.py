"""Domain events to the stage's EventBridge bus."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

SOURCE = "orchestrix"


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, tenant_id: str, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps({"tenant_id": tenant_id, **detail}, default=_default),
            "EventBusName": self._bus,
        }
        result = self._client.put_events(Entries=[entry])
        if result.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused {detail_type}: {result['Entries']}")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
