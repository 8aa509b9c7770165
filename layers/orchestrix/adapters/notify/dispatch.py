"""One Sender for all channel types: picks the adapter by `channel.type`.

It is also where links become absolute: services build API paths (`/api/v1/...`) because
they do not know where the API is reachable, and Slack buttons or an email reader need a
full URL. Doing it here, at send time, covers every channel and keeps stored links stable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from orchestrix.domain.notifications import Channel, ChannelType, DeliveryError, Notice, Sender


def absolute_links(links: Mapping[str, str], public_url: str | None) -> dict[str, str]:
    """Each API path (`/...`) prefixed with `public_url`; full URLs and, without a base,
    everything is left as it is. The base may carry a path (an API Gateway stage URL)."""
    if not public_url:
        return dict(links)
    base = public_url.rstrip("/")
    return {
        name: f"{base}{url}" if url.startswith("/") and not url.startswith("//") else url
        for name, url in links.items()
    }


class ChannelSender:
    def __init__(
        self, senders: Mapping[ChannelType, Sender], public_url: str | None = None
    ) -> None:
        self._senders = dict(senders)
        self._public_url = public_url

    def __call__(self, channel: Channel, notice: Notice, notification_id: str) -> None:
        sender = self._senders.get(channel.type)
        if sender is None:
            raise DeliveryError(f"channel type {channel.type!r} is not configured", retryable=False)
        links = absolute_links(notice.links, self._public_url)
        sender(channel, replace(notice, links=links), notification_id)
