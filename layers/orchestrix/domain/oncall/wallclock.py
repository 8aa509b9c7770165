"""Mapping between wall-clock times in a zone and UTC instants, DST included.

Schedules are defined in wall-clock time ("hand off at 09:00 Berlin time"), so every
boundary is computed as a naive local datetime first and converted here. Two wall-clock
times need a rule:

* skipped (spring forward, e.g. 02:30 on 2026-03-29 in Berlin): the first valid instant
  after it, i.e. the moment of the transition (03:00 local), as cron and PagerDuty do;
* repeated (fall back, e.g. 02:30 on 2026-10-25 in Berlin): the first occurrence.

Both rules keep the mapping monotonic, so boundaries never run backwards.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time shown in `zone` at `instant`."""
    return instant.astimezone(zone).replace(tzinfo=None)


def to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of naive wall-clock time `wall` in `zone` (see module rules)."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if to_local(first, zone) == wall:
        return first  # valid; fold=0 already picks the first of a repeated time
    return _transition_after_gap(wall, zone)


def _transition_after_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    # fold=0 reads `wall` with the offset before the gap (an instant after the transition),
    # fold=1 with the offset after it (an instant before): the transition lies in between.
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = sorted((math.floor(before.timestamp()), math.ceil(after.timestamp())))
    offset_before = _offset_at(low, zone)
    # Transitions fall on whole seconds: bisect for the first second with the new offset.
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_at(middle, zone) == offset_before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _offset_at(timestamp: int, zone: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(timestamp, zone).utcoffset()
