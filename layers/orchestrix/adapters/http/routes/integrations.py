"""/api/v1/integrations/* — alerts from Alertmanager, PagerDuty-shaped senders, webhooks.

Each needs an ingestion key with `alerts:write` (Bearer, or the Basic password as
Alertmanager's `basic_auth` sends it). A request is all or nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.postgres.alerting_components import alert_service
from orchestrix.domain.identity import Scope
from orchestrix.services.alert_sources import (
    alertmanager_webhook,
    generic_webhook,
    pagerduty_event,
)

router = Router()


def _body() -> Any:
    return router.current_event.json_body


def _accepted(data: dict[str, Any], status: int = 202) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type="application/json", body=data)


@router.post(
    "/api/v1/integrations/alertmanager",
    tags=["integrations"],
    summary="Alertmanager webhook receiver (version 4)",
)
def alertmanager() -> Response[dict[str, Any]]:
    principal = current_principal(router)
    principal.require_scope(Scope.ALERTS_WRITE)
    signals = alertmanager_webhook(_body(), bootstrap.clock().now())
    changes = alert_service().ingest(principal, signals, current_request_id(router))
    return _accepted({"received": len(signals), "changed": len(changes)})


@router.post(
    "/api/v1/integrations/events",
    tags=["integrations"],
    summary="PagerDuty Events API v2 shape (trigger / acknowledge / resolve)",
)
def events() -> Response[dict[str, Any]]:
    principal = current_principal(router)
    principal.require_scope(Scope.ALERTS_WRITE)
    action, signal = pagerduty_event(_body(), bootstrap.clock().now())
    request_id = current_request_id(router)
    if action == "acknowledge":
        alert_service().acknowledge_dedup_key(principal, signal.dedup_key or "", request_id)
    else:
        alert_service().ingest(principal, [signal], request_id)
    return _accepted(
        {"status": "success", "message": "Event processed", "dedup_key": signal.dedup_key}
    )


@router.post(
    "/api/v1/integrations/webhook",
    tags=["integrations"],
    summary="Any JSON, mapped by dotted paths in the query (?name=title&status=state&...)",
)
def webhook() -> Response[dict[str, Any]]:
    principal = current_principal(router)
    principal.require_scope(Scope.ALERTS_WRITE)
    mapping = dict(router.current_event.query_string_parameters or {})
    signals = generic_webhook(_body(), mapping, bootstrap.clock().now())
    changes = alert_service().ingest(principal, signals, current_request_id(router))
    return _accepted({"received": len(signals), "changed": len(changes)})
