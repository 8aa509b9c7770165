"""Target of the one-time SLA deadline schedules: record a breach if the target was missed.

The payload is `{tenant_id, incident_id, kind}` with kind `ack` or `resolve`.
"""

from typing import Any

from orchestrix.adapters.postgres.incident_components import sla_service
from orchestrix.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant_id, incident_id = str(event["tenant_id"]), str(event["incident_id"])
    if event.get("kind") == "ack":
        breached = sla_service().check(tenant_id, incident_id, "ack")
    else:
        breached = sla_service().check(tenant_id, incident_id, "resolve")
    return {"breached": breached}
