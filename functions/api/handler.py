"""The management REST API: one resolver, a router per resource."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix.adapters.http.resolver import handle, new_resolver
from orchestrix.adapters.http.routes import api_keys, audit_logs, health
from orchestrix.observability import logger, traced

app = new_resolver([health.router, api_keys.router, audit_logs.router])


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(app, event, context)
