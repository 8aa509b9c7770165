"""Target of the one-time escalation schedules: run one step of one incident's escalation.

The payload is `{tenant_id, incident_id, round, level, idempotency_key}`. EventBridge
Scheduler may deliver it more than once; the step runs (and pages) at most once.
"""

from typing import Any

from orchestrix.adapters.postgres.incident_components import escalation_service
from orchestrix.domain.escalation import Step
from orchestrix.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = Step(int(event["round"]), int(event["level"]))
    result = escalation_service().run_step(str(event["tenant_id"]), str(event["incident_id"]), step)
    logger.info(
        "escalation step",
        extra={"key": event.get("idempotency_key"), "ran": result.ran, "notified": result.notified},
    )
    return {"ran": result.ran, "notified": list(result.notified)}
