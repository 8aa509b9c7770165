"""Member Slack/Teams/webhook addresses pass the egress policy when saved (create and
update), as they must when a page is sent: refused with a 422 naming the address."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import Client, in_process_aws, token

MEMBERS = "/api/v1/members"
SECRET = "k" * 20 + "WXYZ"


@pytest.fixture(scope="module")
def aws(client: Client) -> Iterator[None]:
    with in_process_aws():
        yield


def tenant() -> str:
    return f"eg-{uuid.uuid4().hex[:12]}"


def member(*methods: dict[str, Any]) -> dict[str, Any]:
    return {"name": "Bob", "contact_methods": [{"type": "sms", "address": "+491701234567"},
                                               *methods]}  # fmt: skip


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        ({"type": "webhook", "address": "http://169.254.169.254/latest/meta-data/",
          "signing_secret": SECRET}, "link-local"),
        ({"type": "slack", "address": "https://10.0.0.5/services/T0/B0/x"}, "private"),
        ({"type": "teams", "address": "http://0.0.0.0:8080/hook"}, "private or reserved"),
        ({"type": "slack", "address": "https://[::ffff:169.254.169.254]/x"}, "link-local"),
    ],
)  # fmt: skip
def test_refused_channel_address_is_422_at_create_and_nothing_is_stored(
    client: Client, aws: None, method: dict[str, Any], reason: str
) -> None:
    t = tenant()

    reply = client.post(MEMBERS, token(t, "editor"), member(method))

    assert reply.status == 422, reply.body
    assert reply.content_type == "application/problem+json"
    (error,) = reply.json["errors"]
    assert error["loc"] == ["body", "contact_methods", 1, "address"]
    assert error["msg"].startswith("address refused by the egress policy")
    assert reason in error["msg"]
    assert client.get(MEMBERS, token(t, "viewer")).json["items"] == []


def test_refused_channel_address_is_422_at_update_and_the_member_is_unchanged(
    client: Client, aws: None
) -> None:
    t = tenant()
    good = {"type": "webhook", "address": "https://hooks.example.com/p", "signing_secret": SECRET}
    created = client.post(MEMBERS, token(t, "editor"), member(good))
    assert created.status == 201, created.body
    path = f"{MEMBERS}/{created.json['id']}"
    bad = {**good, "address": "http://169.254.169.254/latest/meta-data/iam/"}

    reply = client.request("PUT", path, token(t, "editor"), member(good, bad))

    assert reply.status == 422, reply.body
    assert [e["loc"] for e in reply.json["errors"]] == [["body", "contact_methods", 2, "address"]]
    shown = client.get(path, token(t, "viewer")).json
    assert [m["type"] for m in shown["contact_methods"]] == ["sms", "webhook"]
    assert shown["contact_methods"][1]["address"] == "…om/p"
