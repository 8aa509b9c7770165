"""OTLP/HTTP protobuf: `ExportTraceServiceRequest` bytes to validated spans.

The message classes come from `opentelemetry-proto` (pure Python over the protobuf runtime
the layer already ships). Field names in errors are OTLP's JSON names, as for JSON bodies.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from orchestrix.adapters.traces import span_fields as check
from orchestrix.adapters.traces.errors import (
    InvalidSpanError,
    Loc,
    MalformedOtlpError,
    OtlpTooLargeError,
)
from orchestrix.domain.traces import UNKNOWN_SERVICE, Attributes, Span


def _value(value: Any, loc: Loc, depth: int = 0) -> dict[str, Any]:
    if depth > check.MAX_ATTRIBUTE_DEPTH:
        raise InvalidSpanError(f"nests deeper than {check.MAX_ATTRIBUTE_DEPTH} levels", loc)
    which = value.WhichOneof("value")
    if which == "string_value":
        return {"stringValue": check.text(value.string_value, loc)}
    if which == "bool_value":
        return {"boolValue": value.bool_value}
    if which == "int_value":
        return {"intValue": str(value.int_value)}
    if which == "double_value":
        return {"doubleValue": check.double(value.double_value)}
    if which == "bytes_value":
        return {"bytesValue": check.bytes_value(value.bytes_value)}
    if which == "array_value":
        items = value.array_value.values
        return {
            "arrayValue": {
                "values": [_value(v, (*loc, "values", i), depth + 1) for i, v in enumerate(items)]
            }
        }
    if which == "kvlist_value":
        return {"kvlistValue": {"values": _pairs(value.kvlist_value.values, loc, depth + 1)}}
    return {}


def _pairs(pairs: Any, loc: Loc, depth: int = 0) -> Attributes:
    out: Attributes = []
    for i, pair in enumerate(pairs):
        key = check.text(pair.key, (*loc, i, "key"))
        out.append({"key": key, "value": _value(pair.value, (*loc, i, "value"), depth)})
    return out


def service_name(resource: Attributes) -> str:
    for attribute in resource:
        if attribute["key"] == "service.name":
            name = attribute["value"].get("stringValue")
            if isinstance(name, str) and name:
                return name
    return UNKNOWN_SERVICE


def _span(
    raw: Any, loc: Loc, service: str, resource: Attributes, scope: dict[str, str], bounds: Any
) -> Span:
    trace_id = check.trace_id(raw.trace_id, (*loc, "traceId"))
    span_id = check.span_id(raw.span_id, (*loc, "spanId"))
    parent = check.parent_span_id(raw.parent_span_id, (*loc, "parentSpanId"))
    start, duration = check.times(raw.start_time_unix_nano, raw.end_time_unix_nano, bounds, loc)
    events = [
        {
            "timeUnixNano": str(event.time_unix_nano),
            "name": check.text(event.name, (*loc, "events", i, "name")),
            "attributes": _pairs(event.attributes, (*loc, "events", i, "attributes")),
        }
        for i, event in enumerate(raw.events)
    ]
    links = [
        {
            "traceId": check.trace_id(link.trace_id, (*loc, "links", i, "traceId")).hex(),
            "spanId": check.span_id(link.span_id, (*loc, "links", i, "spanId")).hex(),
            "traceState": check.text(link.trace_state, (*loc, "links", i, "traceState")),
            "attributes": _pairs(link.attributes, (*loc, "links", i, "attributes")),
        }
        for i, link in enumerate(raw.links)
    ]
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=check.text(raw.name, (*loc, "name")),
        kind=check.kind(raw.kind, (*loc, "kind")),
        start_ns=start,
        duration_ns=duration,
        service=service,
        status_code=check.status_code(raw.status.code, (*loc, "status", "code")),
        status_message=check.text(raw.status.message, (*loc, "status", "message")),
        trace_state=check.text(raw.trace_state, (*loc, "traceState")),
        scope=scope,
        resource=resource,
        attributes=_pairs(raw.attributes, (*loc, "attributes")),
        events=events,
        links=links,
    )


def decode(raw: bytes, bounds: tuple[int, int], max_spans: int) -> list[Span]:
    """Every span of the request, or the first problem found (nothing partial)."""
    try:
        request = ExportTraceServiceRequest.FromString(raw)
    except DecodeError as exc:
        raise MalformedOtlpError(
            f"body is not a valid OTLP ExportTraceServiceRequest protobuf message ({exc})"
        ) from exc
    spans: list[Span] = []
    for r, resource_spans in enumerate(request.resource_spans):
        rloc: Loc = ("resourceSpans", r)
        resource = _pairs(resource_spans.resource.attributes, (*rloc, "resource", "attributes"))
        service = service_name(resource)
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            sloc: Loc = (*rloc, "scopeSpans", s)
            scope = {
                "name": check.text(scope_spans.scope.name, (*sloc, "scope", "name")),
                "version": check.text(scope_spans.scope.version, (*sloc, "scope", "version")),
            }
            if len(spans) + len(scope_spans.spans) > max_spans:
                raise OtlpTooLargeError(f"request has more than {max_spans} spans; split it")
            for i, span in enumerate(scope_spans.spans):
                spans.append(_span(span, (*sloc, "spans", i), service, resource, scope, bounds))
    return spans
