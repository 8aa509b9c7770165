"""Checks shared by the protobuf and JSON decoders: one rule per span field, one place.

Each raises `InvalidSpanError` naming the field; nothing is stored from a request in which
any span fails (the decoders build the whole list before the store sees any of it).
"""

from __future__ import annotations

import base64
import math

from orchestrix.adapters.traces.errors import InvalidSpanError, Loc
from orchestrix.domain import storable
from orchestrix.domain.traces import SpanKind, StatusCode

# OTLP times are uint64 nanoseconds; PostgreSQL's bigint (and our day partitions) end in 2262.
MAX_NS = 2**63 - 1
MAX_ATTRIBUTE_DEPTH = 16


def trace_id(raw: bytes, loc: Loc) -> bytes:
    if len(raw) != 16:
        raise InvalidSpanError(f"must be 16 bytes (32 hex digits), got {len(raw)}", loc)
    if not any(raw):
        raise InvalidSpanError("must not be all zeros", loc)
    return raw


def span_id(raw: bytes, loc: Loc) -> bytes:
    if len(raw) != 8:
        raise InvalidSpanError(f"must be 8 bytes (16 hex digits), got {len(raw)}", loc)
    if not any(raw):
        raise InvalidSpanError("must not be all zeros", loc)
    return raw


def parent_span_id(raw: bytes, loc: Loc) -> bytes | None:
    return None if not raw else span_id(raw, loc)


def kind(number: int, loc: Loc) -> SpanKind:
    try:
        return SpanKind(number)
    except ValueError:
        raise InvalidSpanError(f"{number} is not an OTLP SpanKind (0-5)", loc) from None


def status_code(number: int, loc: Loc) -> StatusCode:
    try:
        return StatusCode(number)
    except ValueError:
        raise InvalidSpanError(f"{number} is not an OTLP status code (0-2)", loc) from None


def times(start: int, end: int, bounds: tuple[int, int], loc: Loc) -> tuple[int, int]:
    """(start_ns, duration_ns); `bounds` is the inclusive range a start may take."""
    lo, hi = bounds
    if start <= 0:
        raise InvalidSpanError("is missing or zero", (*loc, "startTimeUnixNano"))
    if not lo <= start <= hi:
        raise InvalidSpanError(
            f"{start} is outside the accepted range [{lo}, {hi}] (not more than the "
            "retention period in the past nor 10 minutes in the future)",
            (*loc, "startTimeUnixNano"),
        )
    if end < start or end > MAX_NS:
        raise InvalidSpanError(
            f"{end} is before startTimeUnixNano {start}", (*loc, "endTimeUnixNano")
        )
    return start, end - start


def text(value: str, loc: Loc) -> str:
    problem = storable.text_problem(value)
    if problem is not None:
        raise InvalidSpanError(str(problem), loc)
    return value


def double(value: float) -> float | str:
    """A double as OTLP JSON writes it: jsonb has no NaN or infinities."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def bytes_value(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hex_id(raw: bytes) -> str:
    return raw.hex()
