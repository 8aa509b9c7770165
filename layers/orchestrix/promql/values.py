"""Value types of the PromQL engine.

Labels are immutable, hashable and sorted: a tuple of ``(name, value)`` pairs ordered by name,
so two equal label sets compare and hash equal and the natural tuple order is Prometheus'
``labels.Compare`` order (byte order of names, then values).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]

METRIC_NAME = "__name__"
BUCKET_LABEL = "le"
EMPTY_LABELS: Labels = ()

# Prometheus marks the end of a series with this exact NaN bit pattern (value.StaleNaN).
STALE_NAN_BITS = 0x7FF0000000000002
STALE_NAN: float = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]


def is_stale_nan(v: float) -> bool:
    """True only for the staleness marker, not for an ordinary NaN."""
    return v != v and struct.unpack("<Q", struct.pack("<d", v))[0] == STALE_NAN_BITS


def labels_of(pairs: Iterable[tuple[str, str]] | dict[str, str]) -> Labels:
    """Build a sorted label set, dropping empty values (an empty value means 'absent')."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return tuple(sorted((n, v) for n, v in items if v != ""))


def label_get(ls: Labels, name: str) -> str:
    for n, v in ls:
        if n == name:
            return v
    return ""


def label_set(ls: Labels, name: str, value: str) -> Labels:
    rest = [(n, v) for n, v in ls if n != name]
    if value != "":
        rest.append((name, value))
        rest.sort()
    return tuple(rest)


def labels_without(ls: Labels, names: Iterable[str]) -> Labels:
    drop = set(names)
    return tuple((n, v) for n, v in ls if n not in drop)


def labels_keep(ls: Labels, names: Iterable[str]) -> Labels:
    keep = set(names)
    return tuple((n, v) for n, v in ls if n in keep)


def drop_metric_name(ls: Labels) -> Labels:
    if ls and ls[0][0] <= METRIC_NAME:
        return tuple((n, v) for n, v in ls if n != METRIC_NAME)
    return ls


def format_labels(ls: Labels) -> str:
    """Prometheus' labels.String(): ``{__name__="up", job="x"}``."""
    inner = ", ".join(f"{n}={quote_go(v)}" for n, v in ls)
    return "{" + inner + "}"


def quote_go(s: str) -> str:
    """Go's strconv.Quote for the characters label values usually contain."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # an invalid UTF-8 byte kept as surrogate escape
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclass(slots=True)
class Series:
    """A stored time series: parallel, time-ordered timestamps (ms) and float values."""

    labels: Labels
    timestamps: Sequence[int]
    values: Sequence[float]


@dataclass(slots=True)
class Sample:
    """One element of an instant vector."""

    labels: Labels
    t: int
    v: float


@dataclass(slots=True)
class RangeSeries:
    """One element of a matrix: a label set and its (timestamp ms, value) points."""

    labels: Labels
    points: list[tuple[int, float]] = field(default_factory=list)


@dataclass(slots=True)
class Scalar:
    t: int
    v: float


@dataclass(slots=True)
class String:
    t: int
    v: str


Vector = list[Sample]
Matrix = list[RangeSeries]
Value = Vector | Matrix | Scalar | String


def is_finite(v: float) -> bool:
    return not (math.isinf(v) or math.isnan(v))
