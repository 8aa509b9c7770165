"""Spans, traces and what is asked of them: the trace model behind OTLP ingest and queries.

A span keeps OTLP's own units and forms (nanosecond times, raw byte ids, attributes in
OTLP's JSON shape) so that a trace can be handed back to an OTLP or Tempo client unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

UNKNOWN_SERVICE = "unknown_service"

# OTLP attributes in their JSON form: [{"key": "http.method", "value": {"stringValue": "GET"}}]
Attributes = list[dict[str, Any]]


class SpanKind(IntEnum):
    UNSPECIFIED = 0
    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5

    @property
    def otlp_name(self) -> str:
        return f"SPAN_KIND_{self.name}"


class StatusCode(IntEnum):
    UNSET = 0
    OK = 1
    ERROR = 2

    @property
    def otlp_name(self) -> str:
        return f"STATUS_CODE_{self.name}"


# The kinds at each end of a call between two services (OTel semantic conventions).
CALLER_KINDS = frozenset({SpanKind.CLIENT, SpanKind.PRODUCER})
CALLEE_KINDS = frozenset({SpanKind.SERVER, SpanKind.CONSUMER})


@dataclass(frozen=True, slots=True)
class Span:
    trace_id: bytes  # 16 bytes
    span_id: bytes  # 8 bytes
    parent_span_id: bytes | None  # None for a root span
    name: str
    kind: SpanKind
    start_ns: int
    duration_ns: int
    service: str
    status_code: StatusCode = StatusCode.UNSET
    status_message: str = ""
    trace_state: str = ""
    scope: dict[str, str] = field(default_factory=dict)  # {"name": ..., "version": ...}
    resource: Attributes = field(default_factory=list)
    attributes: Attributes = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # OTLP JSON Span.Event
    links: list[dict[str, Any]] = field(default_factory=list)  # OTLP JSON Span.Link

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns

    @property
    def is_error(self) -> bool:
        return self.status_code == StatusCode.ERROR


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """One request from a caller span in one service to its callee child in another."""

    client: str
    server: str
    failed: bool
    server_duration_ns: int
    client_duration_ns: int


@dataclass(frozen=True, slots=True)
class TraceSearch:
    """What a trace search asks for; every condition must hold for one span of the trace."""

    start_ns: int
    end_ns: int
    service: str | None = None
    operation: str | None = None
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    status: StatusCode | None = None


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """A trace found by a search: its root (or earliest span) and the spans that matched."""

    trace_id: bytes
    root_service: str
    root_name: str
    start_ns: int
    end_ns: int
    span_count: int
    matched: list[Span]
    matched_start_ns: int  # start of the first matching span: the search's sort key

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


@dataclass(frozen=True, slots=True)
class ServiceEdge:
    """Calls from `client` to `server` in a time range (the service map's edges)."""

    client: str
    server: str
    requests: int
    errors: int
    avg_ms: float
    p50_ms: float
    p95_ms: float


def tree_order(spans: list[Span]) -> list[tuple[Span, int]]:
    """Spans depth first (children by start time) with their depth; orphans (parent not
    stored, e.g. still in flight) start trees of their own after the roots."""
    ids = {span.span_id for span in spans}
    children: dict[bytes, list[Span]] = {}
    tops: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start_ns, s.span_id)):
        parent = span.parent_span_id
        if parent is None or parent not in ids or parent == span.span_id:
            tops.append(span)
        else:
            children.setdefault(parent, []).append(span)
    tops.sort(key=lambda s: (s.parent_span_id is not None, s.start_ns, s.span_id))
    ordered: list[tuple[Span, int]] = []
    seen: set[bytes] = set()
    stack = [(span, 0) for span in reversed(tops)]
    while stack:
        span, depth = stack.pop()
        if span.span_id in seen:  # a cycle of parent ids in hostile input
            continue
        seen.add(span.span_id)
        ordered.append((span, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))
    # Spans whose parent ids form a loop are reachable from no top: listed last, flat.
    ordered.extend((span, 0) for span in spans if span.span_id not in seen)
    return ordered
