"""Logs: OTLP/HTTP, Loki push and JSON lines in; the log search and Loki query API out."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix.adapters.http.routes.logs_app import handle_logs, logs_resolvers
from orchestrix.observability import logger, traced

ingest_app, query_app = logs_resolvers()


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_logs(ingest_app, query_app, event, context)
