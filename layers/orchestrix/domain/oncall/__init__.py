"""On-call schedules: definitions, who is on call, the rendered timeline and iCal export.

Pure domain code (stdlib + pydantic): no clock, no I/O. See `layer_timeline` for rotation and
restriction semantics, `wallclock` for DST rules and `timeline` for layer precedence.
"""

from orchestrix.domain.oncall.ical import render_ical
from orchestrix.domain.oncall.layer_timeline import layer_segments
from orchestrix.domain.oncall.models import (
    DailyRestriction,
    Layer,
    Override,
    Restriction,
    Rotation,
    Schedule,
    WeeklyRestriction,
)
from orchestrix.domain.oncall.timeline import InvalidTimeRangeError, Shift, on_call_at, shifts

__all__ = [
    "DailyRestriction",
    "InvalidTimeRangeError",
    "Layer",
    "Override",
    "Restriction",
    "Rotation",
    "Schedule",
    "Shift",
    "WeeklyRestriction",
    "layer_segments",
    "on_call_at",
    "render_ical",
    "shifts",
]
