"""One-time schedules created through the real boto3 API fire on the adjustable clock."""

from __future__ import annotations

from datetime import timedelta

import boto3
from moto import mock_aws

from orchestrix.adapters.aws.scheduler import EventBridgeOneTimeScheduler
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.local.one_time import MotoOneTimeSchedules
from orchestrix.local.scheduler import LocalScheduler


@mock_aws
def test_due_at_schedule_fires_once_at_its_time_and_cancelled_one_never():
    client = boto3.client("scheduler", region_name="us-east-1")
    client.create_schedule_group(Name="orchestrix-test")
    clock = AdjustableClock()
    arn = "arn:aws:lambda:us-east-1:123456789012:function:{}".format
    scheduler = EventBridgeOneTimeScheduler(client, "orchestrix-test", "arn:role", arn)
    scheduler.schedule("esc-1", clock.now() + timedelta(minutes=5), "escalate", {"level": 2})
    scheduler.schedule("esc-2", clock.now() + timedelta(minutes=6), "escalate", {"level": 3})
    assert scheduler.cancel("esc-2") is True
    calls = []
    local = LocalScheduler(
        clock,
        lambda fn, payload: calls.append((fn, payload, clock.now())),
        schedules=(),
        one_time=MotoOneTimeSchedules(client, "orchestrix-test"),
    )

    assert local.advance(timedelta(minutes=4)) == []
    local.advance(timedelta(minutes=10))

    assert [(fn, payload) for fn, payload, _ in calls] == [("escalate", {"level": 2})]
    assert client.list_schedules(GroupName="orchestrix-test")["Schedules"] == []
    assert scheduler.cancel("esc-1") is False
