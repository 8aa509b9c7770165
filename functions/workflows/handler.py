"""The workflows REST API: definitions, executions, approvals."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix.adapters.http.resolver import handle, new_resolver
from orchestrix.adapters.http.routes import workflows
from orchestrix.observability import logger, traced

app = new_resolver([workflows.router], docs=False)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(app, event, context)
