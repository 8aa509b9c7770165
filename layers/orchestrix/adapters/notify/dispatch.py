"""One Sender for all channel types: picks the adapter by `channel.type`."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrix.domain.notifications import Channel, ChannelType, DeliveryError, Notice, Sender


class ChannelSender:
    def __init__(self, senders: Mapping[ChannelType, Sender]) -> None:
        self._senders = dict(senders)

    def __call__(self, channel: Channel, notice: Notice, notification_id: str) -> None:
        sender = self._senders.get(channel.type)
        if sender is None:
            raise DeliveryError(f"channel type {channel.type!r} is not configured", retryable=False)
        sender(channel, notice, notification_id)
