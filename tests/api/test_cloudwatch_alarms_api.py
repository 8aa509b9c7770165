"""CloudWatch alarms reach a tenant only when named `orchestrix.<stage>.<tenant>.<name>`:
the EventBridge rule (emulated by the local dispatcher from the same wiring pattern) and the
intake function both refuse alarms without this stage's marker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrix import bootstrap
from orchestrix.local.event_rules import LocalEventDispatcher
from tests.api.conftest import Client, token
from tests.api.test_alerting_api import RecordedEvents


@pytest.fixture(scope="module")
def api(client: Client) -> Iterator[Client]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bootstrap, "event_publisher", RecordedEvents)
        yield client


@pytest.fixture
def tenant() -> str:
    return f"cw-{uuid.uuid4().hex[:10]}"


def alarm_event(name: str, state: str = "ALARM") -> dict[str, Any]:
    return {
        "version": "0",
        "id": uuid.uuid4().hex,
        "source": "aws.cloudwatch",
        "detail-type": "CloudWatch Alarm State Change",
        "account": "123456789012",
        "region": "us-east-1",
        "time": "2026-12-04T10:00:00Z",
        "resources": [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {"value": state, "reason": "Threshold Crossed"},
            "configuration": {"description": "CPU above 90%"},
        },
    }


def deliver(api: Client, event: dict[str, Any]) -> list[Any]:
    """What EventBridge would do with the event on the account's default bus."""
    results: list[Any] = []
    stage = bootstrap.settings().stage

    def invoke(name: str, ev: dict[str, Any]) -> None:
        results.append((name, api.gateway.host.invoke(name, ev)))

    LocalEventDispatcher(invoke, stage=stage).dispatch("default", event)
    return results


def alerts(api: Client, tenant: str) -> list[dict[str, Any]]:
    return list(api.get("/api/v1/alerts", token(tenant, "viewer")).json["items"])


def create_tenant(api: Client, tenant: str) -> None:
    """Tenants come into being on their first write (here: an API key)."""
    created = api.post("/api/v1/api-keys", token(tenant), {"name": "k", "scopes": ["alerts:write"]})
    assert created.status == 201, created.body


def test_alarm_named_for_this_stage_and_tenant_lands_in_that_tenant(
    api: Client, tenant: str
) -> None:
    other = f"cw-{uuid.uuid4().hex[:10]}"
    stage = bootstrap.settings().stage
    create_tenant(api, tenant)
    create_tenant(api, other)

    delivered = deliver(api, alarm_event(f"orchestrix.{stage}.{tenant}.cpu-high"))

    assert [name for name, _ in delivered] == ["alert_intake"]
    (alert,) = alerts(api, tenant)
    assert alert["labels"]["alertname"] == "cpu-high"
    assert alert["status"] == "firing"
    assert alerts(api, other) == []


@pytest.mark.parametrize(
    "name",
    [
        "{tenant}-cpu-high",  # no marker at all (any alarm of the account)
        "orchestrix.other.{tenant}.cpu-high",  # another stage's alarm
        "orchestrix.{stage}x.{tenant}.cpu-high",  # a stage whose name extends this one
        "orchestrix-{stage}-{tenant}-cpu-high",  # hyphens are not the marker
    ],
)
def test_alarm_without_this_stages_marker_is_not_taken_in(
    api: Client, tenant: str, name: str
) -> None:
    stage = bootstrap.settings().stage
    create_tenant(api, tenant)
    event = alarm_event(name.format(stage=stage, tenant=tenant))

    assert deliver(api, event) == []  # the rule does not match
    # and the function refuses it too if it is invoked anyway (e.g. a hand-made rule)
    reply = api.gateway.host.invoke("alert_intake", event)
    assert "ignored" in reply
    assert alerts(api, tenant) == []


@pytest.mark.parametrize("bad_tenant", ["Acme", "-acme", "a" * 64, ""])
def test_alarm_naming_an_invalid_tenant_is_dropped(api: Client, bad_tenant: str) -> None:
    stage = bootstrap.settings().stage
    event = alarm_event(f"orchestrix.{stage}.{bad_tenant}.cpu-high")

    reply = api.gateway.host.invoke("alert_intake", event)

    assert reply == {"ignored": f"alarm name is not orchestrix.{stage}.<tenant>.<name>"}


def test_alarm_naming_a_tenant_that_does_not_exist_creates_nothing(
    api: Client, tenant: str
) -> None:
    stage = bootstrap.settings().stage

    delivered = deliver(api, alarm_event(f"orchestrix.{stage}.{tenant}.cpu-high"))

    assert delivered == [("alert_intake", {"ignored": "the alarm names no existing tenant"})]
    assert tenant not in bootstrap.tenant_ids()
    assert alerts(api, tenant) == []


@pytest.mark.parametrize(
    "detail",
    [
        {},  # no alarm name
        "not an object",
        {"alarmName": "orchestrix.x.y.z", "state": {"value": "SOMETHING"}},
        {"alarmName": ["a"], "state": "ALARM"},
    ],
)
def test_a_malformed_alarm_event_is_dropped_not_retried(api: Client, detail: Any) -> None:
    """A Lambda error would make EventBridge retry the same bad event; it is logged and
    dropped instead."""
    event = {**alarm_event("orchestrix.x.y.z"), "detail": detail}

    reply = api.gateway.host.invoke("alert_intake", event)

    assert reply == {"ignored": "not a CloudWatch Alarm State Change event"}
