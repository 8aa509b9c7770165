"""EventBridge rule target for `alert.fired` / `alert.resolved` / `alert.remediation_failed` on
the orchestrix bus: firing alerts open or join incidents (an alert with a remediation workflow
once its fix has failed), resolved ones are noted on their incidents. Also the
target of deployment events (CodeDeploy, ECS, CloudFormation) on the default bus: they
become change events that root cause analysis weighs."""

from typing import Any

from orchestrix import bootstrap
from orchestrix.adapters.postgres.incident_components import incident_service
from orchestrix.adapters.postgres.intelligence_components import config_service
from orchestrix.domain.incidents import AlertSnapshot
from orchestrix.observability import logger, traced
from orchestrix.services.alert_intake import REMEDIATION_FAILED
from orchestrix.services.change_sources import DETAIL_TYPES


def _deployment(event: dict[str, Any]) -> dict[str, Any]:
    stage = bootstrap.settings().stage
    # A name is no proof of a tenant: a deployment must not bring a new tenant into being.
    change = config_service().record_deployment(
        event, stage, lambda tenant: tenant in bootstrap.tenant_ids()
    )
    if change is None:
        logger.info("deployment event not for a tenant of this stage: ignored")
        return {"ignored": "not the start of a deployment marked for a tenant of this stage"}
    return {"change_id": change.id, "service": change.service}


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("source") in DETAIL_TYPES:
        return _deployment(event)
    detail: dict[str, Any] = event.get("detail") or {}
    tenant_id = str(detail["tenant_id"])
    alert = AlertSnapshot.parse(detail)
    if event.get("detail-type") == "alert.resolved":
        touched = incident_service().on_alert_resolved(tenant_id, alert)
        return {"incidents": touched}
    if event.get("detail-type") == REMEDIATION_FAILED:
        # The fix was tried first and did not work: now the alert is an incident's business.
        why = str(detail.get("reason") or "the remediation failed")
        incident = incident_service().on_alert_fired(tenant_id, alert, fix_failed=why)
    else:
        incident = incident_service().on_alert_fired(tenant_id, alert)
    return {"incident_id": incident.id if incident else None}
