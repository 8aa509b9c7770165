"""Who a single layer puts on call, computed turn by turn in wall-clock arithmetic.

Turn boundaries are `handoff_time` on the local day of the layer's `start`, plus or minus
whole turn lengths, added as naive wall-clock time and only then converted to UTC. A daily
09:00 handoff therefore stays at 09:00 local across DST (that turn lasts 23 h or 25 h).

member[0] is on call from `start` to the first boundary after it; when `start` comes before
that day's `handoff_time`, member[0] also keeps the following full turn, so a weekly layer
starting Monday 08:00 with a 09:00 handoff opens with a full week, not a one-hour stub.

Restrictions mask the rotation without pausing it: the member whose turn it is covers the
restriction windows inside that turn; a handoff inside a window splits the window.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from orchestrix.domain.oncall.models import (
    WEEKDAYS,
    DailyRestriction,
    Layer,
    WeeklyRestriction,
)
from orchestrix.domain.oncall.wallclock import to_instant, to_local

Interval = tuple[datetime, datetime]
Segment = tuple[datetime, datetime, str]  # start, end, member_id

_ONE_DAY = timedelta(days=1)
_ONE_WEEK = timedelta(weeks=1)
_TICK = timedelta(microseconds=1)


class _Turns:
    """Turn k (k >= 0) runs from boundary(k) to boundary(k + 1); boundary(0) is `start`."""

    def __init__(self, layer: Layer, zone: ZoneInfo) -> None:
        self._zone = zone
        self._length = layer.turn_length
        self._members = layer.members
        self._start = layer.start.astimezone(UTC)
        start_wall = to_local(layer.start, zone)
        handoff = datetime.combine(start_wall.date(), layer.handoff_time)
        if handoff <= start_wall:  # last handoff point at or before start
            self._anchor = handoff + ((start_wall - handoff) // self._length) * self._length
        else:  # first handoff point at or after start: member[0] keeps the lead-in
            self._anchor = handoff - ((handoff - start_wall) // self._length) * self._length

    def boundary(self, k: int) -> datetime:
        if k == 0:
            return self._start
        return to_instant(self._anchor + k * self._length, self._zone)

    def member(self, k: int) -> str:
        return self._members[k % len(self._members)]

    def index_at(self, instant: datetime) -> int:
        """The turn containing `instant` (which must not precede the layer's start)."""
        # Estimate from wall-clock time, then correct by a step at most around DST changes.
        k = max(0, (to_local(instant, self._zone) - self._anchor) // self._length)
        while k > 0 and self.boundary(k) > instant:
            k -= 1
        while self.boundary(k + 1) <= instant:
            k += 1
        return k


def layer_segments(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Segment]:
    """The layer's own on-call segments within [start, end), sorted, UTC."""
    low = max(start, layer.start).astimezone(UTC)
    high = min(end, layer.end).astimezone(UTC) if layer.end else end.astimezone(UTC)
    if low >= high:
        return []
    turns = _Turns(layer, zone)
    segments: list[Segment] = []
    k = turns.index_at(low)
    turn_start = turns.boundary(k)
    while turn_start < high:
        turn_end = turns.boundary(k + 1)
        piece_start, piece_end = max(turn_start, low), min(turn_end, high)
        if piece_start < piece_end:  # turns inside a DST gap can be empty
            segments.append((piece_start, piece_end, turns.member(k)))
        k, turn_start = k + 1, turn_end
    if not layer.restrictions:
        return segments
    return _intersect(segments, restriction_windows(layer, zone, low, high))


def layer_member_at(layer: Layer, zone: ZoneInfo, at: datetime) -> str | None:
    """Who this layer puts on call at `at`, or None (not started, ended, or restricted)."""
    if at < layer.start or (layer.end is not None and at >= layer.end):
        return None
    if layer.restrictions and not restriction_windows(layer, zone, at, at + _TICK):
        return None
    turns = _Turns(layer, zone)
    return turns.member(turns.index_at(at))


def restriction_windows(
    layer: Layer, zone: ZoneInfo, start: datetime, end: datetime
) -> list[Interval]:
    """Union of the layer's restriction windows, clipped to [start, end), sorted, UTC."""
    # A window may start up to a week before `start` (weekly) and still reach into it.
    first_day = to_local(start, zone).date() - _ONE_DAY
    last_day = to_local(end, zone).date()
    windows: list[Interval] = []
    for restriction in layer.restrictions:
        if isinstance(restriction, DailyRestriction):
            raw = _daily_windows(restriction, first_day, last_day)
        else:
            raw = _weekly_windows(restriction, first_day, last_day)
        for wall_start, wall_end in raw:
            window_start, window_end = to_instant(wall_start, zone), to_instant(wall_end, zone)
            if window_start < end and window_end > start and window_start < window_end:
                windows.append((max(window_start, start), min(window_end, end)))
    return _union(windows)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY


def _daily_windows(
    restriction: DailyRestriction, first_day: date, last_day: date
) -> Iterator[tuple[datetime, datetime]]:
    overnight = restriction.end_time <= restriction.start_time
    allowed = {WEEKDAYS.index(d) for d in restriction.days}
    for day in _days(first_day, last_day):
        if day.weekday() in allowed:
            end_day = day + _ONE_DAY if overnight else day
            yield (
                datetime.combine(day, restriction.start_time),
                datetime.combine(end_day, restriction.end_time),
            )


def _weekly_windows(
    restriction: WeeklyRestriction, first_day: date, last_day: date
) -> Iterator[tuple[datetime, datetime]]:
    start_offset = timedelta(days=WEEKDAYS.index(restriction.start_day))
    end_offset = timedelta(days=WEEKDAYS.index(restriction.end_day))
    if (end_offset, restriction.end_time) <= (start_offset, restriction.start_time):
        end_offset += _ONE_WEEK  # wraps into the next week
    monday = first_day - timedelta(days=first_day.weekday()) - _ONE_WEEK
    while monday <= last_day:
        yield (
            datetime.combine(monday + start_offset, restriction.start_time),
            datetime.combine(monday + end_offset, restriction.end_time),
        )
        monday += _ONE_WEEK


def _union(windows: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for window_start, window_end in sorted(windows):
        if merged and window_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], window_end))
        else:
            merged.append((window_start, window_end))
    return merged


def _intersect(segments: Sequence[Segment], windows: Sequence[Interval]) -> list[Segment]:
    result: list[Segment] = []
    i = j = 0
    while i < len(segments) and j < len(windows):
        seg_start, seg_end, member = segments[i]
        win_start, win_end = windows[j]
        piece_start, piece_end = max(seg_start, win_start), min(seg_end, win_end)
        if piece_start < piece_end:
            result.append((piece_start, piece_end, member))
        if seg_end <= win_end:
            i += 1
        else:
            j += 1
    return result
