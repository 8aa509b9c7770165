"""The logs function's two resolvers: raw-body ingest, and the JSON query APIs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from orchestrix.adapters.http.context import request_id_of
from orchestrix.adapters.http.problems import proxy_problem
from orchestrix.adapters.http.resolver import handle, new_resolver
from orchestrix.adapters.http.routes import logs, loki_api, loki_forms
from orchestrix.adapters.http.routes.metrics import _on_ingest_error, handle_write
from orchestrix.adapters.metrics import MetricsIngestError
from orchestrix.services.logs import LogQueryError


def logs_resolvers() -> tuple[APIGatewayRestResolver, APIGatewayRestResolver]:
    ingest = new_resolver([logs.ingest_router], docs=False)
    # Snappy bodies are decompressed by the remote write machinery, with its errors.
    ingest.exception_handler(MetricsIngestError)(_on_ingest_error)
    return ingest, new_resolver([logs.router, loki_api.router], docs=False)


def handle_logs(
    ingest: APIGatewayRestResolver,
    query: APIGatewayRestResolver,
    event: dict[str, Any],
    context: Any,
) -> dict[str, Any]:
    if event.get("path") in logs.INGEST_PATHS:
        # Binary and compressed bodies: the JSON API's body checks do not apply.
        response: dict[str, Any] = handle_write(ingest, event, context)
        return response
    try:
        event = loki_forms.form_as_query(event)
    except LogQueryError as exc:
        errors = [{"loc": list(e.loc), "msg": e.msg} for e in exc.errors]
        return proxy_problem(
            exc.status, exc.detail, request_id_of(event), title=exc.title, errors=errors
        )
    return handle(query, event, context)
