"""Incident roles name members of the caller's tenant only; another tenant's member id is
refused exactly like an id that was never issued."""

from __future__ import annotations

import uuid

from .conftest import Client, token

NEVER_ISSUED = "mem_00000000000000000000000000"


def tenant() -> str:
    return f"r-{uuid.uuid4().hex[:8]}"


def member(client: Client, t: str) -> str:
    created = client.post("/api/v1/members", token(t, "editor"), {"name": "M"})
    assert created.status == 201, created.body
    return str(created.json["id"])


def test_create_with_another_tenants_member_as_commander_is_422_like_an_unknown_id(
    client, incident_aws
):
    mine, other = tenant(), tenant()
    theirs = member(client, other)

    def create(holder: str):  # type: ignore[no-untyped-def]
        body = {"title": "db down", "roles": {"commander": holder}}
        return client.post("/api/v1/incidents", token(mine, "responder"), body)

    foreign, unknown = create(theirs), create(NEVER_ISSUED)

    assert foreign.status == unknown.status == 422
    assert (
        foreign.json["detail"] == unknown.json["detail"] == "body.roles.commander: no such member"
    )
    assert foreign.json["errors"] == unknown.json["errors"]
    listed = client.get("/api/v1/incidents", token(mine, "viewer")).json
    assert listed["items"] == []


def test_patch_roles_accepts_own_members_and_subjects_and_refuses_foreign_ones(
    client, incident_aws
):
    mine, other = tenant(), tenant()
    own, theirs = member(client, mine), member(client, other)
    created = client.post("/api/v1/incidents", token(mine, "responder"), {"title": "slow"})
    assert created.status == 201, created.body
    path = f"/api/v1/incidents/{created.json['id']}"

    ok = client.request(
        "PATCH", path, token(mine, "responder"), {"roles": {"commander": own, "scribe": "alice"}}
    )
    bad = client.request("PATCH", path, token(mine, "responder"), {"roles": {"scribe": theirs}})

    assert ok.status == 200, ok.body
    assert ok.json["roles"] == {"commander": own, "scribe": "alice"}
    assert bad.status == 422
    assert bad.json["detail"] == "body.roles.scribe: no such member"
    assert client.get(path, token(mine, "viewer")).json["roles"]["scribe"] == "alice"
