from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Where time comes from: the system clock in AWS, an adjustable one locally."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...
