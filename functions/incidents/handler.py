"""The incidents REST API: incidents, escalation policies, incident settings, reports,
post-mortems."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix.adapters.http.resolver import handle, new_resolver
from orchestrix.adapters.http.routes import escalation_policies, incidents, postmortems, reports
from orchestrix.observability import logger, traced

app = new_resolver(
    [incidents.router, escalation_policies.router, reports.router, postmortems.router]
)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(app, event, context)
