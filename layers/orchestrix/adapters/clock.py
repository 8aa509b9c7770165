"""Clocks: the system clock, and the adjustable one the local runtime moves forward."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class AdjustableClock:
    """Real time plus an offset that only grows; `orchestrix tick --advance` moves it.

    The offset is kept in a file so that a restarted `orchestrix dev` does not travel back in
    time past what it already recorded.
    """

    def __init__(self, state_file: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._state_file = state_file
        self._offset = timedelta()
        if state_file is not None and state_file.exists():
            seconds = json.loads(state_file.read_text()).get("offset_seconds", 0)
            self._offset = timedelta(seconds=float(seconds))

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta():
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += by
            if self._state_file is not None:
                self._state_file.write_text(
                    json.dumps({"offset_seconds": self._offset.total_seconds()})
                )
            return self.now()
