"""Traces: OTLP/HTTP export in (`/v1/traces`), trace queries, the service map and the
Tempo-compatible read API out."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix.adapters.http.context import request_id_of
from orchestrix.adapters.http.resolver import handle, new_resolver
from orchestrix.adapters.http.routes import tempo_api, traces, traces_ingest
from orchestrix.adapters.traces import OtlpIngestError
from orchestrix.observability import logger, traced

app = new_resolver([traces_ingest.router, traces.router, tempo_api.router], docs=False)
app.exception_handler(OtlpIngestError)(traces_ingest.on_otlp_error)


def _ingest(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Binary OTLP bodies skip the JSON API's body checks; the decoder does its own.
    response: dict[str, Any] = app.resolve(event, context)
    multi = response.get("multiValueHeaders") or {}
    multi["X-Request-Id"] = [request_id_of(event)]
    response["multiValueHeaders"] = multi
    return response


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("resource") == "/v1/traces":
        return _ingest(event, context)
    return handle(app, event, context)
