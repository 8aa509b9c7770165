"""A revoked ingestion key is refused on the very next request, although the gateway
still holds the authorizer's cached "allow" for it (as API Gateway does for 300 s)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from orchestrix import wiring
from orchestrix.adapters.metrics import encode_write_request
from tests.api.conftest import Client, in_process_aws, token
from tests.api.test_metrics_api import PROTOBUF, WRITE, basic, requests_series


def test_the_gateway_caches_the_authorizer_like_api_gateway(client: Client):
    assert client.gateway.cache._ttl == wiring.AUTHORIZER_CACHE_SECONDS == 300


@pytest.fixture
def aws(client: Client) -> Iterator[None]:
    with in_process_aws():
        import boto3

        from orchestrix import bootstrap

        bus = bootstrap.settings().event_bus_name  # accepted alerts are published there
        boto3.client("events", region_name="us-east-1").create_event_bus(Name=bus)
        yield


def test_revoked_key_is_401_on_the_next_request_despite_the_authorizer_cache(
    client: Client, aws: None
):
    tenant = f"k-{uuid.uuid4().hex[:8]}"
    created = client.post(
        "/api/v1/api-keys",
        token(tenant),
        {"name": "prom", "scopes": ["metrics:write", "alerts:write"]},
    )
    key_id, secret = created.json["id"], created.json["secret"]
    body = encode_write_request(requests_series())
    alert = [{"labels": {"alertname": "Up"}}]

    assert client.post(WRITE, basic(secret), raw=body, headers=PROTOBUF).status == 204
    assert client.post("/api/v2/alerts", basic(secret), alert).status == 200
    assert client.gateway.cache.get(basic(secret)) is not None  # the cached "allow"
    assert client.delete(f"/api/v1/api-keys/{key_id}", token(tenant)).status == 204

    write = client.post(WRITE, basic(secret), raw=body, headers=PROTOBUF)
    push = client.post("/api/v2/alerts", basic(secret), alert)
    bearer = client.post(WRITE, f"Bearer {secret}", raw=body, headers=PROTOBUF)

    assert (write.status, push.status, bearer.status) == (401, 401, 401)
    assert write.content_type == "application/problem+json"
    assert write.json["detail"] == "API key revoked or expired"


def test_key_past_its_expiry_is_401_although_the_authorizer_allowed_it(
    client: Client, database_url: str
):
    import psycopg

    tenant = f"k-{uuid.uuid4().hex[:8]}"
    created = client.post(
        "/api/v1/api-keys",
        token(tenant),
        {"name": "prom", "scopes": ["metrics:write"], "expires_at": "2099-01-01T00:00:00Z"},
    )
    assert created.status == 201, created.body
    secret = created.json["secret"]
    body = encode_write_request(requests_series())
    assert client.post(WRITE, basic(secret), raw=body, headers=PROTOBUF).status == 204

    # time passes: the expiry is now behind us (the authorizer's allow is still cached)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %s",
            (created.json["id"],),
        )
    reply = client.post(WRITE, basic(secret), raw=body, headers=PROTOBUF)

    assert client.gateway.cache.get(basic(secret)) is not None
    assert reply.status == 401
    assert reply.json["detail"] == "API key revoked or expired"
