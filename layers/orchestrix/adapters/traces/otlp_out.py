"""Stored spans back in OTLP's shapes: JSON `resourceSpans` and protobuf bytes.

Tempo's trace-by-id answer is `{"batches": [ResourceSpans...]}` (v1) or
`{"trace": {"resourceSpans": [...]}}` (v2); in protobuf, `tempopb.Trace` has the same wire
form as `ExportTraceServiceRequest` (ResourceSpans in field 1), which is what Grafana's
Tempo data source asks for with `Accept: application/protobuf`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from orchestrix.domain.traces import Span


def span_json(span: Span) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": span.trace_id.hex(),
        "spanId": span.span_id.hex(),
        "name": span.name,
        "kind": int(span.kind),
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": span.attributes,
        "status": {"code": int(span.status_code)},
    }
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id.hex()
    if span.trace_state:
        out["traceState"] = span.trace_state
    if span.status_message:
        out["status"]["message"] = span.status_message
    if span.events:
        out["events"] = span.events
    if span.links:
        out["links"] = span.links
    return out


def resource_spans(spans: list[Span]) -> list[dict[str, Any]]:
    """Spans grouped by resource, then by instrumentation scope, in first-seen order."""
    resources: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for span in spans:
        resource_key = json.dumps(span.resource, sort_keys=True)
        scope_key = json.dumps(span.scope, sort_keys=True)
        resources.setdefault(resource_key, {}).setdefault(scope_key, []).append(span_json(span))
    return [
        {
            "resource": {"attributes": json.loads(resource_key)},
            "scopeSpans": [
                {"scope": {k: v for k, v in json.loads(scope_key).items() if v}, "spans": items}
                for scope_key, items in scopes.items()
            ],
        }
        for resource_key, scopes in resources.items()
    ]


def _base64_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                base64.b64encode(bytes.fromhex(item)).decode()
                if key in ("traceId", "spanId", "parentSpanId")
                else _base64_ids(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_base64_ids(item) for item in value]
    return value


def protobuf(spans: list[Span]) -> bytes:
    """The spans as a serialized ExportTraceServiceRequest (= tempopb.Trace on the wire)."""
    from google.protobuf import json_format  # type: ignore[import-untyped]
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    document = {"resourceSpans": _base64_ids(resource_spans(spans))}
    message = json_format.ParseDict(document, ExportTraceServiceRequest())
    data: bytes = message.SerializeToString()
    return data
