"""The delivery rules: member rules and delays, retries, no retry on 4xx, idempotency."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestrix.domain.notifications import Channel, DeliveryError, Notice, NotificationFilter
from orchestrix.domain.pagination import PageRequest

from .fakes import ScriptedSender, add_member, harness

TENANT = "t-unit"
HOOK = Channel("webhook", "https://hooks.example.com/abc123", "s" * 32)


def notice(key: str = "inc-1/level-1", **context: str) -> Notice:
    return Notice(
        key,
        "high",
        "API down",
        "5xx above 20%",
        {"acknowledge": "https://x/ack"},
        dict(context) or {"incident_id": "inc-1"},
    )


def alice(h) -> None:  # type: ignore[no-untyped-def]
    add_member(
        h,
        TENANT,
        "mem-a",
        {
            "name": "Alice",
            "contact_methods": [
                {"type": "sms", "address": "+491701234567"},
                {"type": "email", "address": "alice@example.com"},
            ],
            "notification_rules": {
                "high": [
                    {"contact_method": 0, "delay_minutes": 0},
                    {"contact_method": 1, "delay_minutes": 5},
                ],
            },
        },
    )


def test_member_rules_send_now_and_schedule_the_delayed_method() -> None:
    # given a member: high urgency → SMS now, email after 5 minutes
    h = harness(ScriptedSender())
    alice(h)
    # when paged
    ids = h.service.notify_member(TENANT, "mem-a", notice(), "system:test")
    # then the SMS left at once and the email waits for its schedule
    assert [c.type for c, _ in h.sender.delivered] == ["sms"]
    assert len(ids) == 2 and len(h.scheduler.pending) == 1
    # and when 5 minutes pass the email goes too
    assert h.fire_due(timedelta(minutes=5)) == 1
    assert [c.type for c, _ in h.sender.delivered] == ["sms", "email"]
    assert {h.service.get(TENANT, "x", i).status for i in ids} == {"sent"}


def test_acknowledging_cancels_the_delayed_notification() -> None:
    h = harness(ScriptedSender())
    alice(h)
    ids = h.service.notify_member(TENANT, "mem-a", notice(), "system:test")
    # when the incident is acknowledged before the 5 minutes are up
    cancelled = h.service.cancel_pending(TENANT, "incident_id", "inc-1")
    h.fire_due(timedelta(minutes=10))
    # then the email never leaves
    assert cancelled == 1
    assert [c.type for c, _ in h.sender.delivered] == ["sms"]
    assert h.service.get(TENANT, "x", ids[1]).status == "cancelled"


def test_same_idempotency_key_is_never_sent_twice() -> None:
    h = harness(ScriptedSender())
    first = h.service.notify_channel(TENANT, HOOK, notice("k-1"), "system:test")
    again = h.service.notify_channel(TENANT, HOOK, notice("k-1"), "system:test")
    assert first == again
    assert h.sender.calls == 1


def test_a_notification_stored_but_never_attempted_is_sent_when_asked_again() -> None:
    # given a sender that stopped mid-attempt (the process died: nothing was recorded)
    h = harness(ScriptedSender(RuntimeError("Lambda timed out")))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        h.service.notify_channel(TENANT, HOOK, notice("k-1"), "system:test")
    [stored] = h.service.list(TENANT, "x", NotificationFilter(), PageRequest()).items
    assert (stored.status, stored.attempts, h.sender.delivered) == ("pending", 0, [])
    # when its maker asks again with the same key (a fan-out run started again)
    h.service.notify_channel(TENANT, HOOK, notice("k-1"), "system:test")
    h.service.notify_channel(TENANT, HOOK, notice("k-1"), "system:test")
    # then it is sent, once
    assert len(h.sender.delivered) == 1
    assert h.service.get(TENANT, "x", stored.id).status == "sent"


def test_the_same_key_in_another_tenant_is_another_notification() -> None:
    h = harness(ScriptedSender())
    h.service.notify_channel(TENANT, HOOK, notice("k-1"), "system:test")
    h.service.notify_channel("t-other", HOOK, notice("k-1"), "system:test")
    assert h.sender.calls == 2


def test_server_errors_are_retried_with_backoff_until_delivered() -> None:
    # given a receiver that fails twice with 5xx, then succeeds
    h = harness(
        ScriptedSender(
            DeliveryError("answered 500", retryable=True),
            DeliveryError("answered 503", retryable=True),
        )
    )
    nid = h.service.notify_channel(TENANT, HOOK, notice(), "system:test")
    after_first = h.service.get(TENANT, "x", nid)
    assert (after_first.status, after_first.attempts) == ("pending", 1)
    # when the backoff schedules fire
    h.fire_due(timedelta(seconds=30))
    h.fire_due(timedelta(minutes=2))
    # then it was delivered exactly once, on the third attempt
    final = h.service.get(TENANT, "x", nid)
    assert (final.status, final.attempts, final.error) == ("sent", 3, None)
    assert len(h.sender.delivered) == 1
    assert h.scheduler.pending == {}


def test_the_retry_waits_for_its_backoff() -> None:
    h = harness(ScriptedSender(DeliveryError("answered 500", retryable=True)))
    h.service.notify_channel(TENANT, HOOK, notice(), "system:test")
    assert h.fire_due(timedelta(seconds=29)) == 0
    assert h.fire_due(timedelta(seconds=1)) == 1


def test_client_errors_are_not_retried() -> None:
    h = harness(ScriptedSender(DeliveryError("receiver answered 400: bad", retryable=False)))
    nid = h.service.notify_channel(TENANT, HOOK, notice(), "system:test")
    failed = h.service.get(TENANT, "x", nid)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "400" in (failed.error or "")
    assert h.scheduler.pending == {}


def test_retries_stop_after_the_last_attempt() -> None:
    h = harness(ScriptedSender(*[DeliveryError("timeout", retryable=True)] * 10))
    nid = h.service.notify_channel(TENANT, HOOK, notice(), "system:test")
    for _ in range(10):
        h.fire_due(timedelta(hours=1))
    final = h.service.get(TENANT, "x", nid)
    assert (final.status, final.attempts) == ("failed", 5)


def test_a_redelivered_schedule_does_not_send_again() -> None:
    h = harness(ScriptedSender())
    nid = h.service.notify_channel(TENANT, HOOK, notice(), "system:test")
    # when the notify function is invoked again for the same notification (retried invoke)
    h.service.deliver(TENANT, nid)
    assert h.sender.calls == 1


def test_the_log_shows_a_masked_webhook_address() -> None:
    h = harness(ScriptedSender())
    nid = h.service.notify_channel(TENANT, HOOK, notice(), "system:test")
    assert h.service.get(TENANT, "x", nid).target == "…c123"
