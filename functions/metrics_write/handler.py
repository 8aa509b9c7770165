"""Metrics ingest: Prometheus remote write 1.0 and text/OpenMetrics imports (binary bodies)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix.adapters.http.routes.metrics import handle_write, write_resolver
from orchestrix.observability import logger, traced

app = write_resolver()


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = handle_write(app, event, context)
    return response
