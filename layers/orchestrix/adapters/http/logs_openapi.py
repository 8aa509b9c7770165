"""OpenAPI operations of the log ingest routes, written out by hand (raw, maybe compressed
bodies in three wire formats, which Powertools cannot infer from signatures), and the form
bodies of the Loki read routes' POSTs (Powertools documents their fields as a query string)."""

from __future__ import annotations

from typing import Any

from orchestrix import wiring
from orchestrix.adapters.http.metrics_openapi import PROBLEM_REF

_PROBLEM = {"application/problem+json": {"schema": PROBLEM_REF}}
_BINARY = {"type": "string", "format": "binary"}
_ERRORS = {
    "400": "A bad record; `errors[].loc` names each one (`streams[2].values[5][0]`); nothing "
    "of the request is stored",
    "401": "Missing, invalid, revoked or expired credentials",
    "403": "The key lacks the logs:write scope",
    "413": "Body or decompressed body over the limits",
    "415": "Unsupported Content-Type or Content-Encoding",
    "503": "The store is unavailable; retry",
}
_ENCODING = {
    "name": "Content-Encoding",
    "in": "header",
    "required": False,
    # empty: none (identity); Loki push without it: snappy, as Promtail sends it
    "schema": {"type": "string", "enum": ["gzip", "snappy", "identity", ""]},
}
_LOKI_JSON = {
    "type": "object",
    "required": ["streams"],
    "properties": {
        "streams": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["stream", "values"],
                "properties": {
                    "stream": {"type": "object", "additionalProperties": {"type": "string"}},
                    "values": {
                        "type": "array",
                        "items": {"type": "array", "minItems": 2, "maxItems": 3},
                    },
                },
            },
        }
    },
}
_OPERATIONS: dict[str, dict[str, Any]] = {
    "/v1/logs": {
        "summary": "OTLP/HTTP logs (ExportLogsServiceRequest, protobuf or JSON)",
        "content": {
            "application/x-protobuf": {"schema": _BINARY},
            "application/json": {"schema": {"type": "object"}},
        },
        "success": {
            "200": {
                "description": "Stored: an empty ExportLogsServiceResponse",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/x-protobuf": {"schema": _BINARY},
                },
            }
        },
    },
    "/loki/api/v1/push": {
        "summary": "Loki push (snappy-compressed protobuf PushRequest, as Promtail sends, or JSON)",
        "content": {
            "application/x-protobuf": {"schema": _BINARY},
            "application/json": {"schema": _LOKI_JSON},
        },
        "success": {"204": {"description": "Stored"}},
    },
    "/api/v1/logs/ingest": {
        "summary": "JSON lines: {labels, line, timestamp?, metadata?} per line",
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        "success": {
            "200": {
                "description": "Stored",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["accepted"],
                            "properties": {"accepted": {"type": "integer", "minimum": 0}},
                        }
                    }
                },
            }
        },
    },
}


def _operation(path: str) -> dict[str, Any]:
    spec = _OPERATIONS[path]
    responses: dict[str, Any] = dict(spec["success"])
    for status, description in _ERRORS.items():
        responses[status] = {"description": description, "content": _PROBLEM}
    return {
        "tags": ["logs"],
        "summary": spec["summary"],
        "description": "Needs an API key with the logs:write scope (Bearer, or the Basic "
        "password). A request is stored whole or refused whole.",
        "operationId": "post_" + path.strip("/").replace("/", "_"),
        "parameters": [_ENCODING],
        "requestBody": {"required": True, "content": spec["content"]},
        "responses": responses,
        "security": [{"bearer": []}, {"basic": []}],
    }


def _form_field(parameter: dict[str, Any]) -> dict[str, Any]:
    schema = dict(parameter["schema"])
    # A form field is present or absent, never null.
    options = [o for o in schema.pop("anyOf", [{}]) if o.get("type") != "null"]
    field = schema | (options[0] if len(options) == 1 else {"anyOf": options})
    if field.get("type") == "array":
        # A form repeats the key per value: one value is indistinguishable from a string.
        del field["type"]
        items = field.pop("items")
        field["anyOf"] = [items, {"type": "array", "items": items}]
    return field


def _as_form(operation: dict[str, Any]) -> None:
    """The POST of a Loki read route: its query parameters become a form body's fields."""
    parameters = operation.pop("parameters", [])
    fields = [p for p in parameters if p.get("in") == "query"]
    if kept := [p for p in parameters if p.get("in") != "query"]:
        operation["parameters"] = kept
    required = [p["name"] for p in fields if p.get("required")]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {p["name"]: _form_field(p) for p in fields},
    }
    if required:
        schema["required"] = required
    operation["requestBody"] = {
        "required": bool(required),  # without required fields, no body at all is fine
        "content": {"application/x-www-form-urlencoded": {"schema": schema}},
    }
    operation["description"] = (
        "The GET's parameters as a form body, as Grafana and logcli send them; fields in the "
        "query string count too."
    )


def add_to(doc: dict[str, Any]) -> None:
    paths = doc.setdefault("paths", {})
    for path in _OPERATIONS:
        paths.setdefault(path, {})["post"] = _operation(path)
    for path in wiring.LOKI_READS:
        if "post" in paths.get(path, {}):
            _as_form(paths[path]["post"])
    tags = doc.setdefault("tags", [])
    if not any(tag.get("name") == "logs" for tag in tags):
        tags.append({"name": "logs"})
