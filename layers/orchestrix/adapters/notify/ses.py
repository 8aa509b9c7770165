"""Email through Amazon SES (v1 `SendEmail`): a plain-text and an HTML part with the links."""

from __future__ import annotations

import html
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orchestrix.adapters.notify.aws_errors import delivery_error
from orchestrix.domain.notifications import Channel, DeliveryError, Notice


def email_bodies(notice: Notice) -> tuple[str, str]:
    links_text = "".join(f"\n{name}: {url}" for name, url in notice.links.items())
    text = f"{notice.text}\n{links_text}".rstrip()
    links_html = "".join(
        f'<li><a href="{html.escape(url)}">{html.escape(name)}</a></li>'
        for name, url in notice.links.items()
    )
    body_html = f"<h2>{html.escape(notice.title)}</h2><p>{html.escape(notice.text)}</p>" + (
        f"<ul>{links_html}</ul>" if links_html else ""
    )
    return text, body_html


class SesSender:
    def __init__(self, client: Any, from_address: str | None) -> None:
        self._client = client
        self._from = from_address

    def __call__(self, channel: Channel, notice: Notice, notification_id: str) -> None:
        if not self._from:
            raise DeliveryError("email is not configured (SES_FROM_ADDRESS)", retryable=False)
        text, body_html = email_bodies(notice)
        subject = f"[{notice.urgency.upper()}] {notice.title}"[:200]
        try:
            self._client.send_email(
                Source=self._from,
                Destination={"ToAddresses": [channel.address]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": text, "Charset": "UTF-8"},
                        "Html": {"Data": body_html, "Charset": "UTF-8"},
                    },
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise delivery_error("ses", exc) from exc
