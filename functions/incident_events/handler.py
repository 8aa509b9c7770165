"""EventBridge rule target for `alert.fired` / `alert.resolved` on the orchestrix bus:
firing alerts open or join incidents, resolved ones are noted on their incidents."""

from typing import Any

from orchestrix.adapters.postgres.incident_components import incident_service
from orchestrix.domain.incidents import AlertSnapshot
from orchestrix.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail: dict[str, Any] = event.get("detail") or {}
    tenant_id = str(detail["tenant_id"])
    alert = AlertSnapshot.parse(detail)
    if event.get("detail-type") == "alert.resolved":
        touched = incident_service().on_alert_resolved(tenant_id, alert)
        return {"incidents": touched}
    incident = incident_service().on_alert_fired(tenant_id, alert)
    return {"incident_id": incident.id if incident else None}
