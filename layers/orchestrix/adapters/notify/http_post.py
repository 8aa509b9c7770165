"""POST a JSON body to a tenant-supplied URL and classify the outcome for retries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from orchestrix.domain.egress import EgressDenied, EgressPolicy
from orchestrix.domain.notifications import DeliveryError
from orchestrix.domain.workflow.errors import HttpTimeout, HttpTransportError
from orchestrix.domain.workflow.http import HttpClient, OutboundRequest

TIMEOUT_SECONDS: Final = 10.0


def post_json(
    client: HttpClient,
    egress: EgressPolicy,
    url: str,
    payload: Mapping[str, Any] | bytes,
    headers: Mapping[str, str] | None = None,
) -> None:
    """2xx is success; 429, 5xx, timeouts and connection errors may be retried; the rest
    (4xx, egress refusals) will not get better by trying again."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = OutboundRequest(
        "POST", url, {"Content-Type": "application/json", **(headers or {})}, body, TIMEOUT_SECONDS
    )
    try:
        response = client(request, egress)
    except EgressDenied as exc:
        raise DeliveryError(f"refused by egress policy: {exc.reason}", retryable=False) from exc
    except (HttpTimeout, HttpTransportError) as exc:
        raise DeliveryError(str(exc), retryable=True) from exc
    if 200 <= response.status < 300:
        return
    snippet = response.body[:200].decode("utf-8", errors="replace")
    retryable = response.status == 429 or response.status >= 500
    raise DeliveryError(f"receiver answered {response.status}: {snippet}", retryable=retryable)
