"""OTLP/HTTP JSON: the protobuf JSON mapping with OTLP's exceptions (ids as hex, not
base64; enums as numbers, names accepted too; 64-bit integers as numbers or strings).

Parsed by hand rather than through `json_format`, so that every problem names its place
(`resourceSpans[0].scopeSpans[1].spans[3].traceId`) and hex ids need no second pass.
"""

from __future__ import annotations

import json
import math
from typing import Any

from orchestrix.adapters.traces import span_fields as check
from orchestrix.adapters.traces.errors import (
    InvalidSpanError,
    Loc,
    MalformedOtlpError,
    OtlpTooLargeError,
)
from orchestrix.adapters.traces.otlp_proto import service_name
from orchestrix.domain.traces import Attributes, Span, SpanKind, StatusCode

_SCALARS = ("stringValue", "boolValue", "intValue", "doubleValue", "bytesValue")


def _get(obj: dict[str, Any], camel: str) -> Any:
    """A field by its JSON name, or by its proto name (receivers must accept both)."""
    if camel in obj:
        return obj[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return obj.get(snake)


def _object(value: Any, loc: Loc) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedOtlpError("must be a JSON object", loc)
    return value


def _element(value: Any, loc: Loc) -> dict[str, Any]:
    """An item of a repeated message field: null is no message (proto3 JSON refuses it)."""
    if not isinstance(value, dict):
        raise MalformedOtlpError("must be a JSON object", loc)
    return value


def _list(value: Any, loc: Loc) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedOtlpError("must be a JSON array", loc)
    return value


def _string(value: Any, loc: Loc) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidSpanError("must be a string", loc)
    return check.text(value, loc)


def _uint(value: Any, loc: Loc) -> int:
    """An integer sent as a JSON number or a decimal string."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise InvalidSpanError("must be an integer", loc)
    if isinstance(value, int):
        number = value
    elif (
        isinstance(value, str)
        and value.strip().lstrip("-").isdigit()
        or isinstance(value, float)
        and value.is_integer()
    ):
        number = int(value)
    else:
        raise InvalidSpanError(f"{value!r} is not an integer", loc)
    if not -(2**63) <= number < 2**64:
        raise InvalidSpanError(f"{number} is out of range", loc)
    return number


def _hex_id(value: Any, loc: Loc) -> bytes:
    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        raise InvalidSpanError("must be a hex string", loc)
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise InvalidSpanError(f"{value[:40]!r} is not hexadecimal", loc) from None


def _enum(value: Any, names: type[SpanKind] | type[StatusCode], prefix: str, loc: Loc) -> int:
    if isinstance(value, str) and value.startswith(prefix):
        try:
            return int(names[value.removeprefix(prefix)])
        except KeyError:
            raise InvalidSpanError(f"{value!r} is not a known value", loc) from None
    return _uint(value, loc)


def _value(value: Any, loc: Loc, depth: int = 0) -> dict[str, Any]:
    if depth > check.MAX_ATTRIBUTE_DEPTH:
        raise InvalidSpanError(f"nests deeper than {check.MAX_ATTRIBUTE_DEPTH} levels", loc)
    value = _object(value, loc)
    if "arrayValue" in value:
        items = _list(_object(value["arrayValue"], loc).get("values"), (*loc, "arrayValue"))
        return {
            "arrayValue": {
                "values": [
                    _value(v, (*loc, "arrayValue", "values", i), depth + 1)
                    for i, v in enumerate(items)
                ]
            }
        }
    if "kvlistValue" in value:
        pairs = _object(value["kvlistValue"], loc).get("values")
        return {"kvlistValue": {"values": _pairs(pairs, (*loc, "kvlistValue", "values"), depth)}}
    for name in _SCALARS:
        if name in value:
            return {name: _scalar(name, value[name], (*loc, name))}
    return {}


def _scalar(name: str, raw: Any, loc: Loc) -> Any:
    if name == "stringValue":
        return _string(raw, loc)
    if name == "boolValue":
        if not isinstance(raw, bool):
            raise InvalidSpanError("must be true or false", loc)
        return raw
    if name == "intValue":
        return str(_uint(raw, loc))
    if name == "doubleValue":
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return check.double(float(raw))
        if raw in ("NaN", "Infinity", "-Infinity"):
            return raw
        raise InvalidSpanError("must be a number", loc)
    return _string(raw, loc)  # bytesValue: base64 text, kept as sent


def _pairs(raw: Any, loc: Loc, depth: int = 0) -> Attributes:
    out: Attributes = []
    for i, pair in enumerate(_list(raw, loc)):
        pair = _element(pair, (*loc, i))
        key = _string(pair.get("key"), (*loc, i, "key"))
        out.append({"key": key, "value": _value(pair.get("value"), (*loc, i, "value"), depth + 1)})
    return out


def _span(
    raw: Any,
    loc: Loc,
    service: str,
    resource: Attributes,
    scope: dict[str, str],
    bounds: tuple[int, int],
) -> Span:
    raw = _element(raw, loc)
    trace_id = check.trace_id(_hex_id(_get(raw, "traceId"), (*loc, "traceId")), (*loc, "traceId"))
    span_id = check.span_id(_hex_id(_get(raw, "spanId"), (*loc, "spanId")), (*loc, "spanId"))
    parent = check.parent_span_id(
        _hex_id(_get(raw, "parentSpanId"), (*loc, "parentSpanId")), (*loc, "parentSpanId")
    )
    start, duration = check.times(
        _uint(_get(raw, "startTimeUnixNano"), (*loc, "startTimeUnixNano")),
        _uint(_get(raw, "endTimeUnixNano"), (*loc, "endTimeUnixNano")),
        bounds,
        loc,
    )
    events = []
    for i, event in enumerate(_list(raw.get("events"), (*loc, "events"))):
        eloc = (*loc, "events", i)
        event = _element(event, eloc)
        events.append(
            {
                "timeUnixNano": str(_uint(_get(event, "timeUnixNano"), (*eloc, "timeUnixNano"))),
                "name": _string(event.get("name"), (*eloc, "name")),
                "attributes": _pairs(event.get("attributes"), (*eloc, "attributes")),
            }
        )
    links = []
    for i, link in enumerate(_list(raw.get("links"), (*loc, "links"))):
        lloc = (*loc, "links", i)
        link = _element(link, lloc)
        trace = _hex_id(_get(link, "traceId"), (*lloc, "traceId"))
        span = _hex_id(_get(link, "spanId"), (*lloc, "spanId"))
        links.append(
            {
                "traceId": check.trace_id(trace, (*lloc, "traceId")).hex(),
                "spanId": check.span_id(span, (*lloc, "spanId")).hex(),
                "traceState": _string(_get(link, "traceState"), (*lloc, "traceState")),
                "attributes": _pairs(link.get("attributes"), (*lloc, "attributes")),
            }
        )
    status = _object(raw.get("status"), (*loc, "status"))
    kind = _enum(raw.get("kind"), SpanKind, "SPAN_KIND_", (*loc, "kind"))
    code = _enum(status.get("code"), StatusCode, "STATUS_CODE_", (*loc, "status", "code"))
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=_string(raw.get("name"), (*loc, "name")),
        kind=check.kind(kind, (*loc, "kind")),
        start_ns=start,
        duration_ns=duration,
        service=service,
        status_code=check.status_code(code, (*loc, "status", "code")),
        status_message=_string(status.get("message"), (*loc, "status", "message")),
        trace_state=_string(_get(raw, "traceState"), (*loc, "traceState")),
        scope=scope,
        resource=resource,
        attributes=_pairs(raw.get("attributes"), (*loc, "attributes")),
        events=events,
        links=links,
    )


def decode(raw: bytes, bounds: tuple[int, int], max_spans: int) -> list[Span]:
    try:
        document = json.loads(raw, parse_constant=lambda name: math.nan)
    except (ValueError, RecursionError) as exc:
        raise MalformedOtlpError(f"body is not valid JSON ({exc})") from None
    request = _element(document, ())
    spans: list[Span] = []
    for r, resource_spans in enumerate(_list(_get(request, "resourceSpans"), ("resourceSpans",))):
        rloc: Loc = ("resourceSpans", r)
        resource_spans = _element(resource_spans, rloc)
        resource_obj = _object(resource_spans.get("resource"), (*rloc, "resource"))
        resource = _pairs(resource_obj.get("attributes"), (*rloc, "resource", "attributes"))
        service = service_name(resource)
        for s, scope_spans in enumerate(
            _list(_get(resource_spans, "scopeSpans"), (*rloc, "scopeSpans"))
        ):
            sloc: Loc = (*rloc, "scopeSpans", s)
            scope_spans = _element(scope_spans, sloc)
            scope_obj = _object(scope_spans.get("scope"), (*sloc, "scope"))
            scope = {
                "name": _string(scope_obj.get("name"), (*sloc, "scope", "name")),
                "version": _string(scope_obj.get("version"), (*sloc, "scope", "version")),
            }
            items = _list(scope_spans.get("spans"), (*sloc, "spans"))
            if len(spans) + len(items) > max_spans:
                raise OtlpTooLargeError(f"request has more than {max_spans} spans; split it")
            for i, span in enumerate(items):
                spans.append(_span(span, (*sloc, "spans", i), service, resource, scope, bounds))
    return spans
