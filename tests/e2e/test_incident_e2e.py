"""The paging loop against a real `orchestrix dev`: an incident pages the on-call member
through a real local webhook, escalates on the adjustable clock, stops when acknowledged, and
the report's MTTA/MTTR match the timeline."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.conftest import DevServer

SECRET = "s3cret-signing-key-0123456789"


class Receiver:
    """A webhook endpoint on loopback that remembers what it was sent, per path."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append((self.path, json.loads(body or b"{}")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [path for path, _ in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def ok(reply: tuple[int, dict[str, str], Any], status: int = 200) -> Any:
    assert reply[0] == status, reply[2]
    return reply[2]


def dev_now(dev: DevServer) -> datetime:
    return datetime.fromisoformat(
        ok(dev.request("POST", "/_local/tick", None, {"advance": "0s"}))["now"]
    )


def tick(dev: DevServer, advance: str) -> None:
    result = dev.cli("tick", "--advance", advance)
    assert result.returncode == 0, result.stderr


def member(dev: DevServer, token: str, name: str, url: str) -> str:
    body = {
        "name": name,
        "contact_methods": [{"type": "webhook", "address": url, "signing_secret": SECRET}],
    }
    return str(ok(dev.request("POST", "/api/v1/members", token, body), 201)["id"])


def test_incident_pages_escalates_stops_on_ack_and_reports(dev: DevServer, receiver: Receiver):
    # given a weekly rotation of A then B, and a policy: the schedule for 5 min, then B
    tenant = f"e2e-{uuid.uuid4().hex[:10]}"
    token = dev.token(tenant, "admin")
    a = member(dev, token, "Ada", f"{receiver.url}/a")
    b = member(dev, token, "Bob", f"{receiver.url}/b")
    start = dev_now(dev) - timedelta(hours=1)
    schedule = {
        "name": "primary",
        "time_zone": "UTC",
        "layers": [
            {
                "name": "weekly",
                "rotation": "weekly",
                "handoff_time": start.strftime("%H:%M"),
                "start": start.replace(second=0, microsecond=0).isoformat(),
                "members": [a, b],
            }
        ],
    }
    schedule_id = ok(dev.request("POST", "/api/v1/oncall/schedules", token, schedule), 201)["id"]
    policy = {
        "name": "api",
        "repeat": 1,
        "levels": [
            {"delay_minutes": 5, "targets": [{"type": "schedule", "id": schedule_id}]},
            {"delay_minutes": 5, "targets": [{"type": "member", "id": b}]},
        ],
    }
    policy_id = ok(dev.request("POST", "/api/v1/escalation-policies", token, policy), 201)["id"]
    # and SEV1 targets: acknowledged within 10 minutes, resolved within 40
    sla = {"sla": {"SEV1": {"ack_minutes": 10, "resolve_minutes": 40}}}
    ok(dev.request("PUT", "/api/v1/incident-settings", token, sla))

    # when an incident triggers
    incident = ok(
        dev.request(
            "POST",
            "/api/v1/incidents",
            token,
            {"title": "Checkout down", "severity": "SEV1", "escalation_policy_id": policy_id},
        ),
        201,
    )
    path = f"/api/v1/incidents/{incident['id']}"

    # then only the on-call member (A) is paged, once
    assert receiver.paths() == ["/a"]
    assert receiver.received[0][1]["title"] == "[SEV1] Checkout down"

    # when nobody acknowledges for 5 minutes, then level 2 (B) is paged
    tick(dev, "5m")
    assert receiver.paths() == ["/a", "/b"]

    # when B acknowledges and 30 more minutes pass, then nobody else is paged
    ok(dev.request("POST", f"{path}/acknowledge", token))
    tick(dev, "30m")
    assert receiver.paths() == ["/a", "/b"]

    # when it is resolved after the 40-minute target, then the timeline tells the whole story
    # in order, with times, the missed resolution target included
    tick(dev, "10m")
    resolved = ok(dev.request("POST", f"{path}/resolve", token))
    timeline = ok(dev.request("GET", f"{path}/timeline", token))["items"]
    kinds = [e["kind"] for e in timeline]
    assert kinds == [
        *("triggered", "notified", "escalated", "notified", "acknowledged"),
        *("sla_breached", "resolved"),
    ]
    assert [e["data"].get("member_id") for e in timeline if e["kind"] == "notified"] == [a, b]
    times = [datetime.fromisoformat(e["at"]) for e in timeline]
    assert times == sorted(times)
    # (schedules have whole seconds: a level may fire up to one second early)
    assert times[2] - times[0] >= timedelta(minutes=5, seconds=-1)

    # and the report's MTTA/MTTR are those of this incident
    triggered = datetime.fromisoformat(resolved["triggered_at"])
    acked = datetime.fromisoformat(resolved["acknowledged_at"])
    done = datetime.fromisoformat(resolved["resolved_at"])
    window = {
        "from": (triggered - timedelta(minutes=1)).isoformat(),
        "to": (done + timedelta(minutes=1)).isoformat(),
    }
    from urllib.parse import urlencode

    report = ok(dev.request("GET", f"/api/v1/reports/incidents?{urlencode(window)}", token))
    assert report["total"]["count"] == 1
    assert report["total"]["mtta_seconds"] == pytest.approx((acked - triggered).total_seconds())
    assert report["total"]["mttr_seconds"] == pytest.approx((done - triggered).total_seconds())
    assert report["by_severity"]["SEV1"]["count"] == 1
    assert (report["total"]["ack_breaches"], report["total"]["resolve_breaches"]) == (0, 1)


def test_other_tenant_sees_no_incident_or_policy(dev: DevServer, receiver: Receiver):
    # given an incident and a policy of tenant A
    owner = dev.token(f"e2e-{uuid.uuid4().hex[:10]}", "admin")
    stranger = dev.token(f"e2e-{uuid.uuid4().hex[:10]}", "admin")
    m = member(dev, owner, "Ada", f"{receiver.url}/a")
    policy = {
        "name": "p",
        "levels": [{"delay_minutes": 5, "targets": [{"type": "member", "id": m}]}],
    }
    policy_id = ok(dev.request("POST", "/api/v1/escalation-policies", owner, policy), 201)["id"]
    body = {"title": "x", "escalation_policy_id": policy_id}
    incident_id = ok(dev.request("POST", "/api/v1/incidents", owner, body), 201)["id"]

    # when tenant B reaches for them, then they do not exist for B
    for method, path in [
        ("GET", f"/api/v1/incidents/{incident_id}"),
        ("POST", f"/api/v1/incidents/{incident_id}/acknowledge"),
        ("GET", f"/api/v1/incidents/{incident_id}/timeline"),
        ("GET", f"/api/v1/escalation-policies/{policy_id}"),
    ]:
        assert dev.request(method, path, stranger)[0] == 404
    assert ok(dev.request("GET", "/api/v1/incidents", stranger))["items"] == []
    # and B cannot point its own policy at A's member
    stolen = ok(dev.request("POST", "/api/v1/escalation-policies", stranger, policy), 422)
    assert stolen["errors"][0]["loc"][-1] == "id"
