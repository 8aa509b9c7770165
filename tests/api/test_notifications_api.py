"""Delivery to real local receivers (standing in for Slack and a webhook), SES/SNS via moto,
retries fired by the local scheduler, and what the notifications API shows."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from orchestrix import bootstrap
from orchestrix.adapters.notify import components
from orchestrix.adapters.notify.dispatch import ChannelSender
from orchestrix.adapters.notify.ses import SesSender
from orchestrix.adapters.notify.webhook import SIGNATURE_HEADER, verify
from orchestrix.domain.notifications import Channel, Notice
from orchestrix.local.functions import FunctionHost
from orchestrix.local.one_time import MotoOneTimeSchedules
from orchestrix.local.scheduler import LocalScheduler

from .conftest import Client, in_process_aws, token

SECRET = "whsec-0123456789abcdef"


@dataclass
class Receiver:
    """A loopback HTTP server answering each POST with the next scripted status."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    url: str = ""

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.requests.append((dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def delivered(self) -> list[bytes]:
        return [body for _, body, status in self.requests if status == 200]


@pytest.fixture(scope="module")
def aws(client: Client) -> Iterator[None]:
    """moto for KMS, the scheduler, SES and SNS, in this process."""
    with in_process_aws():
        bootstrap.boto3_client("scheduler").create_schedule_group(
            Name=bootstrap.settings().schedule_group_name
        )
        yield


@pytest.fixture
def scheduler(aws: None) -> LocalScheduler:
    """Fires one-time schedules (delays, retries) on the adjustable clock, like `tick`."""
    one_time = MotoOneTimeSchedules(
        bootstrap.boto3_client("scheduler"), bootstrap.settings().schedule_group_name
    )
    return LocalScheduler(bootstrap.clock(), FunctionHost().invoke, (), one_time)  # type: ignore[arg-type]


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def notice(incident: str = "inc-1") -> Notice:
    return Notice(
        idempotency_key=f"{incident}/level-1",
        urgency="high",
        title="checkout-api is down",
        text="5xx ratio 34% for 5m",
        links={"acknowledge": "https://orx.example/ack/1", "resolve": "https://orx.example/res/1"},
        context={"incident_id": incident, "escalation_level": 1},
    )


def member(client: Client, t: str, methods: list[dict[str, Any]], rules: Any = None) -> str:
    body = {"name": "Alice", "contact_methods": methods, "notification_rules": rules or {}}
    reply = client.post("/api/v1/members", token(t, "editor"), body)
    assert reply.status == 201, reply.body
    return str(reply.json["id"])


def log(client: Client, t: str, query: str = "") -> list[dict[str, Any]]:
    reply = client.get(f"/api/v1/notifications{query}", token(t, "viewer"))
    assert reply.status == 200, reply.body
    return list(reply.json["items"])


def test_webhook_failing_twice_is_delivered_once_after_retries(
    client: Client, scheduler: LocalScheduler
) -> None:
    t = tenant()
    with Receiver(statuses=[500, 500, 200]) as hook:
        alice = member(
            client, t, [{"type": "webhook", "address": hook.url, "signing_secret": SECRET}]
        )
        # when she is paged and the receiver fails twice
        [nid] = components.notification_service().notify_member(t, alice, notice(), "test")
        assert log(client, t)[0]["status"] == "pending"
        scheduler.advance(timedelta(minutes=3))  # backoff 30 s, then 2 min
        # then exactly one request succeeded, after three attempts
        assert [status for _, _, status in hook.requests] == [500, 500, 200]
        assert len(hook.delivered) == 1
        headers, body, _ = hook.requests[-1]
        assert verify(SECRET, headers[SIGNATURE_HEADER], body, now=int(time.time()))
        payload = json.loads(body)
        assert payload["links"]["acknowledge"] == "https://orx.example/ack/1"
        assert payload["context"]["incident_id"] == "inc-1"
    [entry] = log(client, t)
    assert (entry["id"], entry["status"], entry["attempts"], entry["error"]) == (
        nid,
        "sent",
        3,
        None,
    )
    assert entry["channel"] == "webhook" and hook.url not in json.dumps(entry)


def test_webhook_answering_400_is_not_retried_and_the_failure_is_visible(
    client: Client, scheduler: LocalScheduler
) -> None:
    t = tenant()
    with Receiver(statuses=[400]) as hook:
        alice = member(
            client, t, [{"type": "webhook", "address": hook.url, "signing_secret": SECRET}]
        )
        components.notification_service().notify_member(t, alice, notice(), "test")
        scheduler.advance(timedelta(minutes=30))
        assert len(hook.requests) == 1
    [failed] = log(client, t, "?status=failed")
    assert failed["attempts"] == 1 and "400" in failed["error"]
    assert log(client, t, "?status=sent") == []


def test_same_idempotency_key_pages_only_once(client: Client, aws: None) -> None:
    t = tenant()
    with Receiver() as hook:
        alice = member(
            client, t, [{"type": "webhook", "address": hook.url, "signing_secret": SECRET}]
        )
        first = components.notification_service().notify_member(t, alice, notice(), "test")
        again = components.notification_service().notify_member(t, alice, notice(), "test")
        assert first == again and len(hook.requests) == 1


def test_slack_gets_block_kit_with_acknowledge_and_resolve_links(client: Client, aws: None) -> None:
    t = tenant()
    with Receiver() as slack:
        alice = member(client, t, [{"type": "slack", "address": slack.url}])
        components.notification_service().notify_member(t, alice, notice(), "test")
        message = json.loads(slack.delivered[0])
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    assert {e["action_id"]: e["url"] for e in actions["elements"]} == {
        "acknowledge": "https://orx.example/ack/1",
        "resolve": "https://orx.example/res/1",
    }
    assert log(client, t)[0]["target"] == "…hook"


def test_delayed_sms_goes_out_after_its_delay_unless_acknowledged(
    client: Client, scheduler: LocalScheduler
) -> None:
    t = tenant()
    methods = [
        {"type": "sms", "address": "+15550001111"},
        {"type": "sms", "address": "+15550002222"},
    ]
    rules = {"high": [{"contact_method": 0}, {"contact_method": 1, "delay_minutes": 5}]}
    alice = member(client, t, methods, rules)
    sms = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages
    service = components.notification_service()
    # first incident: nobody acknowledges, both texts go out
    service.notify_member(t, alice, notice(f"{t}-1"), "test")
    scheduler.advance(timedelta(minutes=5))
    numbers = [number for number, _ in sms.values()]
    assert numbers.count("+15550001111") >= 1 and "+15550002222" in numbers
    sent_before = len(sms)
    # second incident: acknowledged before the delay, the second text never leaves
    service.notify_member(t, alice, notice(f"{t}-2"), "test")
    assert service.cancel_pending(t, "incident_id", f"{t}-2") == 1
    scheduler.advance(timedelta(minutes=10))
    assert len(sms) == sent_before + 1
    assert len(log(client, t, "?status=cancelled")) == 1


def test_email_is_sent_through_ses(client: Client, aws: None) -> None:
    t = tenant()
    ses = boto3.client("ses", region_name="us-east-1")
    ses.verify_email_identity(EmailAddress="oncall@orx.example")
    sender = ChannelSender({"email": SesSender(ses, "oncall@orx.example")})
    service = components.notification_service(sender)
    service.notify_channel(t, Channel("email", "alice@example.com"), notice(), "test")
    [message] = [
        m
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if m.destinations["ToAddresses"] == ["alice@example.com"]
    ][-1:]
    assert message.subject == "[HIGH] checkout-api is down"
    assert "https://orx.example/ack/1" in message.body
    assert log(client, t)[0]["status"] == "sent"


def test_webhook_to_cloud_metadata_is_refused_by_egress_policy(client: Client, aws: None) -> None:
    t = tenant()
    channel = Channel("webhook", "http://169.254.169.254/latest/meta-data", SECRET)
    components.notification_service().notify_channel(t, channel, notice(), "test")
    [entry] = log(client, t)
    assert entry["status"] == "failed" and "egress" in entry["error"]


def test_notifications_of_another_tenant_are_not_found(client: Client, aws: None) -> None:
    t, other = tenant(), tenant()
    channel = Channel("webhook", "http://169.254.169.254/x", SECRET)
    nid = components.notification_service().notify_channel(t, channel, notice(), "test")
    assert client.get(f"/api/v1/notifications/{nid}", token(other, "admin")).status == 404
    assert client.get(f"/api/v1/notifications/{nid}", token(t, "viewer")).status == 200
    assert log(client, other) == []
