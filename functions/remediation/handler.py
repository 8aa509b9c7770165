"""The `remediation` state machine's one Lambda: each Task state names its `action`.

start_workflow → workflow_status (polled) → recheck (polled until due) → escalate, and `fail`
from every Catch. Errors propagate so the state machine's Retry/Catch see them.
"""

from typing import Any

from orchestrix.adapters.postgres.remediation_components import remediation_service
from orchestrix.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = str(event["action"])
    tenant_id = str(event["tenant_id"])
    remediation_id = str(event["remediation_id"])
    service = remediation_service()
    logger.append_keys(tenant_id=tenant_id, remediation_id=remediation_id, action=action)
    if action == "start_workflow":
        return service.start_workflow(tenant_id, remediation_id)
    if action == "workflow_status":
        return service.workflow_status(tenant_id, remediation_id, int(event["wait_seconds"]))
    if action == "recheck":
        return service.recheck(tenant_id, remediation_id, int(event["poll_seconds"]))
    if action == "escalate":
        return service.escalate(tenant_id, remediation_id)
    if action == "fail":
        return service.fail(tenant_id, remediation_id, event.get("error"), event.get("cause"))
    raise ValueError(f"unknown remediation action {action!r}")
