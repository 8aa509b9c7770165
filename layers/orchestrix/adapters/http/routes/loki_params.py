"""Loki's parameter formats, shared by the Loki API and the log search API.

Times: Unix nanoseconds (more than 10 digits), Unix seconds (10 digits or fewer, or with a
fraction), or RFC 3339. Durations: seconds (fractions allowed) or `5m`, `1h30m`.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from orchestrix.domain.logs import NS_PER_S
from orchestrix.logql.parse import LogQLError, parse_duration_ns
from orchestrix.services.logs import LogQueryError

_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?\Z")
MAX_NS = 2**63 - 1


def time_ns(name: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    ns = _parse_time(value)
    if ns is None:
        raise LogQueryError.at(
            name, f'cannot parse "{value}" as Unix seconds, nanoseconds or RFC 3339'
        )
    if not 0 <= ns <= MAX_NS:
        raise LogQueryError.at(name, f'"{value}" is out of range')
    return ns


def _parse_time(value: str) -> int | None:
    if value.isascii() and value.isdigit():
        number = int(value)
        return number * NS_PER_S if len(value) <= 10 else number
    if _SECONDS.match(value):
        seconds = float(value)
        return int(seconds * NS_PER_S) if math.isfinite(seconds) else None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            return None
        return int(parsed.timestamp()) * NS_PER_S + parsed.microsecond * 1000
    except (ValueError, OverflowError):  # year 1 at +14:00 lies before the epoch's range
        return None


def duration_ns(name: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if _SECONDS.match(value):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds <= 0 or seconds > 10**9:
            raise LogQueryError.at(name, "must be a positive duration")
        return int(seconds * NS_PER_S)
    try:
        return parse_duration_ns(value)
    except LogQLError as exc:
        raise LogQueryError.at(name, str(exc)) from None


def default_step_ns(start_ns: int, end_ns: int) -> int:
    """Loki's default resolution: about 250 points, at least one second apart."""
    return max((end_ns - start_ns) // 250 // NS_PER_S, 1) * NS_PER_S
