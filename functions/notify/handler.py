"""Delivers one notification attempt; invoked by one-time schedules (delays and retries).

Event: {"tenant_id": ..., "notification_id": ...}. Failures are recorded on the notification
(and retried by a new schedule when they may pass), so this handler does not raise for them.
"""

from typing import Any

from orchestrix.adapters.notify.components import notification_service
from orchestrix.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant_id, notification_id = str(event["tenant_id"]), str(event["notification_id"])
    notification_service().deliver(tenant_id, notification_id)
    logger.info("notification attempt done", extra={"notification_id": notification_id})
    return {"tenant_id": tenant_id, "notification_id": notification_id}
