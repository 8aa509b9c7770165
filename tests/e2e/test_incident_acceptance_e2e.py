"""Incident response end to end against a real `orchestrix dev`, started from alerts:
a firing rule pages whoever is on call through Slack, escalates to a webhook, stops on
acknowledgement and reports MTTA/MTTR; an Alertmanager storm of 200 alerts is one incident."""

from __future__ import annotations

import time
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from orchestrix.adapters.notify.webhook import SIGNATURE_HEADER, verify
from tests.e2e.conftest import DevServer
from tests.e2e.receivers import Receiver, receiver_fixture  # noqa: F401 - the fixture

SECRET = "e2e-signing-secret-0123456789"


def ok(reply: tuple[int, dict[str, str], Any], status: int = 200) -> Any:
    assert reply[0] == status, reply[2]
    return reply[2]


def tick(dev: DevServer, advance: str) -> None:
    result = dev.cli("tick", "--advance", advance)
    assert result.returncode == 0, result.stdout + result.stderr


def dev_now(dev: DevServer) -> datetime:
    return datetime.fromisoformat(
        ok(dev.request("POST", "/_local/tick", None, {"advance": "0s"}))["now"]
    )


def api_key(dev: DevServer, tenant: str, scope: str) -> str:
    created = dev.cli("api-key", "create", "--tenant", tenant, "--scope", scope)
    assert created.returncode == 0, created.stderr
    return created.stdout.split()[0]


def import_metrics(dev: DevServer, key: str, text: str) -> None:
    request = urllib.request.Request(
        dev.url + "/api/v1/metrics/import",
        data=text.encode(),
        method="POST",
        headers={"Content-Type": "text/plain; version=0.0.4", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 204


def member(dev: DevServer, token: str, name: str, contact: dict[str, str]) -> str:
    body = {"name": name, "contact_methods": [contact]}
    return str(ok(dev.request("POST", "/api/v1/members", token, body), 201)["id"])


def weekly_schedule(dev: DevServer, token: str, members: list[str]) -> str:
    """A weekly rotation of `members` whose first week began an hour ago."""
    start = (dev_now(dev) - timedelta(hours=1)).replace(second=0, microsecond=0)
    layer = {
        "name": "weekly",
        "rotation": "weekly",
        "handoff_time": start.strftime("%H:%M"),
        "start": start.isoformat(),
        "members": members,
    }
    body = {"name": "primary", "time_zone": "UTC", "layers": [layer]}
    return str(ok(dev.request("POST", "/api/v1/oncall/schedules", token, body), 201)["id"])


def policy(dev: DevServer, token: str, levels: list[dict[str, Any]], repeat: int = 0) -> str:
    body = {"name": "checkout", "repeat": repeat, "levels": levels}
    return str(ok(dev.request("POST", "/api/v1/escalation-policies", token, body), 201)["id"])


def incidents(dev: DevServer, token: str) -> list[dict[str, Any]]:
    return ok(dev.request("GET", "/api/v1/incidents", token))["items"]  # type: ignore[no-any-return]


def at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["at"])


def test_firing_rule_pages_on_call_escalates_stops_on_ack_and_reports(
    dev: DevServer, receiver: Receiver
) -> None:
    # given Ada (Slack) and Bob (signed webhook) on a weekly rotation, Ada's week first
    tenant = f"e2e-acc-{uuid.uuid4().hex[:10]}"
    token = dev.token(tenant, "admin")
    ada = member(dev, token, "Ada", {"type": "slack", "address": f"{receiver.url}/slack/ada"})
    bob_hook = {"type": "webhook", "address": f"{receiver.url}/hooks/bob", "signing_secret": SECRET}
    bob = member(dev, token, "Bob", bob_hook)
    schedule_id = weekly_schedule(dev, token, [ada, bob])
    # and a policy: the schedule for 5 minutes, then Bob, one extra round
    policy_id = policy(
        dev,
        token,
        [
            {"delay_minutes": 5, "targets": [{"type": "schedule", "id": schedule_id}]},
            {"delay_minutes": 5, "targets": [{"type": "member", "id": bob}]},
        ],
        repeat=1,
    )
    # and SEV1 targets this incident meets, so the timeline holds no breach
    sla = {"sla": {"SEV1": {"ack_minutes": 15, "resolve_minutes": 60}}}
    ok(dev.request("PUT", "/api/v1/incident-settings", token, sla))
    # and a critical rule using that policy, over an error count that is too high
    import_metrics(
        dev, api_key(dev, tenant, "metrics:write"), 'e2e_checkout_errors{service="checkout"} 42\n'
    )
    rule = {
        "name": "CheckoutErrors",
        # max_over_time keeps the alert firing for the whole scenario from one import.
        "expr": "max_over_time(e2e_checkout_errors[1h]) > 10",
        "for": "1m",
        "severity": "critical",
        "annotations": {"summary": "Checkout is failing"},
        "escalation_policy_id": policy_id,
    }
    ok(dev.request("POST", "/api/v1/alert-rules", token, rule), 201)
    assert incidents(dev, token) == []

    # when two minutes pass on the local clock, then the rule fires: one SEV1 incident
    tick(dev, "2m")
    [incident] = incidents(dev, token)
    assert (incident["status"], incident["severity"], incident["service"]) == (
        "triggered",
        "SEV1",
        "checkout",
    )
    assert (incident["escalation_policy_id"], incident["alert_count"]) == (policy_id, 1)
    assert incident["labels"]["alertname"] == "CheckoutErrors"
    # and only Ada, on call this week, got one Slack message with acknowledge/resolve buttons
    assert receiver.paths() == ["/slack/ada"]
    slack = receiver.received[0].json
    assert slack["blocks"][0]["text"]["text"] == "[SEV1] Checkout is failing"
    buttons = {b["action_id"]: b["url"] for b in slack["blocks"][2]["elements"]}
    assert buttons["acknowledge"] == f"{dev.url}/api/v1/incidents/{incident['id']}/acknowledge"
    assert buttons["acknowledge"].startswith("http://127.0.0.1:")

    # when nobody acknowledges for 5 minutes, then Bob's webhook gets one signed page
    tick(dev, "5m")
    assert receiver.paths() == ["/slack/ada", "/hooks/bob"]
    page = receiver.received[1]
    assert verify(SECRET, page.headers[SIGNATURE_HEADER.lower()], page.raw, int(time.time()))
    assert page.json["title"] == "[SEV1] Checkout is failing"
    assert page.json["context"]["incident_id"] == incident["id"]

    # when Bob acknowledges and 30 more minutes pass, then nobody else is paged
    path = f"/api/v1/incidents/{incident['id']}"
    ok(dev.request("POST", f"{path}/acknowledge", dev.token(tenant, "responder")))
    tick(dev, "30m")
    assert receiver.paths() == ["/slack/ada", "/hooks/bob"]
    query = urlencode({"incident_id": incident["id"]})
    sent = ok(dev.request("GET", f"/api/v1/notifications?{query}", token))["items"]
    assert sorted((n["member_id"], n["channel"], n["status"]) for n in sent) == sorted(
        [(ada, "slack", "sent"), (bob, "webhook", "sent")]
    )

    # when it is resolved, then the timeline tells the story in order, with times
    ok(dev.request("POST", f"{path}/resolve", token))
    timeline = ok(dev.request("GET", f"{path}/timeline", token))["items"]
    assert [e["kind"] for e in timeline] == [
        *("triggered", "notified", "escalated", "notified", "acknowledged", "resolved"),
    ]
    triggered, to_ada, escalated, to_bob, acked, resolved = timeline
    assert [to_ada["data"]["member_id"], to_bob["data"]["member_id"]] == [ada, bob]
    assert escalated["data"]["level"] == 2
    # level 1 pages at once; level 2 on its 5-minute mark (whole-second schedules: +-1 s)
    assert at(to_ada) - at(triggered) < timedelta(minutes=1)
    assert timedelta(minutes=5, seconds=-1) <= at(escalated) - at(triggered) < timedelta(minutes=6)
    assert at(escalated) <= at(to_bob) < at(acked) < at(resolved)
    assert at(acked) - at(triggered) >= timedelta(minutes=5, seconds=-1)
    assert at(resolved) - at(acked) >= timedelta(minutes=30)

    # and the report's MTTA/MTTR are exactly those of the timeline
    window = {
        "from": (at(triggered) - timedelta(minutes=1)).isoformat(),
        "to": (at(resolved) + timedelta(minutes=1)).isoformat(),
    }
    report = ok(dev.request("GET", f"/api/v1/reports/incidents?{urlencode(window)}", token))
    mtta = (at(acked) - at(triggered)).total_seconds()
    mttr = (at(resolved) - at(triggered)).total_seconds()
    for stats in (report["total"], report["by_severity"]["SEV1"], report["by_service"]["checkout"]):
        assert (stats["count"], stats["acknowledged"], stats["resolved"]) == (1, 1, 1)
        assert stats["mtta_seconds"] == pytest.approx(mtta, abs=0.001)
        assert stats["mttr_seconds"] == pytest.approx(mttr, abs=0.001)
        assert (stats["ack_breaches"], stats["resolve_breaches"]) == (0, 0)


def test_alertmanager_storm_of_200_alerts_is_one_incident_and_one_page(
    dev: DevServer, receiver: Receiver
) -> None:
    # given a tenant whose default policy pages Carol
    tenant = f"e2e-storm-{uuid.uuid4().hex[:10]}"
    token = dev.token(tenant, "admin")
    hook = {"type": "webhook", "address": f"{receiver.url}/hooks/carol", "signing_secret": SECRET}
    carol = member(dev, token, "Carol", hook)
    default = policy(
        dev, token, [{"delay_minutes": 5, "targets": [{"type": "member", "id": carol}]}]
    )
    ok(
        dev.request(
            "PUT", "/api/v1/incident-settings", token, {"default_escalation_policy_id": default}
        )
    )

    # when Alertmanager delivers one outage as 200 critical alerts of one service
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "service": "payments",
                "severity": "critical",
                "instance": f"payments-{n}:8080",
            },
            "annotations": {"summary": "payments answers 5xx"},
            "startsAt": dev_now(dev).isoformat(),
        }
        for n in range(200)
    ]
    body = {"version": "4", "status": "firing", "receiver": "orchestrix", "alerts": alerts}
    key = api_key(dev, tenant, "alerts:write")
    accepted = ok(dev.request("POST", "/api/v1/integrations/alertmanager", key, body), 202)
    assert accepted == {"received": 200, "changed": 200}

    # then there is one incident holding all 200 alerts, under the default policy
    [incident] = incidents(dev, token)
    assert (incident["alert_count"], incident["service"]) == (200, "payments")
    assert incident["escalation_policy_id"] == default
    one = ok(dev.request("GET", f"/api/v1/incidents/{incident['id']}", token))
    assert len({a["labels"]["instance"] for a in one["alerts"]}) == 200
    # and Carol was paged once, not 200 times
    assert receiver.paths() == ["/hooks/carol"]


def test_rule_whose_policy_was_deleted_pages_through_the_tenant_default(
    dev: DevServer, receiver: Receiver
) -> None:
    # given another tenant's policy, paging that tenant's Eve
    other = dev.token(f"e2e-foreign-{uuid.uuid4().hex[:10]}", "admin")
    eve_hook = {"type": "webhook", "address": f"{receiver.url}/hooks/eve", "signing_secret": SECRET}
    eve = member(dev, other, "Eve", eve_hook)
    foreign = policy(dev, other, [{"delay_minutes": 5, "targets": [{"type": "member", "id": eve}]}])
    # and this tenant's default policy, paging Dana, and a second policy paging Dana too
    tenant = f"e2e-fallback-{uuid.uuid4().hex[:10]}"
    token = dev.token(tenant, "admin")
    hook = {"type": "webhook", "address": f"{receiver.url}/hooks/dana", "signing_secret": SECRET}
    dana = member(dev, token, "Dana", hook)
    levels = [{"delay_minutes": 5, "targets": [{"type": "member", "id": dana}]}]
    default, doomed = policy(dev, token, levels), policy(dev, token, levels)
    ok(
        dev.request(
            "PUT", "/api/v1/incident-settings", token, {"default_escalation_policy_id": default}
        )
    )
    # and a rule may not name the other tenant's policy: it reads as one that does not exist
    rule = {"name": "QueueStalled", "expr": "vector(1) > 0", "severity": "critical"}
    refused = ok(
        dev.request(
            "POST", "/api/v1/alert-rules", token, {**rule, "escalation_policy_id": foreign}
        ),
        422,
    )
    assert [e["loc"] for e in refused["errors"]] == [["body", "escalation_policy_id"]]
    # and a critical rule naming the second policy, which is deleted afterwards
    ok(
        dev.request("POST", "/api/v1/alert-rules", token, {**rule, "escalation_policy_id": doomed}),
        201,
    )
    ok(dev.request("DELETE", f"/api/v1/escalation-policies/{doomed}", token), 204)

    # when the rule fires
    tick(dev, "2m")

    # then its incident escalates by this tenant's default policy: Dana is paged, Eve is not
    [incident] = incidents(dev, token)
    assert incident["escalation_policy_id"] == default
    assert receiver.paths() == ["/hooks/dana"]
