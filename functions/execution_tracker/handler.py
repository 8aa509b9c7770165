"""Target of the EventBridge rule "Step Functions Execution Status Change": stores the end
of every Orchestrix execution and publishes `workflow.execution.*` once."""

from typing import Any

from orchestrix import bootstrap
from orchestrix.adapters.postgres.workflow_store import execution_tenant
from orchestrix.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    arn = str((event.get("detail") or {}).get("executionArn") or "")
    tenant = execution_tenant(bootstrap.database(), arn) if arn else None
    if tenant is None:
        return {"tracked": False}  # not one of ours (another state machine in the account)
    execution = bootstrap.execution_service().track(tenant, arn)
    return {"tracked": execution is not None, "status": execution.status if execution else None}
