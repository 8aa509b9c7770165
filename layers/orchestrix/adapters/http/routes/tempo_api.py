"""A Tempo-compatible read API under /tempo, so Grafana's Tempo data source (URL
`https://<api>/tempo`) can open traces and search them.

- `GET /tempo/api/traces/{id}`: `{"batches": [ResourceSpans...]}`, or with
  `Accept: application/protobuf` the `tempopb.Trace` bytes Grafana asks for;
- `GET /tempo/api/v2/traces/{id}`: `{"trace": {"resourceSpans": [...]}}` (protobuf:
  `TraceByIDResponse`);
- `GET /tempo/api/search`: Tempo's tag search (`tags=service.name=x name=y status=error`,
  `minDuration`, `maxDuration`, `limit`, `start`/`end` in unix seconds);
- `GET /tempo/api/search/tags`, `/tempo/api/search/tag/{tag}/values`, `/tempo/api/echo`.
TraceQL (`q=`) is not implemented; the tag search covers Grafana's search form.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal
from orchestrix.adapters.traces import otlp_out
from orchestrix.domain.errors import ValidationFailed
from orchestrix.domain.traces import StatusCode, TraceSearch
from orchestrix.services.traces import parse_trace_id

router = Router()

PROTOBUF = "application/protobuf"
_TAGS = {"service.name": "service", "name": "name"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)\Z")
_UNIT_NS = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}

TraceIdParam = Annotated[str, Path(max_length=32, description="up to 32 hex digits")]
Text = Annotated[str | None, Query(max_length=1000)]
Seconds = Annotated[int | None, Query(ge=0, le=9_000_000_000)]


def _json(body: Any) -> Response[str]:
    return Response(200, "application/json", json.dumps(body))


def _wants_protobuf() -> bool:
    accept = router.current_event.headers.get("Accept") or next(
        (v for k, v in (router.current_event.headers or {}).items() if k.lower() == "accept"), ""
    )
    return PROTOBUF in str(accept) or "application/x-protobuf" in str(accept)


def _trace_spans(trace_id: str) -> Any:
    return bootstrap.trace_service().trace(current_principal(router), parse_trace_id(trace_id))


@router.get("/tempo/api/echo", tags=["tempo"], summary="Tempo's liveness check")
def echo() -> Response[str]:
    return Response(200, "text/plain", "echo")


def _trace(trace_id: str, wrap: str) -> Response[str]:
    """The trace as Tempo's JSON (`{wrap: [ResourceSpans...]}`, or nested for v2) or, when
    asked for, as protobuf."""
    spans = _trace_spans(trace_id)
    v2 = wrap == "trace"
    if _wants_protobuf():
        trace = otlp_out.protobuf(spans)
        # TraceByIDResponse holds the Trace in its field 1
        return _binary(b"\x0a" + _varint(len(trace)) + trace if v2 else trace)
    batches = otlp_out.resource_spans(spans)
    return _json({"trace": {"resourceSpans": batches}} if v2 else {"batches": batches})


@router.get(
    "/tempo/api/traces/<trace_id>",
    tags=["tempo"],
    summary="Tempo trace by id: {batches} JSON, or tempopb.Trace for Accept: application/protobuf",
)
def tempo_trace(trace_id: TraceIdParam) -> Response[str]:
    return _trace(trace_id, "batches")


@router.get(
    "/tempo/api/v2/traces/<trace_id>",
    tags=["tempo"],
    summary="Tempo v2 trace by id: {trace: {resourceSpans: [...]}}",
)
def tempo_trace_v2(trace_id: TraceIdParam) -> Response[str]:
    return _trace(trace_id, "trace")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _binary(data: bytes) -> Response[str]:
    # Already base64 and flagged so: a bytes body would go through the response validation
    # as text and fail to decode.
    response = Response(200, PROTOBUF, base64.b64encode(data).decode())
    response.base64_encoded = True
    return response


def _duration_ns(text: str | None, name: str) -> int | None:
    if not text:
        return None
    match = _DURATION.match(text.strip())
    if not match:
        raise ValidationFailed.single(("query", name), "must be a duration such as 100ms or 1.5s")
    return int(float(match.group(1)) * _UNIT_NS[match.group(2)])


def _tags(text: str | None) -> dict[str, str]:
    """Tempo's logfmt `tags` parameter: `service.name=api name="GET /x" status=error`."""
    if not text:
        return {}
    try:
        words = shlex.split(text)
    except ValueError:
        raise ValidationFailed.single(("query", "tags"), "is not logfmt (key=value ...)") from None
    tags: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or key not in (*_TAGS, "status"):
            raise ValidationFailed.single(
                ("query", "tags"), f"{key!r}: the tags searched are service.name, name, status"
            )
        tags[key] = value
    return tags


@router.get("/tempo/api/search", tags=["tempo"], summary="Tempo tag search")
def tempo_search(
    tags: Text = None,
    minDuration: Text = None,  # noqa: N803 - Tempo's parameter names
    maxDuration: Text = None,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    start: Seconds = None,
    end: Seconds = None,
    q: Text = None,
) -> Response[str]:
    if q:
        # Answering a TraceQL query with the unfiltered tag search would mislead.
        raise ValidationFailed.single(
            ("query", "q"), "TraceQL is not supported; search with tags=, minDuration=, ..."
        )
    wanted = _tags(tags)
    status = wanted.get("status")
    if status is not None and status.upper() not in StatusCode.__members__:
        raise ValidationFailed.single(("query", "tags"), "status is unset, ok or error")
    traces = bootstrap.trace_service()
    start_ns, end_ns = traces.default_range(
        None if start is None else start * 1_000_000_000,
        None if end is None else end * 1_000_000_000,
    )
    search = TraceSearch(
        start_ns=start_ns,
        end_ns=end_ns,
        service=wanted.get("service.name"),
        operation=wanted.get("name"),
        min_duration_ns=_duration_ns(minDuration, "minDuration"),
        max_duration_ns=_duration_ns(maxDuration, "maxDuration"),
        status=None if status is None else StatusCode[status.upper()],
    )
    page = traces.search(current_principal(router), search, limit, None)
    return _json(
        {
            "traces": [
                {
                    "traceID": t.trace_id.hex(),
                    "rootServiceName": t.root_service,
                    "rootTraceName": t.root_name,
                    "startTimeUnixNano": str(t.start_ns),
                    "durationMs": t.duration_ns // 1_000_000,
                    "spanSet": {
                        "spans": [
                            {
                                "spanID": s.span_id.hex(),
                                "name": s.name,
                                "startTimeUnixNano": str(s.start_ns),
                                "durationNanos": str(s.duration_ns),
                            }
                            for s in t.matched
                        ],
                        "matched": len(t.matched),
                    },
                }
                for t in page.items
            ],
            "metrics": {"inspectedTraces": len(page.items)},
        }
    )


@router.get("/tempo/api/search/tags", tags=["tempo"], summary="Tag names Tempo search takes")
def tempo_tags() -> Response[str]:
    current_principal(router)
    return _json({"tagNames": [*_TAGS, "status"]})


@router.get("/tempo/api/search/tag/<tag>/values", tags=["tempo"], summary="Values seen for a tag")
def tempo_tag_values(
    tag: Annotated[str, Path(max_length=100)], start: Seconds = None, end: Seconds = None
) -> Response[str]:
    traces = bootstrap.trace_service()
    principal = current_principal(router)
    if tag == "status":
        return _json({"tagValues": ["unset", "ok", "error"]})
    if tag not in _TAGS:
        return _json({"tagValues": []})
    start_ns, end_ns = traces.default_range(
        None if start is None else start * 1_000_000_000,
        None if end is None else end * 1_000_000_000,
    )
    return _json({"tagValues": traces.tag_values(principal, _TAGS[tag], start_ns, end_ns)})
