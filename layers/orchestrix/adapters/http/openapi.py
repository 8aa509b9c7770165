"""Finishes the OpenAPI document Powertools generates from the routes.

Powertools documents validation errors in its own shape; ours are RFC 9457 problems, so each
operation's error responses are rewritten to `application/problem+json`, and bodiless 204s
lose the content Powertools infers from the `Response[None]` annotation.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response

from orchestrix import wiring
from orchestrix.adapters.http import logs_openapi, metrics_openapi, traces_openapi

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver as Resolver

API_TITLE = "Orchestrix API"
API_VERSION = "1.0.0"
DOCS_PATH = "/api/v1/docs"
DOCUMENT_PATH = "/api/v1/openapi.json"

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
    "414": "Request line (path and query string) too long",
    "415": "Unsupported media type",
    "422": "Invalid input; `errors` names each field",
    "429": "Throttled",
}
_PUBLIC_ERRORS = ("400", "404", "414", "422", "429", "503")


def finish(document: str, public_paths: set[str]) -> str:
    doc: dict[str, Any] = json.loads(document)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for key in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
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
    # Added after the rewrite above: their error bodies are partly Prometheus' own.
    metrics_openapi.add_to(doc)
    traces_openapi.add_to(doc)
    logs_openapi.add_to(doc)
    return json.dumps(doc)


@cache
def document() -> str:
    """The API reference for every router of every function, built once per container."""
    import copy

    # Powertools' OpenAPI models cost ~100 ms to import: only the docs routes pay for them.
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBase, HTTPBearer

    from orchestrix.adapters.http.catalog import routers

    everything = APIGatewayRestResolver(enable_validation=True)
    for router in routers():
        # A copy: include_router re-points a router at its resolver, and the original
        # belongs to the function serving it.
        everything.include_router(copy.copy(router))
    generated = everything.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        security_schemes={
            "bearer": HTTPBearer(description="OIDC access token, or an orx_ API key"),
            "basic": HTTPBase(scheme="basic", description="An orx_ API key as the password"),
        },
        security=[{"bearer": []}],
    )
    return finish(generated, {r.path for r in wiring.ROUTES if not r.auth})


@cache
def _swagger_assets() -> tuple[str, str]:
    import aws_lambda_powertools.event_handler as event_handler

    folder = Path(event_handler.__file__).parent / "openapi" / "swagger_ui"
    js = (folder / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (folder / "swagger-ui.min.css").read_text(encoding="utf-8")
    return js, css


def add_document_routes(app: Resolver) -> None:
    @app.get(DOCUMENT_PATH, include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(status_code=200, content_type="application/json", body=document())

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> Response[str]:
        from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

        js, css = _swagger_assets()
        spec = document().replace("</", "<\\/")  # keep the JSON inside its <script>
        html = generate_swagger_html(spec, js, css, "", None, False)
        return Response(status_code=200, content_type="text/html", body=html)
