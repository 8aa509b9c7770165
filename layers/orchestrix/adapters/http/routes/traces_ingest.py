"""POST /v1/traces — OTLP/HTTP trace export (protobuf or JSON, optionally gzip).

Success is 200 with an empty ExportTraceServiceResponse in the request's encoding, as
OTLP/HTTP specifies. A request is stored whole or not at all: one bad span is a 400
problem+json naming it (`resourceSpans[0].scopeSpans[1].spans[3].traceId`), which an OTLP
exporter does not retry; only a failure a retry can cure (the database down) is a 503.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal, raw_body
from orchestrix.adapters.http.problems import problem
from orchestrix.adapters.traces import OtlpIngestError, decode_export
from orchestrix.adapters.traces.request import JSON_TYPE, media_type
from orchestrix.domain.identity import Scope

router = Router()


def _body() -> bytes:
    return raw_body(router)


def _header(name: str) -> str | None:
    lowered = name.lower()
    for key, value in (router.current_event.headers or {}).items():
        if key.lower() == lowered:
            return str(value)
    return None


@router.post(
    "/v1/traces",
    tags=["traces"],
    summary="OTLP/HTTP trace export (application/x-protobuf or application/json, gzip)",
    description="Needs an ingestion key with the `traces:write` scope. Answers 200 with an "
    "empty ExportTraceServiceResponse; a bad span is a 400 naming it and nothing is stored.",
    responses={200: {"description": "stored (an empty ExportTraceServiceResponse)"}},
)
def export_traces() -> Response[str]:
    principal = current_principal(router)
    principal.require_scope(Scope.TRACES_WRITE)  # before any decoding work for the caller
    service = bootstrap.trace_service()
    content_type = _header("Content-Type")
    spans = decode_export(
        _body(),
        content_type=content_type,
        content_encoding=_header("Content-Encoding"),
        bounds=service.accepted_starts(),
    )
    service.ingest(principal, spans)
    if media_type(content_type) == JSON_TYPE:
        return Response(200, JSON_TYPE, "{}")
    return Response(200, "application/x-protobuf", "")


def on_otlp_error(exc: OtlpIngestError) -> Response[str]:
    errors = [{"loc": list(exc.loc), "msg": str(exc)}] if exc.loc else None
    return problem(exc.status, exc.detail, title=exc.title, errors=errors)
