"""Hourly clean-up across tenants: purge API keys dead for more than 30 days."""

from typing import Any

from orchestrix import bootstrap
from orchestrix.domain.identity import system_principal
from orchestrix.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    purged = 0
    for tenant_id in bootstrap.tenant_ids():
        actor = system_principal(tenant_id, "housekeeping").actor
        purged += bootstrap.api_key_service().purge_dead(tenant_id, actor)
    logger.info("housekeeping done", extra={"purged_api_keys": purged})
    return {"purged_api_keys": purged}
