"""Alerts from other tools: Alertmanager webhooks, Prometheus pushes, PagerDuty-shaped
events, generic webhooks (through API Gateway) and CloudWatch alarms (EventBridge rule)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix import bootstrap
from orchestrix.adapters.http.resolver import handle, new_resolver
from orchestrix.adapters.http.routes import alertmanager_api, integrations
from orchestrix.adapters.postgres.alerting_components import alert_service
from orchestrix.domain.errors import ValidationFailed
from orchestrix.domain.identity import Principal, Scope
from orchestrix.observability import logger, traced
from orchestrix.services.alert_sources import NOT_AN_ALARM, cloudwatch_alarm

app = new_resolver([integrations.router, alertmanager_api.router], docs=False)


def _cloudwatch(event: dict[str, Any]) -> dict[str, Any]:
    stage = bootstrap.settings().stage
    try:
        tenant, signal = cloudwatch_alarm(event, stage)
    except ValidationFailed:
        # Raising would only make EventBridge deliver the same bad event again.
        logger.warning("malformed alarm event: ignored", extra={"event_id": event.get("id")})
        return {"ignored": NOT_AN_ALARM}
    if not tenant:
        name = signal.labels.get("alarm_name", signal.labels.get("alertname"))
        logger.warning(
            "alarm not named orchestrix.<stage>.<tenant>.<name> for this stage: ignored",
            extra={"alarm_name": name, "stage": stage},
        )
        return {"ignored": f"alarm name is not orchestrix.{stage}.<tenant>.<name>"}
    if tenant not in bootstrap.tenant_ids():
        # A name is no proof of a tenant: an alarm must not bring a new tenant into being.
        logger.warning("alarm names an unknown tenant: ignored", extra={"tenant_id": tenant})
        return {"ignored": "the alarm names no existing tenant"}
    principal = Principal(
        tenant, "system:cloudwatch", scopes=frozenset({Scope.ALERTS_WRITE}), kind="system"
    )
    changes = alert_service().ingest(principal, [signal])
    return {"tenant_id": tenant, "changed": len(changes)}


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("source") == "aws.cloudwatch":
        return _cloudwatch(event)
    return handle(app, event, context)
