"""SMS through Amazon SNS `Publish` to a phone number (transactional: pages are urgent)."""

from __future__ import annotations

from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from orchestrix.adapters.notify.aws_errors import delivery_error
from orchestrix.domain.notifications import Channel, Notice

SMS_MAX_CHARS: Final = 1600  # SNS splits longer texts; keep a page readable


def sms_text(notice: Notice) -> str:
    ack = notice.links.get("acknowledge")
    text = f"{notice.title}: {notice.text}"
    if ack:
        text = f"{text} Ack: {ack}"
    return text[:SMS_MAX_CHARS]


class SnsSmsSender:
    def __init__(self, client: Any) -> None:
        self._client = client

    def __call__(self, channel: Channel, notice: Notice, notification_id: str) -> None:
        try:
            self._client.publish(
                PhoneNumber=channel.address,
                Message=sms_text(notice),
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise delivery_error("sns", exc) from exc
