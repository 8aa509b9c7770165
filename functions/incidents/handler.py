"""The incidents REST API: incidents and their analysis, escalation policies, incident
settings, reports, post-mortems, the service graph, correlation settings and changes."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix.adapters.http.resolver import handle, new_resolver
from orchestrix.adapters.http.routes import (
    changes,
    escalation_policies,
    incident_analysis,
    incidents,
    postmortems,
    reports,
    services_graph,
)
from orchestrix.observability import logger, traced

app = new_resolver(
    [
        incidents.router,
        incident_analysis.router,
        escalation_policies.router,
        reports.router,
        postmortems.router,
        services_graph.router,
        changes.router,
    ]
)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(app, event, context)
