"""Microsoft Teams incoming webhooks (workflow or connector): an Adaptive Card."""

from __future__ import annotations

from typing import Any

from orchestrix.adapters.notify.http_post import post_json
from orchestrix.domain.egress import EgressPolicy
from orchestrix.domain.notifications import Channel, Notice
from orchestrix.domain.workflow.http import HttpClient


def teams_message(notice: Notice) -> dict[str, Any]:
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Large", "weight": "Bolder", "text": notice.title},
            {"type": "TextBlock", "wrap": True, "text": notice.text},
            {
                "type": "FactSet",
                "facts": [{"title": "urgency", "value": notice.urgency}]
                + [{"title": k, "value": str(v)} for k, v in notice.context.items()],
            },
        ],
        "actions": [
            {"type": "Action.OpenUrl", "title": name.replace("_", " ").capitalize(), "url": url}
            for name, url in notice.links.items()
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


class TeamsSender:
    def __init__(self, client: HttpClient, egress: EgressPolicy) -> None:
        self._client = client
        self._egress = egress

    def __call__(self, channel: Channel, notice: Notice, notification_id: str) -> None:
        post_json(self._client, self._egress, channel.address, teams_message(notice))
