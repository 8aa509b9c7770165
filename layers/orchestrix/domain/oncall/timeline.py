"""The final on-call timeline: layers stacked by precedence, overrides on top.

Precedence, highest first: overrides (a later override in the list beats an earlier one it
overlaps), then layers from the last in `Schedule.layers` to the first. At any instant the
highest source with someone on call wins; where no source has anyone, the timeline has a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orchestrix.domain.errors import DomainError
from orchestrix.domain.oncall.layer_timeline import layer_member_at, layer_segments
from orchestrix.domain.oncall.models import Override, Schedule


class InvalidTimeRangeError(DomainError):
    """A requested window or instant is unusable (no UTC offset, or end not after start)."""


@dataclass(frozen=True, slots=True)
class Shift:
    """`member_id` is on call for [start, end) (UTC).

    `sources` names what put them there, distinct, in order of first appearance:
    `layer:<name>` or `override:<id>` (`override` when the override has no id).
    """

    member_id: str
    start: datetime
    end: datetime
    sources: tuple[str, ...]

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def shifts(
    schedule: Schedule, overrides: Sequence[Override], start: datetime, end: datetime
) -> list[Shift]:
    """The final timeline within [start, end): sorted, non-overlapping, adjacent shifts of
    the same member merged; instants where nobody is on call are left out (gaps)."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        raise InvalidTimeRangeError("end must be after start")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    zone = schedule.zone

    # (time, is_start, priority, member, source); ends sort before starts at the same time.
    events: list[tuple[datetime, bool, int, str, str]] = []
    for priority, layer in enumerate(schedule.layers):
        source = f"layer:{layer.name}"
        for seg_start, seg_end, member in layer_segments(layer, zone, start, end):
            events.append((seg_start, True, priority, member, source))
            events.append((seg_end, False, priority, member, source))
    for offset, override in enumerate(overrides):
        low, high = max(override.start, start), min(override.end, end)
        if low < high:
            priority = len(schedule.layers) + offset
            source = f"override:{override.id}" if override.id else "override"
            events.append((low.astimezone(UTC), True, priority, override.member_id, source))
            events.append((high.astimezone(UTC), False, priority, override.member_id, source))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return _merge(_sweep(events))


def on_call_at(schedule: Schedule, overrides: Sequence[Override], at: datetime) -> list[str]:
    """Who is on call at `at`: one member id, or an empty list when nobody is."""
    _require_aware(at, "at")
    for override in reversed(overrides):
        if override.start <= at < override.end:
            return [override.member_id]
    zone = schedule.zone
    for layer in reversed(schedule.layers):
        member = layer_member_at(layer, zone, at)
        if member is not None:
            return [member]
    return []


def _sweep(events: list[tuple[datetime, bool, int, str, str]]) -> list[Shift]:
    # Every source has at most one segment open at a time, so `active` is keyed by priority.
    active: dict[int, tuple[str, str]] = {}
    pieces: list[Shift] = []
    index = 0
    previous: datetime | None = None
    while index < len(events):
        now = events[index][0]
        if previous is not None and active and previous < now:
            member, source = active[max(active)]
            pieces.append(Shift(member, previous, now, (source,)))
        while index < len(events) and events[index][0] == now:
            _, is_start, priority, member, source = events[index]
            if is_start:
                active[priority] = (member, source)
            else:
                active.pop(priority, None)
            index += 1
        previous = now
    return pieces


def _merge(pieces: list[Shift]) -> list[Shift]:
    merged: list[Shift] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if last and last.member_id == piece.member_id and last.end == piece.start:
            sources = last.sources + tuple(s for s in piece.sources if s not in last.sources)
            merged[-1] = Shift(last.member_id, last.start, piece.end, sources)
        else:
            merged.append(piece)
    return merged


def _require_aware(value: datetime, name: str) -> None:
    if value.utcoffset() is None:
        raise InvalidTimeRangeError(f"{name} must include a UTC offset")
    if not 1970 <= value.year <= 2999:
        raise InvalidTimeRangeError(f"{name} must be between 1970 and 2999")
