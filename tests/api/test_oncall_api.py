"""On-call schedules through the API: DST-correct handoffs, overrides, shifts and iCal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import icalendar
import pytest

from .conftest import Client, in_process_aws, token


@pytest.fixture(scope="module")
def aws(client: Client) -> Iterator[None]:
    """moto for KMS (members' channel secrets), in this process."""
    with in_process_aws():
        yield


def q(instant: str) -> str:
    return quote(instant, safe="")


class Tenant:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.id = f"t-{uuid.uuid4().hex[:12]}"
        self.token = token(self.id, "editor")

    def member(self, name: str) -> str:
        reply = self.client.post("/api/v1/members", self.token, {"name": name})
        assert reply.status == 201, reply.body
        return str(reply.json["id"])

    def schedule(self, zone: str, start: str, members: list[str], rotation: str = "daily") -> str:
        body = {
            "name": "primary",
            "time_zone": zone,
            "layers": [
                {
                    "name": "rota",
                    "rotation": rotation,
                    "handoff_time": "09:00",
                    "start": start,
                    "members": members,
                }
            ],
        }
        reply = self.client.post("/api/v1/oncall/schedules", self.token, body)
        assert reply.status == 201, reply.body
        return str(reply.json["id"])

    def on_call(self, schedule_id: str, at: str) -> list[str]:
        reply = self.client.get(
            f"/api/v1/oncall/current?schedule_id={schedule_id}&at={q(at)}", self.token
        )
        assert reply.status == 200, reply.body
        return list(reply.json["on_call"])


@pytest.mark.parametrize(
    ("zone", "start", "before_handoff", "after_handoff"),
    [
        # Europe/Berlin springs forward on 2026-03-29: 09:00 local is 07:00Z that day
        (
            "Europe/Berlin",
            "2026-03-27T09:00:00+01:00",
            "2026-03-29T06:59:00Z",
            "2026-03-29T07:00:00Z",
        ),
        # ... and falls back on 2026-10-25: 09:00 local is 08:00Z that day
        (
            "Europe/Berlin",
            "2026-10-23T09:00:00+02:00",
            "2026-10-25T07:59:00Z",
            "2026-10-25T08:00:00Z",
        ),
        # America/New_York springs forward on 2026-03-08 (09:00 EDT = 13:00Z)
        (
            "America/New_York",
            "2026-03-06T09:00:00-05:00",
            "2026-03-08T12:59:00Z",
            "2026-03-08T13:00:00Z",
        ),
        # ... and falls back on 2026-11-01 (09:00 EST = 14:00Z)
        (
            "America/New_York",
            "2026-10-30T09:00:00-04:00",
            "2026-11-01T13:59:00Z",
            "2026-11-01T14:00:00Z",
        ),
    ],
)
def test_handoff_stays_at_local_nine_across_dst_changes(
    client: Client, aws: None, zone: str, start: str, before_handoff: str, after_handoff: str
) -> None:
    # given a daily rotation A, B handing off at 09:00 local, starting two days before
    t = Tenant(client)
    a, b = t.member("A"), t.member("B")
    schedule = t.schedule(zone, start, [a, b])
    # then on the DST day B hands back to A at 09:00 local time, not 24 elapsed hours later
    assert t.on_call(schedule, before_handoff) == [b]
    assert t.on_call(schedule, after_handoff) == [a]


def test_override_puts_someone_else_on_call_and_can_be_removed(client: Client, aws: None) -> None:
    t = Tenant(client)
    a, b, c = t.member("A"), t.member("B"), t.member("C")
    schedule = t.schedule("Europe/Berlin", "2026-03-23T09:00:00+01:00", [a, b], "weekly")
    at = "2026-03-29T12:00:00+02:00"
    assert t.on_call(schedule, at) == [a]
    # when C covers Sunday afternoon
    body = {"who": c, "from": "2026-03-29T10:00:00+02:00", "to": "2026-03-29T18:00:00+02:00"}
    created = client.post(f"/api/v1/oncall/schedules/{schedule}/overrides", t.token, body)
    assert created.status == 201, created.body
    assert created.json["who"] == c
    assert datetime.fromisoformat(created.json["from"]) == datetime(2026, 3, 29, 8, tzinfo=UTC)
    # then C is on call during it and A after it
    assert t.on_call(schedule, at) == [c]
    assert t.on_call(schedule, "2026-03-29T18:00:00+02:00") == [a]
    listed = client.get(f"/api/v1/oncall/schedules/{schedule}/overrides", t.token).json["items"]
    assert [o["id"] for o in listed] == [created.json["id"]]
    path = f"/api/v1/oncall/schedules/{schedule}/overrides/{created.json['id']}"
    assert client.delete(path, t.token).status == 204
    assert t.on_call(schedule, at) == [a]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-03-29T10:00:00Z", "2026-03-29T10:00:00Z", "to"),
        ("2026-03-29T10:00:00Z", "2026-03-29T09:00:00Z", "to"),
        ("0211-03-29T10:00:00Z", "2026-03-29T10:00:00Z", "from"),
        ("2026-03-29T10:00:00Z", "9999-01-01T00:00:00Z", "to"),
    ],
)
def test_override_with_an_impossible_window_is_rejected_naming_the_field(
    client: Client, aws: None, start: str, end: str, field: str
) -> None:
    t = Tenant(client)
    a = t.member("A")
    schedule = t.schedule("UTC", "2026-03-23T09:00:00Z", [a])
    # when the override ends before it starts, or lies outside the supported years
    body = {"who": a, "from": start, "to": end}
    reply = client.post(f"/api/v1/oncall/schedules/{schedule}/overrides", t.token, body)
    # then it is a client error on that field, not a server error
    assert reply.status == 422, reply.body
    assert ["body", field] in [e["loc"] for e in reply.json["errors"]]


def test_ical_export_parses_and_matches_the_shifts(client: Client, aws: None) -> None:
    t = Tenant(client)
    a, b = t.member("Ada"), t.member("Bob")
    schedule = t.schedule("Europe/Berlin", "2026-03-20T09:00:00+01:00", [a, b])
    window = f"from={q('2026-03-25T00:00:00Z')}&to={q('2026-04-02T00:00:00Z')}"
    shifts = client.get(f"/api/v1/oncall/schedules/{schedule}/shifts?{window}", t.token)
    assert shifts.status == 200, shifts.body
    reply = client.get(f"/api/v1/oncall/schedules/{schedule}/ical?{window}", t.token)
    assert reply.status == 200
    assert reply.content_type == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(reply.body)
    events = [
        (
            str(e["SUMMARY"]),
            e.decoded("DTSTART").astimezone(UTC),
            e.decoded("DTEND").astimezone(UTC),
        )
        for e in calendar.walk("VEVENT")
    ]
    names = {a: "Ada", b: "Bob"}
    expected = [
        (
            f"On call: {names[s['member_id']]}",
            datetime.fromisoformat(s["start"]).astimezone(UTC),
            datetime.fromisoformat(s["end"]).astimezone(UTC),
        )
        for s in shifts.json["items"]
    ]
    assert events == expected
    assert len(events) == 9  # 8 handoffs in the window, one of them across the DST change


def test_shift_range_is_capped_at_366_days(client: Client, aws: None) -> None:
    t = Tenant(client)
    schedule = t.schedule("UTC", "2026-01-01T09:00:00Z", [t.member("A")])
    window = f"from={q('2026-01-01T00:00:00Z')}&to={q('2027-01-03T00:00:00Z')}"
    reply = client.get(f"/api/v1/oncall/schedules/{schedule}/shifts?{window}", t.token)
    assert reply.status == 422
    assert "366" in reply.body.decode()


def test_schedule_must_name_members_of_the_tenant(client: Client, aws: None) -> None:
    t = Tenant(client)
    reply = client.post(
        "/api/v1/oncall/schedules",
        t.token,
        {
            "name": "p",
            "time_zone": "UTC",
            "layers": [
                {
                    "name": "l",
                    "rotation": "daily",
                    "handoff_time": "09:00",
                    "start": "2026-01-01T09:00:00Z",
                    "members": ["mem_nobody"],
                }
            ],
        },
    )
    assert reply.status == 422 and "mem_nobody" in reply.body.decode()


def test_a_member_on_a_schedule_cannot_be_deleted(client: Client, aws: None) -> None:
    t = Tenant(client)
    a = t.member("A")
    t.schedule("UTC", "2026-01-01T09:00:00Z", [a])
    assert client.delete(f"/api/v1/members/{a}", t.token).status == 409


def test_schedules_of_another_tenant_are_not_found(client: Client, aws: None) -> None:
    t, other = Tenant(client), Tenant(client)
    schedule = t.schedule("UTC", "2026-01-01T09:00:00Z", [t.member("A")])
    window = f"from={q('2026-01-01T00:00:00Z')}&to={q('2026-01-03T00:00:00Z')}"
    for path in (
        f"/api/v1/oncall/schedules/{schedule}",
        f"/api/v1/oncall/schedules/{schedule}/overrides",
        f"/api/v1/oncall/schedules/{schedule}/shifts?{window}",
        f"/api/v1/oncall/schedules/{schedule}/ical",
        f"/api/v1/oncall/current?schedule_id={schedule}",
    ):
        assert client.get(path, other.token).status == 404, path
        assert client.get(path, t.token).status == 200, path
    assert client.delete(f"/api/v1/oncall/schedules/{schedule}", other.token).status == 404
    body = {"who": other.member("X"), "from": "2026-01-01T10:00:00Z", "to": "2026-01-01T11:00:00Z"}
    assert (
        client.post(f"/api/v1/oncall/schedules/{schedule}/overrides", other.token, body).status
        == 404
    )
