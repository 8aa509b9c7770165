"""Daily clean-up: purge API keys dead for 30 days, drop metric and log days past retention."""

from typing import Any

from orchestrix import bootstrap
from orchestrix.adapters.postgres.alerting_components import rule_schedule_service
from orchestrix.adapters.postgres.job_lock import job_lock
from orchestrix.domain.identity import system_principal
from orchestrix.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # One run at a time (a retry of a slow run, an operator's manual invoke): a second one
    # skips rather than dropping the same partitions concurrently.
    with job_lock().hold("housekeeping") as taken:
        if not taken:
            logger.warning("housekeeping already running: this run skipped")
            return {"skipped": "another housekeeping run holds the lock"}
        return _housekeep()


def _housekeep() -> dict[str, Any]:
    purged = 0
    for tenant_id in bootstrap.tenant_ids():
        actor = system_principal(tenant_id, "housekeeping").actor
        purged += bootstrap.api_key_service().purge_dead(tenant_id, actor)
    settings = bootstrap.settings()
    dropped: list[str] = []
    if settings.metrics_backend == "postgres":
        # Samples are partitioned by day across tenants: retention is one DROP per old day.
        now_ms = int(bootstrap.clock().now().timestamp() * 1000)
        dropped = bootstrap.metric_store().drop_partitions_older_than(
            settings.metrics_retention_days, now_ms=now_ms
        )
    # Log lines are partitioned by day across tenants too (LOGS_RETENTION_DAYS).
    dropped_logs = bootstrap.log_service().drop_expired()
    # Safety net for the rule evaluation schedule (a failed switch, a redeploy resetting it).
    evaluating = rule_schedule_service().settle(bootstrap.tenant_ids)
    logger.info("housekeeping done", extra={"purged_api_keys": purged, "dropped": dropped})
    return {
        "purged_api_keys": purged,
        "dropped_metric_partitions": dropped,
        "dropped_log_partitions": dropped_logs,
        "rule_evaluation_enabled": evaluating,
    }
