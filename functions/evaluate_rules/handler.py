"""Every minute: evaluate each tenant's due alert rule groups at the scheduled time."""

from datetime import UTC, datetime
from typing import Any

from orchestrix import bootstrap
from orchestrix.adapters.postgres.alerting_components import (
    evaluation_service,
    rule_schedule_service,
)
from orchestrix.adapters.postgres.job_lock import job_lock
from orchestrix.observability import logger


def _scheduled_time(event: dict[str, Any]) -> datetime:
    """The schedule's own time (local scheduler: `scheduled_time`; EventBridge: `time`),
    else the clock, floored to the minute so that group intervals stay aligned."""
    raw = event.get("scheduled_time") or event.get("time")
    if raw:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(UTC)
    return bootstrap.clock().now().replace(second=0, microsecond=0)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    at = _scheduled_time(event)
    # One evaluation at a time across containers: a run still going when the next minute's
    # starts would evaluate the same groups twice. The late one skips; the due groups are
    # picked up by the next tick (each group keeps its own last-evaluated time).
    with job_lock().hold("evaluate_rules") as taken:
        if not taken:
            logger.warning("previous rule evaluation still running: this tick skipped")
            return {"at": at.isoformat(), "skipped": "another evaluation holds the lock"}
        return _evaluate(at)


def _evaluate(at: datetime) -> dict[str, Any]:
    service = evaluation_service()
    summary: dict[str, Any] = {"at": at.isoformat(), "tenants": 0, "rules": 0, "errors": 0}
    rules_exist = False
    for tenant_id in bootstrap.tenant_ids():
        try:
            report = service.tick(tenant_id, at)
        except Exception:  # one tenant's failure must not stop the others
            logger.exception("rule evaluation failed", extra={"tenant_id": tenant_id})
            summary["errors"] += 1
            continue
        rules_exist = rules_exist or report.has_rules or report.skipped
        summary["tenants"] += 1
        summary["rules"] += report.rules_evaluated
        summary["errors"] += len(report.rule_errors)
    if not rules_exist and not summary["errors"]:
        # No tenant has an enabled rule (the ticks just read them all): switch this schedule
        # off so that the database can pause (the rule service switches it back on); `settle`
        # looks once more, for a rule saved meanwhile.
        summary["schedule_enabled"] = rule_schedule_service().settle(bootstrap.tenant_ids)
    _compact_metric_heads(summary)
    logger.info("rules evaluated", extra=summary)
    return summary


def _compact_metric_heads(summary: dict[str, Any]) -> None:
    """Writers compact their tenant's head as they go; a tenant that stopped writing leaves
    one behind, which this minute's tick moves into chunks (one query when there is none)."""
    try:
        summary["compacted_metric_heads"] = (
            bootstrap.postgres_metric_store().compact_waiting_heads()
        )
    except Exception:  # the rules were evaluated: a failure here waits for the next tick
        logger.exception("metric head compaction failed")
