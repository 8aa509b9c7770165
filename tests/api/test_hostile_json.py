"""Hostile JSON and YAML bodies are a 400/422 problem on every route that reads them —
never a 500, and never a crashed function (a 502 at the gateway)."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import token
from tests.api.test_metrics_api import PROBLEM, basic, ingest_key

DEEP_ARRAY = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 70 + b"1" + b"}" * 70  # parses, but deeper than anything we take
USER_ROUTES = [
    "/api/v1/api-keys",
    "/api/v1/incidents",
    "/api/v1/alert-rules",
    "/api/v1/workflows",
    "/api/v1/members",
    "/api/v1/silences",
    "/api/v2/silences",
]
INTAKE_ROUTES = [
    "/api/v2/alerts",
    "/api/v1/integrations/alertmanager",
    "/api/v1/integrations/events",
    "/api/v1/integrations/webhook",
]


@pytest.fixture(scope="module")
def tenant() -> str:
    return f"j-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["10000-deep", "70-deep"])
@pytest.mark.parametrize("path", USER_ROUTES)
def test_deeply_nested_json_is_400_for_user_routes(api, tenant, path, body):
    reply = api.post(path, token(tenant), raw=body)

    assert reply.status == 400, reply.body
    assert reply.content_type == PROBLEM
    assert "nested deeper than 64 levels" in reply.json["detail"]


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["10000-deep", "70-deep"])
@pytest.mark.parametrize("path", INTAKE_ROUTES)
def test_deeply_nested_json_is_400_for_alert_intake(api, tenant, path, body):
    key = ingest_key(api, tenant, ("alerts:write",))

    reply = api.post(path, basic(key), raw=body)

    assert reply.status == 400, reply.body
    assert reply.content_type == PROBLEM


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v2/alerts", [{"labels": {"alertname": "a\x00"}}], "body.0.labels.alertname"),
        (
            "/api/v1/integrations/alertmanager",
            {"version": "4", "status": "firing", "alerts": [{"labels": {"x\x00": "1"}}]},
            "body.alerts.0.labels.<key>",
        ),
        (
            "/api/v1/integrations/events",
            {"event_action": "trigger", "payload": {"summary": "s\x00"}},
            "body.payload.summary",
        ),
    ],
)
def test_nul_in_alert_intake_is_422_naming_the_field(api, tenant, path, body, field):
    key = ingest_key(api, tenant, ("alerts:write",))

    reply = api.post(path, basic(key), body)

    assert reply.status == 422
    assert reply.json["detail"].startswith(f"{field}: NUL")


YAML = {"Content-Type": "application/yaml"}
ALIAS_BOMB = "\n".join(
    ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
)


@pytest.mark.parametrize(
    ("yaml_text", "detail"),
    [
        ("[" * 10_000 + "]" * 10_000, "body.file: nested deeper than 64 levels"),
        ("a: &a [*a]\n", "nested deeper than 64 levels"),
        (ALIAS_BOMB, "body.file: holds more than 500000 values"),
        (
            'groups:\n- name: g\n  rules: [{alert: "x\\0", expr: up}]\n',
            "body.file.groups.0.rules.0.alert: NUL characters are not allowed",
        ),
    ],
    ids=["deep", "self-alias", "alias-bomb", "nul-escape"],
)
def test_hostile_rule_files_are_refused_naming_the_problem(api, tenant, yaml_text, detail):
    reply = api.post(
        "/api/v1/alert-rules/import", token(tenant), raw=yaml_text.encode(), headers=YAML
    )

    assert reply.status == 422, reply.body
    assert reply.content_type == PROBLEM
    assert detail in reply.json["detail"]
