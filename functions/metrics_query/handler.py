"""The Prometheus-compatible query API (query, query_range, labels, series, metadata) and
the status, rules, alerts, exemplars and format_query endpoints Grafana calls."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix.adapters.http.routes import prometheus_status
from orchestrix.adapters.http.routes.prometheus_api import handle_query, prometheus_resolver
from orchestrix.observability import logger, traced

app = prometheus_resolver()
app.include_router(prometheus_status.router)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = handle_query(app, event, context)
    return response
