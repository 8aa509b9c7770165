"""What receivers get: Slack Block Kit with buttons, signed webhooks, sealed secrets."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from orchestrix.adapters.notify.slack import slack_message
from orchestrix.adapters.notify.webhook import sign, verify
from orchestrix.adapters.secrets import KmsSecretBox, SecretBoxError
from orchestrix.domain.notifications import Notice

NOTICE = Notice(
    "k",
    "high",
    "API down",
    "5xx above 20%",
    {"acknowledge": "https://o.example/ack", "resolve": "https://o.example/resolve"},
    {"incident_id": "inc-1"},
)


def test_slack_message_has_acknowledge_and_resolve_buttons() -> None:
    message = slack_message(NOTICE)
    actions = [b for b in message["blocks"] if b["type"] == "actions"][0]
    buttons = {e["action_id"]: e["url"] for e in actions["elements"]}
    assert buttons == {
        "acknowledge": "https://o.example/ack",
        "resolve": "https://o.example/resolve",
    }
    assert message["blocks"][0]["text"]["text"] == "API down"
    assert "API down" in message["text"]


def test_webhook_signature_verifies_and_rejects_tampering_and_replays() -> None:
    body = b'{"title":"API down"}'
    header = sign("secret-0123456789", 1_700_000_000, body)
    assert verify("secret-0123456789", header, body, now=1_700_000_010)
    assert not verify("secret-0123456789", header, body + b" ", now=1_700_000_010)
    assert not verify("another-secret-xx", header, body, now=1_700_000_010)
    # a captured request replayed ten minutes later is refused
    assert not verify("secret-0123456789", header, body, now=1_700_000_600)


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("kms", region_name="us-east-1")


def test_sealed_secret_opens_only_for_its_tenant(kms) -> None:  # type: ignore[no-untyped-def]
    box = KmsSecretBox.with_alias(kms, "alias/orchestrix-test-secrets", create=True)
    sealed = box.seal("tenant-a", b"https://hooks.slack.com/services/T/B/xyz")
    assert b"hooks.slack.com" not in sealed
    assert box.open("tenant-a", sealed) == b"https://hooks.slack.com/services/T/B/xyz"
    fresh = KmsSecretBox(kms, "alias/orchestrix-test-secrets")  # no cached data keys
    with pytest.raises(SecretBoxError):
        fresh.open("tenant-b", sealed)
