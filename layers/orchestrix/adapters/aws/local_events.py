"""The local runtime's publisher: records in moto's EventBridge, then delivers to rules."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from orchestrix.adapters.aws.eventbridge import SOURCE, EventBridgePublisher


class LocalEventPublisher:
    def __init__(
        self,
        inner: EventBridgePublisher,
        bus_name: str,
        dispatch: Callable[[str, dict[str, Any]], Any],
        now: Callable[[], datetime],
    ) -> None:
        self._inner = inner
        self._bus = bus_name
        self._dispatch = dispatch
        self._now = now

    def publish(self, tenant_id: str, detail_type: str, detail: dict[str, Any]) -> None:
        self._inner.publish(tenant_id, detail_type, detail)
        envelope = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": SOURCE,
            "account": "123456789012",
            "time": self._now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(json.dumps({"tenant_id": tenant_id, **detail}, default=str)),
        }
        self._dispatch(self._bus, envelope)
