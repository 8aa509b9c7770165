"""Notification links: API paths become absolute URLs under PUBLIC_URL, at send time."""

from __future__ import annotations

from typing import Any

from orchestrix.adapters.notify.dispatch import ChannelSender, absolute_links
from orchestrix.adapters.notify.slack import slack_message
from orchestrix.domain.notifications import Channel, Notice
from orchestrix.settings import Settings

LINKS = {
    "acknowledge": "/api/v1/incidents/inc-1/acknowledge",
    "runbook": "https://wiki.example.com/runbooks/checkout",
}


def notice(links: dict[str, str]) -> Notice:
    return Notice("k", "high", "Checkout down", "5xx above 20%", links, {"incident_id": "inc-1"})


def test_api_paths_get_the_public_url_and_full_urls_are_kept() -> None:
    links = absolute_links(LINKS, "https://ops.example.com")

    assert links == {
        "acknowledge": "https://ops.example.com/api/v1/incidents/inc-1/acknowledge",
        "runbook": "https://wiki.example.com/runbooks/checkout",
    }


def test_a_stage_url_keeps_its_path_and_a_trailing_slash_is_not_doubled() -> None:
    base = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/"

    links = absolute_links(LINKS, base)

    assert links["acknowledge"] == (
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/api/v1/incidents/inc-1/acknowledge"
    )


def test_without_a_public_url_links_stay_as_built() -> None:
    assert absolute_links(LINKS, None) == LINKS


def test_slack_buttons_sent_through_the_channel_sender_carry_absolute_urls() -> None:
    # given a sender that renders Slack messages, behind the one dispatcher
    sent: list[dict[str, Any]] = []

    def slack(channel: Channel, n: Notice, notification_id: str) -> None:
        sent.append(slack_message(n))

    dispatcher = ChannelSender({"slack": slack}, public_url="http://127.0.0.1:8080")

    # when a notice with an API path is sent
    dispatcher(Channel("slack", "http://127.0.0.1:9/hook"), notice(LINKS), "ntf-1")

    # then the acknowledge button points at the API, not at a relative path
    (message,) = sent
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    buttons = {e["action_id"]: e["url"] for e in actions["elements"]}
    assert buttons["acknowledge"] == "http://127.0.0.1:8080/api/v1/incidents/inc-1/acknowledge"


def test_public_url_setting_is_read_without_its_trailing_slash() -> None:
    assert Settings.from_env({"PUBLIC_URL": "https://ops.example.com/"}).public_url == (
        "https://ops.example.com"
    )
    assert Settings.from_env({}).public_url is None
