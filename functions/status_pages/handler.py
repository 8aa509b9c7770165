"""Status pages: the REST API and the public pages (API Gateway), incidents moving
components (`incident.*` on the orchestrix bus), maintenances moving by time (one-time
schedules at their start and end) and updates sent to subscribers behind the request that
posted them (one-time schedules `{tenant_id, update_id, run}`)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix.adapters.http.resolver import handle, new_resolver
from orchestrix.adapters.http.routes import status_events, status_pages, status_public
from orchestrix.adapters.http.status_forms import from_form
from orchestrix.adapters.postgres.status_components import (
    status_automation,
    status_event_service,
    status_fanout,
)
from orchestrix.observability import logger, traced

app = new_resolver([status_pages.router, status_events.router, status_public.router])


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "httpMethod" in event:
        return handle(app, from_form(event), context)
    if "detail-type" in event:
        detail: dict[str, Any] = event.get("detail") or {}
        touched = status_automation().on_incident(
            str(detail["tenant_id"]), str(event["detail-type"]), detail.get("incident") or {}
        )
        return {"status_incidents": touched}
    if "update_id" in event:
        result = status_fanout().run(
            str(event["tenant_id"]),
            str(event["update_id"]),
            int(event.get("run") or 0),
            lambda: context.get_remaining_time_in_millis() / 1000,
        )
        counts = {
            "done": result.done,
            "skipped": result.skipped,
            "failed": result.failed,
            "retrying": result.retrying,
        }
        logger.info("status fan-out run", extra={"update_id": event["update_id"], **counts})
        return counts
    moved = status_event_service().advance(str(event["tenant_id"]), str(event["maintenance_id"]))
    return {"maintenance": moved.status.value if moved else None}
