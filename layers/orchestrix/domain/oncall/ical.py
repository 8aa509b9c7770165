"""iCalendar (RFC 5545) export of a rendered timeline, one VEVENT per shift.

Written by hand (no third-party library in the Lambda layer). Times are UTC (`...Z`), so no
VTIMEZONE is needed. UIDs are derived from the shift itself, so re-exporting an unchanged
timeline yields the same events and calendar clients update instead of duplicating.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from orchestrix.domain.oncall.timeline import Shift

_MAX_LINE_OCTETS = 75


def render_ical(
    schedule_name: str,
    shifts: Iterable[Shift],
    member_names: Mapping[str, str],
    prodid: str,
    *,
    dtstamp: datetime | None = None,
) -> str:
    """A VCALENDAR with one event per shift; SUMMARY is "On call: <member name>".

    `dtstamp` is the export time (pass the clock's now); by default each event's DTSTAMP
    is its start, which keeps the document byte-for-byte stable (cacheable, ETag-friendly).
    Members missing from `member_names` are shown by id.
    """
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        _prop("PRODID", prodid),
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        _prop("X-WR-CALNAME", f"On call: {schedule_name}"),
    ]
    for shift in shifts:
        name = member_names.get(shift.member_id, shift.member_id)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_uid(schedule_name, shift)}",
            f"DTSTAMP:{_utc(dtstamp or shift.start)}",
            f"DTSTART:{_utc(shift.start)}",
            f"DTEND:{_utc(shift.end)}",
            _prop("SUMMARY", f"On call: {name}"),
            _prop("DESCRIPTION", f"{name} is on call for {schedule_name}."),
            # On call is not "busy": keep free/busy lookups unaffected.
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _uid(schedule_name: str, shift: Shift) -> str:
    key = "\x1f".join((schedule_name, shift.member_id, _utc(shift.start), _utc(shift.end))).encode()
    return f"{hashlib.sha256(key).hexdigest()[:32]}@orchestrix"


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _prop(name: str, text: str) -> str:
    return f"{name}:{_escape(text)}"


def _escape(text: str) -> str:
    # RFC 5545 3.3.11: backslash first, then the separators; newlines become \n.
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _fold(line: str) -> str:
    """Split at 75 octets (RFC 5545 3.1) without cutting a UTF-8 character in two."""
    if len(line.encode()) <= _MAX_LINE_OCTETS:
        return line
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, _MAX_LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append("".join(current))
            # Continuation lines start with a space, which counts towards their 75 octets.
            current, size, limit = [], 0, _MAX_LINE_OCTETS - 1
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)
