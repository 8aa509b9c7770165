"""Members and teams through the API: validation, masked secrets, references, isolation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .conftest import Client, in_process_aws, token


@pytest.fixture(scope="module")
def aws(client: Client) -> Iterator[None]:
    """moto for KMS (channel secrets) and the scheduler, in this process."""
    with in_process_aws():
        yield


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


ALICE = {
    "name": "Alice",
    "email": "alice@example.com",
    "phone": "+491701234567",
    "slack_user_id": "U123",
    "time_zone": "Europe/Berlin",
    "subject": "alice-sub",
    "contact_methods": [
        {"type": "sms", "address": "+491701234567"},
        {"type": "slack", "address": "https://hooks.slack.com/services/T0/B0/secretXYZ9"},
        {
            "type": "webhook",
            "address": "https://hooks.example.com/p",
            "signing_secret": "k" * 20 + "WXYZ",
        },
    ],
    "notification_rules": {
        "high": [{"contact_method": 0}, {"contact_method": 1, "delay_minutes": 5}]
    },
}


def test_member_secrets_are_shown_only_by_their_last_four_characters(
    client: Client, aws: None
) -> None:
    t = tenant()
    created = client.post("/api/v1/members", token(t, "editor"), ALICE)
    assert created.status == 201, created.body
    methods = created.json["contact_methods"]
    assert methods[0]["address"] == "+491701234567"
    assert methods[1]["address"] == "…XYZ9"
    assert methods[2]["signing_secret"] == "…WXYZ"
    fetched = client.get(f"/api/v1/members/{created.json['id']}", token(t, "viewer"))
    assert fetched.json["contact_methods"] == methods
    assert "secretXYZ9" not in client.get("/api/v1/members", token(t, "viewer")).body.decode()
    assert fetched.json["notification_rules"]["high"][1] == {
        "contact_method": 1,
        "delay_minutes": 5,
    }


def test_rule_pointing_at_a_missing_contact_method_is_refused(client: Client, aws: None) -> None:
    body = {**ALICE, "subject": None, "notification_rules": {"low": [{"contact_method": 7}]}}
    reply = client.post("/api/v1/members", token(tenant(), "editor"), body)
    assert reply.status in (400, 422)
    assert "contact_method 7" in reply.body.decode()


def test_two_members_cannot_share_an_identity_subject(client: Client, aws: None) -> None:
    t = tenant()
    assert client.post("/api/v1/members", token(t, "editor"), ALICE).status == 201
    assert client.post("/api/v1/members", token(t, "editor"), ALICE).status == 409


def test_viewers_cannot_create_members(client: Client, aws: None) -> None:
    assert client.post("/api/v1/members", token(tenant(), "viewer"), ALICE).status == 403


def test_teams_take_only_members_of_the_tenant(client: Client, aws: None) -> None:
    t, other = tenant(), tenant()
    mine = client.post("/api/v1/members", token(t, "editor"), {"name": "A"}).json["id"]
    theirs = client.post("/api/v1/members", token(other, "editor"), {"name": "B"}).json["id"]
    ok = client.post("/api/v1/teams", token(t, "editor"), {"name": "api", "member_ids": [mine]})
    assert ok.status == 201 and ok.json["member_ids"] == [mine]
    bad = client.post("/api/v1/teams", token(t, "editor"), {"name": "x", "member_ids": [theirs]})
    assert bad.status == 422 and theirs in bad.body.decode()


def test_member_and_team_of_another_tenant_are_not_found(client: Client, aws: None) -> None:
    t, other = tenant(), tenant()
    member = client.post("/api/v1/members", token(t, "editor"), {"name": "A"}).json["id"]
    team = client.post("/api/v1/teams", token(t, "editor"), {"name": "api"}).json["id"]
    for path in (f"/api/v1/members/{member}", f"/api/v1/teams/{team}"):
        assert client.get(path, token(other, "admin")).status == 404
        assert client.delete(path, token(other, "admin")).status == 404
        assert client.get(path, token(t, "viewer")).status == 200
    assert client.get("/api/v1/members", token(other, "admin")).json["items"] == []


def test_deleting_a_member_removes_them_from_teams(client: Client, aws: None) -> None:
    t = tenant()
    member = client.post("/api/v1/members", token(t, "editor"), {"name": "A"}).json["id"]
    team = client.post(
        "/api/v1/teams", token(t, "editor"), {"name": "api", "member_ids": [member]}
    ).json["id"]
    assert client.delete(f"/api/v1/members/{member}", token(t, "editor")).status == 204
    assert client.get(f"/api/v1/teams/{team}", token(t, "viewer")).json["member_ids"] == []
