"""Runs the SQL migrations; invoked by the deploy-time Trigger before the API goes live."""

from typing import Any

from orchestrix import bootstrap
from orchestrix.adapters.postgres import migrations
from orchestrix.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    applied = migrations.apply(bootstrap.database().owner_conninfo())
    logger.info("migrations applied", extra={"applied": applied})
    return {"applied": applied}
