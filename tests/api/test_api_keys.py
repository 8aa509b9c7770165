"""API keys through the gateway: auth, roles, tenancy, validation, audit, problem+json."""

from __future__ import annotations

import pytest

from tests.api.conftest import token

PROBLEM = "application/problem+json"
KEYS = "/api/v1/api-keys"


def _create(client, tenant: str, **overrides):  # type: ignore[no-untyped-def]
    body = {"name": "prometheus", "scopes": ["metrics:write"], "expires_at": None, **overrides}
    return client.post(KEYS, token(tenant), body)


def test_admin_creates_a_key_and_sees_its_secret_once(client, tenants):
    a, _ = tenants
    created = _create(client, a)
    assert created.status == 201
    assert created.json["secret"].startswith("orx_")
    listed = client.get(KEYS, token(a, "viewer")).json
    assert [k["id"] for k in listed["items"]] == [created.json["id"]]
    assert "secret" not in listed["items"][0]
    assert client.get(f"{KEYS}/{created.json['id']}", token(a)).json["name"] == "prometheus"


def test_other_tenant_cannot_list_read_or_delete_the_key(client, tenants):
    a, b = tenants
    key_id = _create(client, a).json["id"]

    assert client.get(KEYS, token(b)).json["items"] == []
    read = client.get(f"{KEYS}/{key_id}", token(b))
    deleted = client.delete(f"{KEYS}/{key_id}", token(b))
    unknown = client.get(f"{KEYS}/key_doesnotexist", token(b))

    assert (read.status, deleted.status) == (404, 404)
    # indistinguishable from an id that never existed
    assert read.json["detail"].replace(key_id, "X") == unknown.json["detail"].replace(
        "key_doesnotexist", "X"
    )
    assert client.get(f"{KEYS}/{key_id}", token(a)).status == 200


def test_no_token_is_401_problem(client):
    reply = client.get(KEYS)
    assert reply.status == 401
    assert reply.content_type == PROBLEM
    assert reply.json["status"] == 401


def test_garbage_token_is_401(client):
    assert client.get(KEYS, "not-a-jwt").status == 401


def test_viewer_cannot_create_a_key(client, tenants):
    a, _ = tenants
    reply = client.post(KEYS, token(a, "viewer"), {"name": "x", "scopes": ["metrics:write"]})
    assert reply.status == 403
    assert reply.content_type == PROBLEM
    assert "admin" in reply.json["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["metrics:launch"]}, "scopes"),
        ({"scopes": ["metrics:write"]}, "name"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["metrics:write"], "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "x", "scopes": ["metrics:write"], "colour": "red"}, "colour"),
    ],
)
def test_malformed_body_is_422_naming_the_field(client, tenants, body, field):
    a, _ = tenants
    reply = client.post(KEYS, token(a), body)
    assert reply.status == 422
    assert reply.content_type == PROBLEM
    assert any(field in error["loc"] for error in reply.json["errors"])
    assert field in reply.json["detail"]


def test_expiry_in_the_past_is_422(client, tenants):
    a, _ = tenants
    reply = _create(client, a, expires_at="2001-01-01T00:00:00Z")
    assert reply.status == 422
    assert reply.json["errors"][0]["loc"] == ["body", "expires_at"]


def test_invalid_json_is_400_and_wrong_media_type_415(client, tenants):
    a, _ = tenants
    broken = client.request("POST", KEYS, token(a), raw=b"{not json")
    form = client.request(
        "POST", KEYS, token(a), raw=b"name=x", headers={"Content-Type": "text/plain"}
    )
    assert (broken.status, form.status) == (400, 415)
    assert broken.content_type == form.content_type == PROBLEM


def test_oversized_body_is_413(client, tenants):
    a, _ = tenants
    reply = client.request("POST", KEYS, token(a), raw=b'{"name": "' + b"x" * 2_000_000 + b'"}')
    assert reply.status == 413
    assert reply.content_type == PROBLEM


def test_creation_is_audited_with_subject_and_request_id(client, tenants):
    a, _ = tenants
    created = _create(client, a, name="audited")
    request_id = created.headers["x-request-id"]
    entries = client.get(
        f"/api/v1/audit-logs?resource_id={created.json['id']}", token(a, "viewer")
    ).json["items"]
    assert [(e["action"], e["actor"], e["request_id"]) for e in entries] == [
        ("api_key.create", f"dev-admin@{a}", request_id)
    ]
    one = client.get(f"/api/v1/audit-logs/{entries[0]['id']}", token(a))
    assert one.json["after"]["name"] == "audited"


def test_caller_supplied_request_id_is_echoed(client):
    reply = client.get("/health/live", headers={"X-Request-Id": "trace-123"})
    assert reply.headers["x-request-id"] == "trace-123"


def test_revoked_key_disappears_and_is_audited(client, tenants):
    a, _ = tenants
    key_id = _create(client, a).json["id"]
    assert client.delete(f"{KEYS}/{key_id}", token(a)).status == 204
    assert client.get(f"{KEYS}/{key_id}", token(a)).status == 404
    actions = [
        e["action"]
        for e in client.get(f"/api/v1/audit-logs?resource_id={key_id}", token(a)).json["items"]
    ]
    assert actions == ["api_key.revoke", "api_key.create"]


def test_list_pages_with_a_cursor(client, tenants):
    a, _ = tenants
    ids = [_create(client, a, name=f"k{i}").json["id"] for i in range(5)]
    first = client.get(f"{KEYS}?limit=2", token(a)).json
    second = client.get(f"{KEYS}?limit=2&cursor={first['next_cursor']}", token(a)).json
    third = client.get(f"{KEYS}?limit=2&cursor={second['next_cursor']}", token(a)).json
    seen = [k["id"] for page in (first, second, third) for k in page["items"]]
    assert seen == list(reversed(ids))
    assert third["next_cursor"] is None


def test_bad_cursor_and_limit_are_422(client, tenants):
    a, _ = tenants
    assert client.get(f"{KEYS}?cursor=%%%", token(a)).status == 422
    assert client.get(f"{KEYS}?limit=501", token(a)).status == 422


def test_api_key_authenticates_by_bearer_and_basic_but_cannot_manage(client, tenants):
    import base64

    a, _ = tenants
    secret = _create(client, a).json["secret"]
    basic = "Basic " + base64.b64encode(f"prometheus:{secret}".encode()).decode()
    # authenticated (not 401), but an ingestion key has no role on the management API
    assert client.get(KEYS, secret).status == 403
    assert client.get(KEYS, basic).status == 403
    assert client.get(KEYS, "orx_madeup").status == 401


def test_unknown_route_is_404_problem(client):
    reply = client.get("/api/v1/nothing-here")
    assert reply.status == 404
    assert reply.content_type == PROBLEM


@pytest.mark.parametrize("name", ["nul\u0000byte", "lone\udc00surrogate"])
def test_text_postgres_cannot_store_is_422_not_500(client, tenants, name):
    a, _ = tenants
    # json.dumps escapes both as \u sequences, as a client's JSON encoder would
    reply = client.post(KEYS, token(a), {"name": name, "scopes": ["metrics:write"]})
    assert reply.status == 422
    assert "body.name" in reply.json["detail"]
