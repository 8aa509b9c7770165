"""Notifications: what is sent (Notice), where (Channel) and the log of every attempt."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, Protocol

Urgency = Literal["high", "low"]
ChannelType = Literal["email", "sms", "slack", "teams", "webhook"]
NotificationStatus = Literal["pending", "sent", "failed", "cancelled"]

MAX_ATTEMPTS: Final = 5
# Seconds to wait before attempt n+1 (index n-1): exponential, capped by MAX_ATTEMPTS.
BACKOFF_SECONDS: Final = (30, 120, 480, 1800)


@dataclass(frozen=True)
class Notice:
    """One thing to tell someone. Same `idempotency_key` (per tenant) → never sent twice."""

    idempotency_key: str
    urgency: Urgency
    title: str
    text: str
    links: dict[str, str] = field(default_factory=dict)  # {"acknowledge": url, ...}
    context: dict[str, Any] = field(default_factory=dict)  # {"incident_id": ..., ...}


@dataclass(frozen=True)
class Channel:
    """A delivery target. `address` is an email, an E.164 phone, or a webhook URL.

    `signing_secret` signs generic webhooks (HMAC-SHA256); other types ignore it.
    """

    type: ChannelType
    address: str
    signing_secret: str | None = None


@dataclass(frozen=True)
class Notification:
    """One logged notification: created pending, then sent, failed or cancelled."""

    id: str
    tenant_id: str
    idempotency_key: str
    member_id: str | None
    channel: ChannelType
    target: str  # masked address, safe to show
    urgency: Urgency
    title: str
    text: str
    links: dict[str, str]
    context: dict[str, Any]
    status: NotificationStatus
    attempts: int
    error: str | None
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None
    actor: str


@dataclass(frozen=True)
class NotificationFilter:
    status: NotificationStatus | None = None
    channel: ChannelType | None = None
    member_id: str | None = None
    incident_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class DeliveryError(Exception):
    """A channel adapter could not deliver; `retryable` says whether another try may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def mask(secret: str) -> str:
    """Show only the last 4 characters of a secret (Slack URL, phone, signing key)."""
    return "…" + secret[-4:] if len(secret) > 4 else "…"


def backoff_seconds(attempts_made: int) -> int:
    """Delay before the next attempt, after `attempts_made` failed ones."""
    index = min(max(attempts_made, 1), len(BACKOFF_SECONDS)) - 1
    return BACKOFF_SECONDS[index]


SECRET_CHANNELS: Final = frozenset({"slack", "teams", "webhook"})


def masked_target(channel: Channel) -> str:
    """What the log and API show: webhook URLs are secrets, emails and phones are not."""
    return mask(channel.address) if channel.type in SECRET_CHANNELS else channel.address


class Sender(Protocol):
    """Delivers one message to one channel; raises DeliveryError (retryable or not)."""

    def __call__(self, channel: Channel, notice: Notice, notification_id: str) -> None: ...


class SecretBox(Protocol):
    """Encrypts channel secrets at rest, bound to the tenant (encryption context)."""

    def seal(self, tenant_id: str, plaintext: bytes) -> bytes: ...

    def open(self, tenant_id: str, sealed: bytes) -> bytes: ...
