"""Finishes the OpenAPI document Powertools generates from the routes.

Powertools documents validation errors in its own shape; ours are RFC 9457 problems, so each
operation's error responses are rewritten to `application/problem+json`, and bodiless 204s
lose the content Powertools infers from the `Response[None]` annotation.
"""

from __future__ import annotations

import json
from typing import Any

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}

_ERRORS = {
    "400": "Malformed request",
    "401": "Missing or invalid credentials",
    "403": "Authenticated, but not allowed",
    "404": "Not found (also for another tenant's resources)",
    "413": "Body too large",
    "415": "Unsupported media type",
    "422": "Invalid input; `errors` names each field",
    "429": "Throttled",
}
_PUBLIC_ERRORS = ("400", "404", "422", "503")


def finish(document: str, public_paths: set[str]) -> str:
    doc: dict[str, Any] = json.loads(document)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for key in ("HTTPValidationError", "ValidationError"):
        schemas.pop(key, None)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in doc.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "204" in responses:
                responses["204"].pop("content", None)
            statuses = _PUBLIC_ERRORS if path in public_paths else tuple(_ERRORS)
            for status in statuses:
                described = responses.get(status, {}).get("description") or _ERRORS.get(
                    status, "Service unavailable"
                )
                responses[status] = {"description": described, "content": problem}
            if path in public_paths:
                operation["security"] = []
    return json.dumps(doc)
