from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class OneTimeScheduler(Protocol):
    """One-shot future invocations (escalation levels, delayed notifications).

    AWS: an EventBridge Scheduler `at(...)` schedule in the stage's group that invokes the
    named function with `payload` and deletes itself after running. Locally the same API
    calls go to moto and the local scheduler fires them on the adjustable clock.
    """

    def schedule(self, name: str, at: datetime, function: str, payload: dict[str, Any]) -> None:
        """Create (or replace) the schedule `name`; names are unique per stage."""
        ...

    def cancel(self, name: str) -> bool:
        """Delete the schedule; False when it did not exist (already fired or cancelled)."""
        ...
