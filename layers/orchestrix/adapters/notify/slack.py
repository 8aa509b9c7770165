"""Slack incoming webhooks: a Block Kit message with acknowledge/resolve buttons."""

from __future__ import annotations

from typing import Any

from orchestrix.adapters.notify.http_post import post_json
from orchestrix.domain.egress import EgressPolicy
from orchestrix.domain.notifications import Channel, Notice
from orchestrix.domain.workflow.http import HttpClient

_URGENCY_EMOJI = {"high": ":rotating_light:", "low": ":large_yellow_circle:"}


def slack_message(notice: Notice) -> dict[str, Any]:
    """`text` is the fallback Slack shows in notifications; blocks are the message."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": notice.title[:150], "emoji": True},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"{_URGENCY_EMOJI[notice.urgency]} *{notice.urgency} urgency*\n"
                f"{notice.text[:2900]}",
            },
        },
    ]
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": name.replace("_", " ").capitalize()},
            "url": url,
            "action_id": name,
            **({"style": "primary"} if name == "acknowledge" else {}),
        }
        for name, url in notice.links.items()
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons[:25]})
    context = ", ".join(f"{k}: {v}" for k, v in notice.context.items())
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": f"{notice.title}: {notice.text}"[:3000], "blocks": blocks}


class SlackSender:
    def __init__(self, client: HttpClient, egress: EgressPolicy) -> None:
        self._client = client
        self._egress = egress

    def __call__(self, channel: Channel, notice: Notice, notification_id: str) -> None:
        post_json(self._client, self._egress, channel.address, slack_message(notice))
