"""OpenAPI details of the trace routes that Powertools cannot infer from signatures: the
OTLP request body of `/v1/traces` (protobuf bytes or JSON) and the Tempo routes' bodies,
which are Tempo's own JSON objects (or protobuf) rather than models of ours."""

from __future__ import annotations

from typing import Any

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_OBJECT = {"schema": {"type": "object"}}

EXPORT_REQUEST: dict[str, Any] = {
    "type": "object",
    "title": "ExportTraceServiceRequest",
    "description": "OTLP JSON: ids in hex, times as decimal strings or numbers; null stands "
    "for a field's default, as in protobuf's JSON mapping",
    "properties": {
        "resourceSpans": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "resource": {"type": ["object", "null"]},
                    "scopeSpans": {"type": ["array", "null"], "items": {"type": "object"}},
                },
            },
        }
    },
}


def add_to(doc: dict[str, Any]) -> None:
    paths = doc.get("paths", {})
    export = paths.get("/v1/traces", {}).get("post")
    if export is not None:
        export["requestBody"] = {
            "required": True,
            "content": {
                "application/x-protobuf": _BINARY,
                "application/json": {"schema": EXPORT_REQUEST},
            },
        }
        export["responses"]["200"] = {
            "description": "Stored: an empty ExportTraceServiceResponse in the request's encoding",
            "content": {"application/x-protobuf": _BINARY, "application/json": _OBJECT},
        }
    for path, operations in paths.items():
        if not path.startswith("/tempo/"):
            continue
        ok = operations["get"]["responses"]["200"]
        if path == "/tempo/api/echo":
            ok["content"] = {"text/plain": {"schema": {"type": "string"}}}
        elif "/traces/" in path:
            ok["content"] = {"application/json": _OBJECT, "application/protobuf": _BINARY}
        else:
            ok["content"] = {"application/json": _OBJECT}
