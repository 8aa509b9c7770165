"""Generic webhooks: a JSON body signed with HMAC-SHA256.

Header `X-Orchestrix-Signature: t=<unix seconds>,v1=<hex>` where the MAC covers
`<t>.<raw body>`. Receivers recompute it with the shared secret and reject old `t` values,
which stops replays of a captured request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from orchestrix.adapters.notify.http_post import post_json
from orchestrix.domain.egress import EgressPolicy
from orchestrix.domain.notifications import Channel, DeliveryError, Notice
from orchestrix.domain.workflow.http import HttpClient

SIGNATURE_HEADER: Final = "X-Orchestrix-Signature"
DEFAULT_TOLERANCE_SECONDS: Final = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, now: int, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> bool:
    """What a receiver does (also used by our tests): check the MAC and the timestamp age."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def webhook_payload(notice: Notice, notification_id: str) -> dict[str, Any]:
    return {
        "id": notification_id,
        "idempotency_key": notice.idempotency_key,
        "urgency": notice.urgency,
        "title": notice.title,
        "text": notice.text,
        "links": notice.links,
        "context": notice.context,
    }


class WebhookSender:
    def __init__(
        self, client: HttpClient, egress: EgressPolicy, now: Callable[[], datetime]
    ) -> None:
        self._client = client
        self._egress = egress
        self._now = now

    def __call__(self, channel: Channel, notice: Notice, notification_id: str) -> None:
        if not channel.signing_secret:
            raise DeliveryError("webhook channel has no signing secret", retryable=False)
        body = json.dumps(webhook_payload(notice, notification_id)).encode()
        # Real time, not the adjustable local clock: receivers compare against their own.
        signature = sign(channel.signing_secret, int(self._now().timestamp()), body)
        headers = {SIGNATURE_HEADER: signature, "X-Orchestrix-Notification-Id": notification_id}
        post_json(self._client, self._egress, channel.address, body, headers)
