"""Daily clean-up: purge API keys dead for 30 days and status page deliveries settled 30
days ago, compact metric heads, drop metric, span and log days past retention, publish
post-mortem action items that went past their due date."""

from typing import Any

from orchestrix import bootstrap
from orchestrix.adapters.postgres.alerting_components import rule_schedule_service
from orchestrix.adapters.postgres.job_lock import job_lock
from orchestrix.adapters.postgres.postmortem_components import overdue_action_items
from orchestrix.adapters.postgres.status_components import status_fanout
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
    purged = overdue = settled = 0
    overdue_items = overdue_action_items()
    fanout = status_fanout()
    for tenant_id in bootstrap.tenant_ids():
        actor = system_principal(tenant_id, "housekeeping").actor
        purged += bootstrap.api_key_service().purge_dead(tenant_id, actor)
        # Due dates are days: once a day finds every miss within a day of it, and wakes
        # no paused database more often than the clean-up already does.
        overdue += overdue_items.flag(tenant_id, actor)
        settled += fanout.purge(tenant_id, actor)
    settings = bootstrap.settings()
    # Samples are partitioned by day across tenants: retention is one DROP per old day. Also
    # with the amp backend, so that samples stored before a stage switched to it age out.
    # Every head goes into chunks first: a tenant that stopped writing keeps none for long.
    metric_store = bootstrap.postgres_metric_store()
    compacted = metric_store.compact_waiting_heads(older_than_s=0)
    now_ms = int(bootstrap.clock().now().timestamp() * 1000)
    dropped = metric_store.drop_partitions_older_than(
        settings.metrics_retention_days, now_ms=now_ms
    )
    # Spans are partitioned by day across tenants too (TRACES_RETENTION_DAYS, default 7).
    dropped_spans = bootstrap.trace_service().drop_expired()
    # Log lines are partitioned by day across tenants too (LOGS_RETENTION_DAYS).
    dropped_logs = bootstrap.log_service().drop_expired()
    # Safety net for the rule evaluation schedule (a failed switch, a redeploy resetting it).
    evaluating = rule_schedule_service().settle(bootstrap.tenant_ids)
    done = {
        "purged_api_keys": purged,
        "dropped": dropped + dropped_spans + dropped_logs,
        "overdue_action_items": overdue,
    }
    logger.info("housekeeping done", extra=done)
    return {
        "purged_api_keys": purged,
        "overdue_action_items": overdue,
        "purged_status_deliveries": settled,
        "compacted_metric_heads": compacted,
        "dropped_metric_partitions": dropped,
        "dropped_span_partitions": dropped_spans,
        "dropped_log_partitions": dropped_logs,
        "rule_evaluation_enabled": evaluating,
    }
