"""Runs one workflow step for a compiled state machine (http, notify, aws, condition,
approval). Step errors propagate: their class name is the Step Functions error that the
state machine's Retry/Catch match."""

from typing import Any

from orchestrix import bootstrap
from orchestrix.observability import logger, traced
from orchestrix.services.workflow_steps import decode_event, run_step


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    output = run_step(event, bootstrap.workflow_step_tools())
    if event.get("token"):
        # An approval: keep the task token so the API can answer it, then Step Functions waits.
        meta = event["context"]["meta"]
        bootstrap.execution_service().register_approval(
            tenant_id=meta["tenant_id"],
            execution_id=meta["execution_id"],
            step_id=decode_event(event).step.id,
            token=event["token"],
            message=output["message"],
            timeout_s=output["timeout_seconds"],
        )
    return output
