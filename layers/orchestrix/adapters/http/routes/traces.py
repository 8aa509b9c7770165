"""/api/v1/traces — one trace, trace search, and the service map derived from spans."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit
from orchestrix.adapters.http.types import Rfc3339
from orchestrix.domain.pagination import DEFAULT_LIMIT
from orchestrix.domain.traces import (
    ServiceEdge,
    Span,
    StatusCode,
    TraceSearch,
    TraceSummary,
    tree_order,
)
from orchestrix.services.traces import parse_trace_id

router = Router()


def iso(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


def ns_of(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1_000_000) * 1000


class SpanOut(BaseModel):
    trace_id: str
    span_id: str
    parent_span_id: str | None
    depth: int
    service: str
    name: str
    kind: str
    status_code: str
    status_message: str
    start_time: datetime
    start_time_unix_nano: str
    duration_ms: float
    attributes: list[dict[str, Any]]
    resource: list[dict[str, Any]]
    scope: dict[str, str]
    events: list[dict[str, Any]]
    links: list[dict[str, Any]]

    @classmethod
    def of(cls, span: Span, depth: int = 0) -> SpanOut:
        return cls(
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_span_id=span.parent_span_id.hex() if span.parent_span_id else None,
            depth=depth,
            service=span.service,
            name=span.name,
            kind=span.kind.otlp_name,
            status_code=span.status_code.otlp_name,
            status_message=span.status_message,
            start_time=iso(span.start_ns),
            start_time_unix_nano=str(span.start_ns),
            duration_ms=span.duration_ns / 1e6,
            attributes=span.attributes,
            resource=span.resource,
            scope=span.scope,
            events=span.events,
            links=span.links,
        )


class TraceOut(BaseModel):
    trace_id: str
    span_count: int
    start_time: datetime
    duration_ms: float
    services: list[str]
    spans: list[SpanOut]  # depth first from the root; `depth` says how deep


class MatchedSpanOut(BaseModel):
    span_id: str
    service: str
    name: str
    status_code: str
    start_time: datetime
    duration_ms: float


class TraceSummaryOut(BaseModel):
    trace_id: str
    root_service: str
    root_name: str
    start_time: datetime
    duration_ms: float
    span_count: int
    matched: list[MatchedSpanOut]

    @classmethod
    def of(cls, found: TraceSummary) -> TraceSummaryOut:
        return cls(
            trace_id=found.trace_id.hex(),
            root_service=found.root_service,
            root_name=found.root_name,
            start_time=iso(found.start_ns),
            duration_ms=found.duration_ns / 1e6,
            span_count=found.span_count,
            matched=[
                MatchedSpanOut(
                    span_id=s.span_id.hex(),
                    service=s.service,
                    name=s.name,
                    status_code=s.status_code.otlp_name,
                    start_time=iso(s.start_ns),
                    duration_ms=s.duration_ns / 1e6,
                )
                for s in found.matched
            ],
        )


class TracePage(BaseModel):
    items: list[TraceSummaryOut]
    next_cursor: str | None


class ServiceNodeOut(BaseModel):
    service: str
    requests_in: int
    errors_in: int
    requests_out: int


class ServiceEdgeOut(BaseModel):
    client: str
    server: str
    requests: int
    errors: int
    error_rate: float
    latency_avg_ms: float
    latency_p50_ms: float
    latency_p95_ms: float

    @classmethod
    def of(cls, edge: ServiceEdge) -> ServiceEdgeOut:
        return cls(
            client=edge.client,
            server=edge.server,
            requests=edge.requests,
            errors=edge.errors,
            error_rate=edge.errors / edge.requests if edge.requests else 0.0,
            latency_avg_ms=edge.avg_ms,
            latency_p50_ms=edge.p50_ms,
            latency_p95_ms=edge.p95_ms,
        )


class ServiceMapOut(BaseModel):
    start: datetime
    end: datetime
    nodes: list[ServiceNodeOut]
    edges: list[ServiceEdgeOut]


Name = Annotated[str | None, Query(max_length=500)]
Time = Annotated[Rfc3339 | None, Query(description="RFC 3339; default: the last hour")]
Millis = Annotated[float | None, Query(ge=0, le=1e12)]
StatusName = Annotated[Literal["unset", "ok", "error"] | None, Query()]
TraceIdParam = Annotated[str, Path(max_length=32, description="32 hex digits")]


@router.get(
    "/api/v1/traces",
    tags=["traces"],
    summary="Search traces by service, operation, duration, status and time range",
    description="A trace matches when one of its spans meets every condition; newest first.",
)
def search_traces(
    service: Name = None,
    operation: Name = None,
    min_duration_ms: Millis = None,
    max_duration_ms: Millis = None,
    status: StatusName = None,
    start: Time = None,
    end: Time = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> TracePage:
    traces = bootstrap.trace_service()
    start_ns, end_ns = traces.default_range(ns_of(start), ns_of(end))
    search = TraceSearch(
        start_ns=start_ns,
        end_ns=end_ns,
        service=service,
        operation=operation,
        min_duration_ns=None if min_duration_ms is None else int(min_duration_ms * 1e6),
        max_duration_ns=None if max_duration_ms is None else int(max_duration_ms * 1e6),
        status=None if status is None else StatusCode[status.upper()],
    )
    page = traces.search(current_principal(router), search, limit, cursor)
    return TracePage(
        items=[TraceSummaryOut.of(t) for t in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/api/v1/traces/service-map",
    tags=["traces"],
    summary="Calls between services (client -> server) with request, error and latency figures",
)
def service_map(start: Time = None, end: Time = None) -> ServiceMapOut:
    traces = bootstrap.trace_service()
    start_ns, end_ns = traces.default_range(ns_of(start), ns_of(end))
    found = traces.service_map(current_principal(router), start_ns, end_ns)
    return ServiceMapOut(
        start=iso(start_ns),
        end=iso(end_ns),
        nodes=[ServiceNodeOut(**vars_of(n)) for n in found.nodes],
        edges=[ServiceEdgeOut.of(e) for e in found.edges],
    )


def vars_of(node: Any) -> dict[str, Any]:
    return {name: getattr(node, name) for name in node.__slots__}


@router.get(
    "/api/v1/traces/<trace_id>",
    tags=["traces"],
    summary="One trace: its spans depth first from the root",
)
def get_trace(trace_id: TraceIdParam) -> TraceOut:
    spans = bootstrap.trace_service().trace(current_principal(router), parse_trace_id(trace_id))
    first = min(s.start_ns for s in spans)
    last = max(s.end_ns for s in spans)
    return TraceOut(
        trace_id=spans[0].trace_id.hex(),
        span_count=len(spans),
        start_time=iso(first),
        duration_ms=(last - first) / 1e6,
        services=sorted({s.service for s in spans}),
        spans=[SpanOut.of(span, depth) for span, depth in tree_order(spans)],
    )
