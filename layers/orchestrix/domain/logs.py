"""Logs: streams of lines, what ingest hands the store, and what a search asks of it.

A stream is a label set (`{service_name="api", env="prod"}`), as in Loki; its lines carry
a nanosecond timestamp, the text, and optional structured metadata (severity, trace and
span ids, attributes) that is stored and returned but is not a stream label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrix.domain.errors import FieldError, ValidationFailed

Labels = tuple[tuple[str, str], ...]

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
DAY_NS = 86_400 * NS_PER_S
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
MAX_LABELS = 30
MAX_LABEL_VALUE = 2048
MAX_LINE_BYTES = 256 * 1024  # Loki's default max_line_size
# How far ahead of "now" a line may be stamped (clock skew), as Loki's creation grace period.
FUTURE_GRACE_NS = 10 * 60 * NS_PER_S


class BadLogRecord(ValidationFailed):
    """A record of an ingest request that cannot be stored; `errors` name each one.

    A 400, as the senders (Promtail, Alloy, OTel exporters) treat 4xx as "do not retry":
    nothing of the request is stored, and re-sending the same bad record cannot help.
    """

    status = 400
    title = "Invalid log record"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors)
        first = errors[0] if errors else None
        if first is not None:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            self.detail = f"{path_text(first.loc)}: {first.msg}{more}"
            self.args = (self.detail,)


def path_text(loc: tuple[str | int, ...]) -> str:
    """`("streams", 2, "values", 5, 0)` as the sender would write it: `streams[2].values[5][0]`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(slots=True)
class StreamBatch:
    """One stream's lines of one request, as columns (what the store's insert wants)."""

    labels: Labels
    fingerprint: int
    timestamps: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    metadata: list[str | None] = field(default_factory=list)  # JSON objects, or None


@dataclass(slots=True)
class LogBatch:
    streams: list[StreamBatch] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return sum(len(s.lines) for s in self.streams)

    def bounds(self) -> tuple[int, int] | None:
        stamps = [t for s in self.streams for t in (min(s.timestamps), max(s.timestamps)) if s]
        return (min(stamps), max(stamps)) if stamps else None


def label_errors(pairs: Sequence[tuple[str, str]], loc: tuple[str | int, ...]) -> list[FieldError]:
    """What is wrong with a stream's labels (names, sizes, duplicates), by field."""
    errors: list[FieldError] = []
    if not pairs:
        errors.append(FieldError(loc, "a stream needs at least one label"))
    if len(pairs) > MAX_LABELS:
        errors.append(FieldError(loc, f"{len(pairs)} labels; at most {MAX_LABELS} are allowed"))
    seen: set[str] = set()
    for name, value in pairs:
        if not LABEL_NAME.match(name):
            errors.append(FieldError((*loc, name), "invalid label name"))
        elif name in seen:
            errors.append(FieldError((*loc, name), "duplicate label name"))
        elif len(value) > MAX_LABEL_VALUE or "\x00" in value:
            errors.append(
                FieldError((*loc, name), f"value longer than {MAX_LABEL_VALUE} or holds NUL")
            )
        seen.add(name)
    return errors


def line_problem(line: str) -> str | None:
    """Why a line cannot be stored, or None."""
    if "\x00" in line:
        return "NUL characters are not allowed"
    try:
        size = len(line.encode("utf-8"))
    except UnicodeEncodeError:
        return "not valid Unicode (unpaired surrogate)"
    if size > MAX_LINE_BYTES:
        return f"line is {size} bytes; the limit is {MAX_LINE_BYTES}"
    return None


def timestamp_problem(ts: int, bounds: tuple[int, int]) -> str | None:
    low, high = bounds
    if ts < low:
        return f"timestamp {ts} ns is older than the retention period allows"
    if ts > high:
        return f"timestamp {ts} ns is more than 10 minutes in the future"
    return None
