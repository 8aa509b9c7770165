"""Operator actions invoked with IAM credentials, never through API Gateway: e.g. the first
admin API key of a stage (`orchestrix api-key create --stage <stage> ...`)."""

from typing import Any

from orchestrix import bootstrap
from orchestrix.observability import logger
from orchestrix.services import operator_actions


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = operator_actions.run(event, bootstrap.api_key_service())
    # Never log the secret: only what was done and for whom.
    logger.info(
        "operator action",
        extra={"action": event.get("action"), "tenant_id": event.get("tenant"),
               "error": result.get("error")},
    )  # fmt: skip
    return result
