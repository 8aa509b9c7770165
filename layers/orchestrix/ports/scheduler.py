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


class EvaluationSchedule(Protocol):
    """The recurring schedule that runs alert-rule evaluation every minute.

    It is enabled only while some tenant has an enabled rule, so that an idle stage does not
    wake its database every minute. AWS: the State of the `<prefix>-evaluate-rules` Scheduler
    schedule; locally: the local scheduler's switch for the same wiring schedule.
    """

    def set_enabled(self, enabled: bool) -> bool:
        """Turn it on or off; True when that changed its state."""
        ...
