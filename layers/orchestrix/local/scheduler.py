"""Fires the schedules of `wiring.SCHEDULES` on the adjustable clock.

A background thread fires whatever falls due as real time passes; `advance()` (behind
`POST /_local/tick` and `orchestrix tick --advance`) moves the clock forward in steps, stopping
at each due time so that every run sees the clock at its scheduled time, as on AWS.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orchestrix import wiring
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.local.one_time import DueSchedule, MotoOneTimeSchedules
from orchestrix.ports.clock import Clock

log = logging.getLogger(__name__)

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}


def rate_interval(expression: str) -> timedelta:
    m = _RATE.match(expression.strip())
    if not m:
        raise ValueError(f"the local scheduler supports rate(N unit) only, got {expression!r}")
    return timedelta(seconds=int(m.group(1)) * _UNIT[m.group(2).rstrip("s")])


@dataclass
class Fired:
    schedule: str
    function: str
    at: datetime
    ok: bool
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "function": self.function,
            "at": self.at.isoformat(),
            "ok": self.ok,
            "error": self.error,
        }


class ScheduleSwitches:
    """On/off state of the recurring schedules, as the State of a Scheduler schedule on AWS.

    Services flip it through `schedule(name)` (the EvaluationSchedule port) from inside
    functions the scheduler is running, so it has its own lock, not the scheduler's.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._disabled: set[str] = set()
        self._resumed: dict[str, datetime] = {}

    def schedule(self, name: str) -> _Switch:
        return _Switch(self, name)

    def set_enabled(self, name: str, enabled: bool) -> bool:
        with self._lock:
            if enabled == (name not in self._disabled):
                return False
            if enabled:
                self._disabled.discard(name)
                self._resumed[name] = self._clock.now()
            else:
                self._disabled.add(name)
            return True

    def enabled(self, name: str) -> bool:
        with self._lock:
            return name not in self._disabled

    def pop_resumed(self, name: str) -> datetime | None:
        """When `name` was re-enabled since the last call: its runs restart from then."""
        with self._lock:
            return self._resumed.pop(name, None)


@dataclass(frozen=True)
class _Switch:
    switches: ScheduleSwitches
    name: str

    def set_enabled(self, enabled: bool) -> bool:
        return self.switches.set_enabled(self.name, enabled)


class LocalScheduler:
    def __init__(
        self,
        clock: AdjustableClock,
        invoke: Callable[[str, dict[str, Any]], Any],
        schedules: tuple[wiring.Schedule, ...] = wiring.SCHEDULES,
        one_time: MotoOneTimeSchedules | None = None,
        switches: ScheduleSwitches | None = None,
    ) -> None:
        self._clock = clock
        self._one_time = one_time
        self.switches = switches or ScheduleSwitches(clock)
        self._invoke = invoke
        self._schedules = schedules
        start = clock.now()
        self._next = {s.name: start + rate_interval(s.expression) for s in schedules}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.history: list[Fired] = []

    def _fire(self, schedule: wiring.Schedule, at: datetime) -> Fired:
        event = {"schedule": schedule.name, "scheduled_time": at.isoformat()}
        try:
            self._invoke(schedule.function, event)
            fired = Fired(schedule.name, schedule.function, at, True)
        except Exception as exc:  # a failing job must not stop the others
            log.exception("scheduled %s failed", schedule.name)
            fired = Fired(
                schedule.name, schedule.function, at, False, f"{type(exc).__name__}: {exc}"
            )
        self.history.append(fired)
        return fired

    def _earliest_due(
        self, until: datetime
    ) -> tuple[wiring.Schedule | DueSchedule, datetime] | None:
        for s in self._schedules:
            resumed = self.switches.pop_resumed(s.name)
            if resumed is not None:  # runs missed while disabled are not caught up
                self._next[s.name] = max(self._next[s.name], resumed + rate_interval(s.expression))
        due: list[tuple[datetime, wiring.Schedule | DueSchedule]] = [
            (self._next[s.name], s)
            for s in self._schedules
            if self._next[s.name] <= until and self.switches.enabled(s.name)
        ]
        if self._one_time is not None:
            due.extend((d.at, d) for d in self._one_time.pending() if d.at <= until)
        if not due:
            return None
        at, schedule = min(due, key=lambda pair: pair[0])
        return schedule, at

    def _run(self, item: wiring.Schedule | DueSchedule, at: datetime) -> Fired:
        if isinstance(item, DueSchedule):
            assert self._one_time is not None
            # Like ActionAfterCompletion=DELETE: gone before its target runs.
            self._one_time.complete(item.name)
            return self._fire_one_time(item)
        self._next[item.name] = at + rate_interval(item.expression)
        return self._fire(item, at)

    def _fire_one_time(self, item: DueSchedule) -> Fired:
        try:
            self._invoke(item.function, item.payload)
            fired = Fired(item.name, item.function, item.at, True)
        except Exception as exc:
            log.exception("one-time schedule %s failed", item.name)
            fired = Fired(item.name, item.function, item.at, False, f"{type(exc).__name__}: {exc}")
        self.history.append(fired)
        return fired

    def run_due(self) -> list[Fired]:
        """Fire everything due by now (real time has moved the clock)."""
        with self._lock:
            fired = []
            while (item := self._earliest_due(self._clock.now())) is not None:
                fired.append(self._run(*item))
            return fired

    def advance(self, by: timedelta) -> list[Fired]:
        """Move the clock forward by `by`, firing each due schedule at its own time."""
        with self._lock:
            target = self._clock.now() + by
            fired = []
            while (item := self._earliest_due(target)) is not None:
                schedule, at = item
                step = at - self._clock.now()
                if step > timedelta():
                    self._clock.advance(step)
                fired.append(self._run(schedule, at))
            rest = target - self._clock.now()
            if rest > timedelta():
                self._clock.advance(rest)
            return fired

    def start(self, poll_seconds: float = 1.0) -> None:
        def loop() -> None:
            while not self._stop.wait(poll_seconds):
                self.run_due()

        self._thread = threading.Thread(target=loop, name="orchestrix-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
