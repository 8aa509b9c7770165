"""Tenant isolation for every incident-response resource, against a real `orchestrix dev`:
another tenant's ids are 404 (never 403) for every route, its lists are empty, its ids cannot
be referenced, and nothing it tries changes the owner's data."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.e2e.conftest import DevServer
from tests.e2e.receivers import Receiver, receiver_fixture  # noqa: F401 - the fixture

SECRET = "e2e-signing-secret-0123456789"


def call(dev: DevServer, method: str, path: str, token: str, body: Any = None) -> tuple[int, bytes]:
    """Status and raw body (the iCal export is not JSON)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(dev.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def seen(dev: DevServer, path: str, token: str) -> Any:
    """What `token` reads at `path`; the iCal export without its DTSTAMPs (time of export)."""
    body = ok(dev, "GET", path, token)
    if isinstance(body, bytes):
        return [line for line in body.splitlines() if not line.startswith(b"DTSTAMP:")]
    return body


def ok(
    dev: DevServer, method: str, path: str, token: str, body: Any = None, status: int = 200
) -> Any:
    got, raw = call(dev, method, path, token, body)
    assert got == status, (method, path, raw[:500])
    return json.loads(raw) if raw and raw.lstrip()[:1] in (b"{", b"[") else raw


class Owner:
    """Tenant A and one of each of its incident-response resources."""

    def __init__(self, dev: DevServer, receiver: Receiver) -> None:
        self.tenant = f"e2e-own-{uuid.uuid4().hex[:10]}"
        self.token = dev.token(self.tenant, "admin")
        hook = {"type": "webhook", "address": f"{receiver.url}/a", "signing_secret": SECRET}
        self.member = self.create(dev, "/api/v1/members", self.member_body(hook))
        self.other = self.create(dev, "/api/v1/members", {"name": "Bea"})
        self.team = self.create(
            dev, "/api/v1/teams", {"name": "payments", "member_ids": [self.member]}
        )
        now = datetime.fromisoformat(
            ok(dev, "POST", "/_local/tick", self.token, {"advance": "0s"})["now"]
        )
        self.now = now
        self.schedule = self.create(
            dev, "/api/v1/oncall/schedules", self.schedule_body(now, [self.member, self.other])
        )
        self.override = self.create(
            dev,
            f"/api/v1/oncall/schedules/{self.schedule}/overrides",
            self.override_body(self.other, now),
        )
        self.policy = self.create(
            dev, "/api/v1/escalation-policies", self.policy_body(self.schedule)
        )
        settings = {"default_escalation_policy_id": self.policy, "window_minutes": 7}
        ok(dev, "PUT", "/api/v1/incident-settings", self.token, settings)
        self.incident = self.create(
            dev, "/api/v1/incidents", {"title": "Payments down", "severity": "SEV2"}
        )
        self.note = self.create(dev, f"/api/v1/incidents/{self.incident}/notes", {"text": "on it"})
        query = urlencode({"incident_id": self.incident})
        [page] = ok(dev, "GET", f"/api/v1/notifications?{query}", self.token)["items"]
        self.notification = str(page["id"])

    def create(self, dev: DevServer, path: str, body: dict[str, Any]) -> str:
        return str(ok(dev, "POST", path, self.token, body, status=201)["id"])

    @staticmethod
    def member_body(contact: dict[str, str] | None = None) -> dict[str, Any]:
        return {
            "name": "Ada",
            "subject": "ada@idp",
            "contact_methods": [contact] if contact else [],
        }

    @staticmethod
    def schedule_body(now: datetime, members: list[str]) -> dict[str, Any]:
        start = (now - timedelta(days=1)).replace(second=0, microsecond=0)
        layer = {
            "name": "weekly",
            "rotation": "weekly",
            "handoff_time": start.strftime("%H:%M"),
            "start": start.isoformat(),
            "members": members,
        }
        return {"name": "primary", "time_zone": "UTC", "layers": [layer]}

    @staticmethod
    def override_body(who: str, now: datetime) -> dict[str, Any]:
        """Tomorrow, so that today's page still goes to the rotation's member."""
        start = now + timedelta(days=1)
        return {
            "who": who,
            "from": start.isoformat(),
            "to": (start + timedelta(hours=2)).isoformat(),
        }

    @staticmethod
    def policy_body(schedule_id: str) -> dict[str, Any]:
        target = {"type": "schedule", "id": schedule_id}
        return {"name": "payments", "levels": [{"delay_minutes": 5, "targets": [target]}]}


def test_other_tenant_cannot_see_touch_or_reference_any_incident_response_resource(
    dev: DevServer, receiver: Receiver
) -> None:
    # given tenant A with a member, team, schedule, override, policy, settings, incident
    # (which paged A's on-call member) and a note
    a = Owner(dev, receiver)
    assert receiver.paths() == ["/a"]
    window = urlencode(
        {
            "from": (a.now - timedelta(days=1)).isoformat(),
            "to": (a.now + timedelta(days=2)).isoformat(),
        }
    )
    reads = [
        f"/api/v1/members/{a.member}",
        f"/api/v1/teams/{a.team}",
        f"/api/v1/oncall/schedules/{a.schedule}",
        f"/api/v1/oncall/schedules/{a.schedule}/overrides",
        f"/api/v1/oncall/schedules/{a.schedule}/shifts?{window}",
        f"/api/v1/oncall/schedules/{a.schedule}/ical?{window}",
        f"/api/v1/oncall/current?{urlencode({'schedule_id': a.schedule, 'at': a.now.isoformat()})}",
        f"/api/v1/notifications/{a.notification}",
        f"/api/v1/escalation-policies/{a.policy}",
        f"/api/v1/incidents/{a.incident}",
        f"/api/v1/incidents/{a.incident}/timeline",
    ]
    before = {path: seen(dev, path, a.token) for path in reads}
    # (A itself sees real content at each of them)
    assert [o["id"] for o in before[reads[3]]["items"]] == [a.override]
    assert {s["member_id"] for s in before[reads[4]]["items"]} == {a.member, a.other}
    assert b"BEGIN:VEVENT" in before[reads[5]]
    assert before[reads[6]]["on_call"] == [a.member]
    assert [e["kind"] for e in before[reads[10]]["items"]] == ["triggered", "notified", "note"]

    # when tenant B (an admin of its own tenant) reads A's ids, then none of them exist
    b = dev.token(f"e2e-other-{uuid.uuid4().hex[:10]}", "admin")
    for path in reads:
        got, raw = call(dev, "GET", path, b)
        assert got == 404, (path, got, raw[:300])
        assert json.loads(raw)["status"] == 404

    # and B's lists and report hold nothing of A's
    for path in (
        "/api/v1/members",
        "/api/v1/teams",
        "/api/v1/oncall/schedules",
        "/api/v1/escalation-policies",
        "/api/v1/incidents",
        "/api/v1/notifications",
        f"/api/v1/notifications?{urlencode({'member_id': a.member})}",
        f"/api/v1/notifications?{urlencode({'incident_id': a.incident})}",
    ):
        assert ok(dev, "GET", path, b)["items"] == [], path
    settings = ok(dev, "GET", "/api/v1/incident-settings", b)
    assert (settings["default_escalation_policy_id"], settings["window_minutes"]) == (None, 5)
    report = ok(dev, "GET", f"/api/v1/reports/incidents?{window}", b)
    assert report["total"]["count"] == 0
    assert report["by_severity"] == {}

    # when B tries every change on A's ids (with bodies valid for B), then each is a 404
    b_member = ok(dev, "POST", "/api/v1/members", b, Owner.member_body(), status=201)["id"]
    writes: list[tuple[str, str, Any]] = [
        ("PUT", f"/api/v1/members/{a.member}", {"name": "Mallory"}),
        ("DELETE", f"/api/v1/members/{a.member}", None),
        ("PUT", f"/api/v1/teams/{a.team}", {"name": "stolen"}),
        ("DELETE", f"/api/v1/teams/{a.team}", None),
        ("PUT", f"/api/v1/oncall/schedules/{a.schedule}", Owner.schedule_body(a.now, [b_member])),
        (
            "POST",
            f"/api/v1/oncall/schedules/{a.schedule}/overrides",
            Owner.override_body(b_member, a.now),
        ),
        ("DELETE", f"/api/v1/oncall/schedules/{a.schedule}/overrides/{a.override}", None),
        ("DELETE", f"/api/v1/oncall/schedules/{a.schedule}", None),
        ("PUT", f"/api/v1/escalation-policies/{a.policy}", Owner.policy_body(a.schedule)),
        ("DELETE", f"/api/v1/escalation-policies/{a.policy}", None),
        ("PATCH", f"/api/v1/incidents/{a.incident}", {"title": "stolen"}),
        ("POST", f"/api/v1/incidents/{a.incident}/notes", {"text": "hello from B"}),
        ("POST", f"/api/v1/incidents/{a.incident}/acknowledge", None),
        ("POST", f"/api/v1/incidents/{a.incident}/resolve", None),
    ]
    for method, path, body in writes:
        got, raw = call(dev, method, path, b, body)
        assert got == 404, (method, path, got, raw[:300])

    # and references to A's ids in B's own resources are refused as unknown (422)
    for path, body, field in [
        ("/api/v1/teams", {"name": "t", "member_ids": [a.member]}, "member_ids"),
        ("/api/v1/oncall/schedules", Owner.schedule_body(a.now, [a.member]), "layers"),
        ("/api/v1/escalation-policies", Owner.policy_body(a.schedule), "id"),
        (
            "/api/v1/incidents",
            {"title": "x", "escalation_policy_id": a.policy},
            "escalation_policy_id",
        ),
        ("/api/v1/incidents", {"title": "x", "team_id": a.team}, "team_id"),
    ]:
        got, raw = call(dev, "POST", path, b, body)
        assert got == 422, (path, got, raw[:300])
        assert field in json.dumps(json.loads(raw)["errors"]), raw[:300]
    got, raw = call(
        dev, "PUT", "/api/v1/incident-settings", b, {"default_escalation_policy_id": a.policy}
    )
    assert got == 422, raw[:300]

    # then A sees everything exactly as before, and nobody else was paged
    assert {path: seen(dev, path, a.token) for path in reads} == before
    assert (
        ok(dev, "GET", "/api/v1/incident-settings", a.token)["default_escalation_policy_id"]
        == a.policy
    )
    assert receiver.paths() == ["/a"]
