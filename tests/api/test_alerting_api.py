"""Alerting through the gateway: rules, evaluation, alerts, intake, silences."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
import yaml

from orchestrix import bootstrap
from orchestrix.adapters.postgres.alerting_components import evaluation_service
from tests.api.conftest import Client, in_process_aws, token

PROBLEM = "application/problem+json"


@pytest.fixture
def tenant() -> str:
    return f"al-{uuid.uuid4().hex[:10]}"


def key(api: Client, tenant: str, scope: str) -> str:
    created = api.post("/api/v1/api-keys", token(tenant), {"name": scope, "scopes": [scope]})
    assert created.status == 201, created.body
    return str(created.json["secret"])


def basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"alertmanager:{secret}".encode()).decode()


def import_metrics(api: Client, tenant: str, text: str) -> None:
    reply = api.post(
        "/api/v1/metrics/import",
        key(api, tenant, "metrics:write"),
        raw=text.encode(),
        headers={"Content-Type": "text/plain; version=0.0.4"},
    )
    assert reply.status == 204, reply.body


def minute(offset: int = 0) -> datetime:
    now = bootstrap.clock().now().replace(second=0, microsecond=0)
    return now + timedelta(minutes=offset)


def am_webhook(status: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "orchestrix",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager",
        "alerts": alerts,
    }


def am_alert(name: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} happened"},
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-01-01T00:05:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": "abc",
    }


def test_invalid_promql_and_templates_are_422_naming_the_field(api: Client, tenant: str) -> None:
    bad_expr = api.post(
        "/api/v1/alert-rules", token(tenant), {"name": "Broken", "expr": "rate(x[5m]"}
    )
    assert bad_expr.status == 422
    assert bad_expr.content_type.startswith(PROBLEM)
    assert bad_expr.json["errors"][0]["loc"] == ["body", "expr"]
    assert "invalid PromQL" in bad_expr.json["errors"][0]["msg"]

    bad_template = api.post(
        "/api/v1/alert-rules",
        token(tenant),
        {"name": "Typo", "expr": "up == 0", "annotations": {"summary": "{{ humanise $value }}"}},
    )
    assert bad_template.status == 422
    assert bad_template.json["errors"][0]["loc"] == ["body", "annotations", "summary"]
    assert 'function "humanise" not defined' in bad_template.json["errors"][0]["msg"]

    nested = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
    too_deep = api.post(
        "/api/v1/alert-rules",
        token(tenant),
        {"name": "Deep", "expr": "up == 0", "annotations": {"summary": nested}},
    )
    assert too_deep.status == 422, too_deep.body
    assert too_deep.json["errors"][0]["loc"] == ["body", "annotations", "summary"]


@pytest.fixture
def people(api: Client) -> Iterator[None]:
    """moto KMS in this process: the member store (escalation targets) seals secrets."""
    with in_process_aws():
        yield


def escalation_policy(api: Client, tenant: str) -> str:
    team = api.post("/api/v1/teams", token(tenant, "editor"), {"name": "api", "member_ids": []})
    assert team.status == 201, team.body
    level = {"delay_minutes": 5, "targets": [{"type": "team", "id": team.json["id"]}]}
    created = api.post(
        "/api/v1/escalation-policies", token(tenant, "editor"), {"name": "p", "levels": [level]}
    )
    assert created.status == 201, created.body
    return str(created.json["id"])


def test_rule_naming_a_policy_outside_the_tenant_is_422_like_a_missing_one(
    api: Client, tenant: str, people: None
) -> None:
    # given a policy in this tenant and one in another tenant
    mine = escalation_policy(api, tenant)
    theirs = escalation_policy(api, f"x{tenant}")
    missing = "esc_" + "0" * 26
    rule = {"name": "QueueStalled", "expr": "up == 0"}

    # when a rule names the other tenant's policy or one that never existed
    foreign = api.post(
        "/api/v1/alert-rules", token(tenant), {**rule, "escalation_policy_id": theirs}
    )
    unknown = api.post(
        "/api/v1/alert-rules", token(tenant), {**rule, "escalation_policy_id": missing}
    )

    # then both are refused the same way, naming the field
    assert (foreign.status, unknown.status) == (422, 422)
    assert foreign.json["errors"] == unknown.json["errors"]
    assert foreign.json["errors"] == [
        {"loc": ["body", "escalation_policy_id"], "msg": "no such escalation policy"}
    ]
    # and replacing a rule naming this tenant's policy by the foreign one is refused too
    created = api.post("/api/v1/alert-rules", token(tenant), {**rule, "escalation_policy_id": mine})
    assert created.status == 201, created.body
    path = f"/api/v1/alert-rules/{created.json['id']}"
    replaced = api.request("PUT", path, token(tenant), {**rule, "escalation_policy_id": theirs})
    assert replaced.status == 422
    assert replaced.json["errors"][0]["loc"] == ["body", "escalation_policy_id"]
    assert api.get(path, token(tenant)).json["escalation_policy_id"] == mine
    assert [r["id"] for r in api.get("/api/v1/alert-rules", token(tenant)).json["items"]] == [
        created.json["id"]
    ]


def test_threshold_rule_is_compiled_to_promql_and_round_trips(api: Client, tenant: str) -> None:
    created = api.post(
        "/api/v1/alert-rules",
        token(tenant),
        {
            "name": "HighCpu",
            "metric": "cpu_usage",
            "matchers": [{"name": "env", "op": "=", "value": "prod"}],
            "aggregation": "avg",
            "by": ["service"],
            "operator": ">",
            "threshold": 90,
            "for": "5m",
            "severity": "critical",
        },
    )
    assert created.status == 201, created.body
    rule = created.json
    assert rule["expr"] == 'avg by (service) (cpu_usage{env="prod"}) > 90'
    assert rule["labels"] == {"severity": "critical"}
    assert rule["for"] == "5m"

    fetched = api.get(f"/api/v1/alert-rules/{rule['id']}", token(tenant, "viewer"))
    assert fetched.json["expr"] == rule["expr"]
    other = api.get(f"/api/v1/alert-rules/{rule['id']}", token(f"x{tenant}"))
    assert other.status == 404


def test_rule_file_import_and_export(api: Client, tenant: str) -> None:
    rule_file = """
groups:
  - name: node
    interval: 2m
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.instance }} down"
"""
    imported = api.post("/api/v1/alert-rules/import", token(tenant), {"content": rule_file})
    assert imported.status == 201, imported.body
    assert [r["name"] for r in imported.json["items"]] == ["InstanceDown"]
    assert "recording rule 'job:up:sum' skipped" in imported.json["warnings"][0]

    exported = api.get("/api/v1/alert-rules/export", token(tenant, "viewer"))
    assert exported.status == 200
    text = exported.body.decode()
    assert "name: node" in text and "interval: 2m" in text and "for: 5m" in text


def test_rule_fires_after_for_with_rendered_annotations(
    api: Client, tenant: str, events: RecordedEvents
) -> None:
    t0 = minute()
    ms = int(t0.timestamp() * 1000)
    import_metrics(
        api,
        tenant,
        f'queue_depth{{queue="mail"}} 120 {ms - 60_000}\nqueue_depth{{queue="mail"}} 130 {ms}\n'
        f'queue_depth{{queue="mail"}} 140 {ms + 60_000}\n',
    )
    rule = api.post(
        "/api/v1/alert-rules",
        token(tenant),
        {
            "name": "QueueBacklog",
            "expr": "queue_depth > 100",
            "for": "1m",
            "severity": "warning",
            "annotations": {"summary": "{{ $labels.queue }} has {{ $value }} messages"},
        },
    ).json
    service = evaluation_service()

    first = service.tick(tenant, t0)
    assert first.rules_evaluated == 1 and first.fired == 0  # pending
    pending = api.get("/api/v1/alerts", token(tenant, "viewer")).json["items"]
    assert pending == []

    second = service.tick(tenant, t0 + timedelta(minutes=1))
    assert second.fired == 1
    alerts = api.get("/api/v1/alerts?status=firing", token(tenant, "viewer")).json["items"]
    assert len(alerts) == 1
    assert alerts[0]["labels"] == {
        "alertname": "QueueBacklog",
        "queue": "mail",
        "severity": "warning",
    }
    assert alerts[0]["annotations"] == {"summary": "mail has 140 messages"}
    assert alerts[0]["rule_id"] == rule["id"]

    # The series stops: five minutes of lookback later the alert resolves.
    resolved = service.tick(tenant, t0 + timedelta(minutes=7))
    assert resolved.resolved == 1
    assert events.of(tenant) == ["alert.fired", "alert.resolved"]
    after = api.get(f"/api/v1/alerts/{alerts[0]['id']}", token(tenant, "viewer")).json
    assert after["status"] == "resolved"


def test_failing_rule_is_marked_and_does_not_stop_others(api: Client, tenant: str) -> None:
    t0 = minute()
    ms = int(t0.timestamp() * 1000)
    import_metrics(api, tenant, f'temp{{room="a"}} 30 {ms}\nhumidity{{room="a"}} 60 {ms}\n')
    broken = api.post(
        "/api/v1/alert-rules",
        token(tenant),
        # Two series that differ only by name: the same alert labels twice, an error.
        {"name": "Dup", "expr": '{__name__=~"temp|humidity"}'},
    ).json
    api.post("/api/v1/alert-rules", token(tenant), {"name": "Hot", "expr": "temp > 20"})
    report = evaluation_service().tick(tenant, t0)
    assert report.rules_evaluated == 2
    hot = api.get("/api/v1/alerts", token(tenant, "viewer")).json["items"]
    assert [a["name"] for a in hot] == ["Hot"]
    marked = api.get(f"/api/v1/alert-rules/{broken['id']}", token(tenant)).json
    assert marked["health"] == "err"
    assert "same labelset" in marked["last_error"]


def test_alertmanager_webhook_dedups_counts_and_resolves(api: Client, tenant: str) -> None:
    secret = key(api, tenant, "alerts:write")
    body = am_webhook("firing", [am_alert("DiskFull", instance="db-1")])
    for _ in range(3):
        sent = api.post("/api/v1/integrations/alertmanager", basic(secret), body)
        assert sent.status == 202, sent.body
    alerts = api.get("/api/v1/alerts", token(tenant, "viewer")).json["items"]
    assert len(alerts) == 1
    assert alerts[0]["occurrences"] == 3 and alerts[0]["status"] == "firing"

    resolved = am_webhook("resolved", [am_alert("DiskFull", "resolved", instance="db-1")])
    api.post("/api/v1/integrations/alertmanager", secret, resolved)
    assert api.get(f"/api/v1/alerts/{alerts[0]['id']}", token(tenant)).json["status"] == "resolved"


def test_malformed_intake_is_422_and_writes_nothing(api: Client, tenant: str) -> None:
    secret = key(api, tenant, "alerts:write")
    good = am_alert("Fine")
    bad = {**am_alert("Broken"), "startsAt": "yesterday"}
    reply = api.post("/api/v1/integrations/alertmanager", secret, am_webhook("firing", [good, bad]))
    assert reply.status == 422 and reply.content_type.startswith(PROBLEM)
    assert reply.json["errors"][0]["loc"] == ["body", "alerts", 1, "startsAt"]
    assert api.get("/api/v1/alerts", token(tenant, "viewer")).json["items"] == []


def test_intake_needs_a_key_and_stays_in_its_tenant(api: Client, tenant: str) -> None:
    body = am_webhook("firing", [am_alert("Leak")])
    assert api.post("/api/v1/integrations/alertmanager", None, body).status == 401
    assert api.post("/api/v1/integrations/alertmanager", token(tenant), body).status == 403
    other = f"b{tenant}"
    api.post("/api/v1/integrations/alertmanager", key(api, tenant, "alerts:write"), body)
    assert api.get("/api/v1/alerts", token(other, "viewer")).json["items"] == []
    assert len(api.get("/api/v1/alerts", token(tenant, "viewer")).json["items"]) == 1


def test_pagerduty_events_trigger_acknowledge_resolve(api: Client, tenant: str) -> None:
    secret = key(api, tenant, "alerts:write")
    event = {
        "routing_key": "r" * 32,
        "event_action": "trigger",
        "dedup_key": "disk-db-1",
        "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "critical"},
    }
    sent = api.post("/api/v1/integrations/events", secret, event)
    assert sent.status == 202 and sent.json["dedup_key"] == "disk-db-1"
    api.post("/api/v1/integrations/events", secret, {**event, "event_action": "acknowledge"})
    alerts = api.get("/api/v1/alerts?severity=critical", token(tenant)).json["items"]
    assert [a["status"] for a in alerts] == ["acknowledged"]
    api.post("/api/v1/integrations/events", secret, {**event, "event_action": "resolve"})
    assert api.get(f"/api/v1/alerts/{alerts[0]['id']}", token(tenant)).json["status"] == "resolved"


def test_generic_webhook_maps_fields(api: Client, tenant: str) -> None:
    secret = key(api, tenant, "alerts:write")
    path = "/api/v1/integrations/webhook?name=title&status=state&label.service=svc&dedup_key=id"
    api.post(path, secret, {"title": "Checkout slow", "state": "open", "svc": "shop", "id": 7})
    alerts = api.get('/api/v1/alerts?match=service="shop"', token(tenant)).json["items"]
    assert [a["name"] for a in alerts] == ["Checkout slow"]
    api.post(path, secret, {"title": "Checkout slow", "state": "closed", "svc": "shop", "id": 7})
    assert api.get(f"/api/v1/alerts/{alerts[0]['id']}", token(tenant)).json["status"] == "resolved"


def test_silenced_alert_is_suppressed_then_returns_when_silence_expires(
    api: Client, tenant: str, events: RecordedEvents
) -> None:
    secret = key(api, tenant, "alerts:write")
    silence = api.post(
        "/api/v1/silences",
        token(tenant, "responder"),
        {
            "matchers": [{"name": "alertname", "op": "=", "value": "Noisy"}],
            "ends_at": (minute(60)).isoformat(),
            "comment": "deploying",
        },
    )
    assert silence.status == 201, silence.body
    body = am_webhook("firing", [am_alert("Noisy", service="api")])
    api.post("/api/v1/integrations/alertmanager", secret, body)
    alerts = api.get("/api/v1/alerts", token(tenant)).json["items"]
    assert alerts[0]["status"] == "suppressed"
    assert events.of(tenant) == []  # pages no one
    assert alerts[0]["silenced_by"] == [silence.json["id"]]

    expired = api.delete(f"/api/v1/silences/{silence.json['id']}", token(tenant, "responder"))
    assert expired.status == 204
    api.post("/api/v1/integrations/alertmanager", secret, body)
    after = api.get(f"/api/v1/alerts/{alerts[0]['id']}", token(tenant)).json
    assert after["status"] == "firing"
    assert events.of(tenant) == ["alert.fired"]


def test_acknowledge_and_resolve_by_hand_are_audited(api: Client, tenant: str) -> None:
    created = api.post(
        "/api/v1/alerts",
        token(tenant, "responder"),
        {"labels": {"alertname": "Manual", "severity": "info"}},
    )
    assert created.status == 201, created.body
    alert_id = created.json["id"]
    acked = api.post(f"/api/v1/alerts/{alert_id}/acknowledge", token(tenant, "responder"))
    assert acked.json["status"] == "acknowledged"
    assert api.post(f"/api/v1/alerts/{alert_id}/acknowledge", token(tenant, "viewer")).status == 403
    assert api.post(f"/api/v1/alerts/{alert_id}/resolve", token(tenant)).json["status"] == (
        "resolved"
    )
    assert api.post(f"/api/v1/alerts/{alert_id}/resolve", token(tenant)).status == 409
    audit = api.get(f"/api/v1/audit-logs?resource_id={alert_id}", token(tenant)).json["items"]
    assert {e["action"] for e in audit} == {"alert.create", "alert.acknowledge", "alert.resolve"}


def test_resolving_an_alert_that_never_fired_is_422_naming_the_status(
    api: Client, tenant: str
) -> None:
    # when a client resolves an alert nobody ever raised
    reply = api.post(
        "/api/v1/alerts",
        token(tenant, "responder"),
        {"labels": {"alertname": "Never"}, "dedup_key": "nope", "status": "resolved"},
    )
    # then it is told so, and no alert appears
    assert reply.status == 422, reply.body
    assert reply.json["errors"][0]["loc"] == ["body", "status"]
    assert api.get("/api/v1/alerts", token(tenant, "viewer")).json["items"] == []


def test_alert_list_filters_by_time_and_regex_matchers(api: Client, tenant: str) -> None:
    for svc in ("api", "web", "db"):
        api.post(
            "/api/v1/alerts",
            token(tenant, "responder"),
            {"labels": {"alertname": "Err", "service": svc}},
        )
    found = api.get('/api/v1/alerts?match=service=~"a.*|w.*"', token(tenant)).json["items"]
    assert sorted(a["labels"]["service"] for a in found) == ["api", "web"]
    future = (datetime.now(UTC) + timedelta(days=400)).isoformat().replace("+00:00", "Z")
    later = api.get(f"/api/v1/alerts?since={future}", token(tenant)).json["items"]
    assert later == []


def documented(
    doc: dict[str, Any], method: str, path: str, status: str, media: str = "application/json"
) -> dict[str, Any]:
    content = doc["paths"][path][method]["responses"][status]["content"]
    # The document is the root, so the schema's "#/components/..." references resolve.
    return {**content[media]["schema"], "components": doc["components"]}


def test_rule_and_alertmanager_bodies_match_the_documented_schemas(
    api: Client, tenant: str
) -> None:
    # given a rule and a silence, the latter made the way amtool makes it
    editor = token(tenant)
    doc = api.get("/api/v1/openapi.json", editor).json
    rule = api.post("/api/v1/alert-rules", editor, {"name": "Down", "expr": "up == 0"})
    assert rule.status == 201, rule.body
    silence = {
        "matchers": [{"name": "alertname", "value": "Down", "isRegex": False, "isEqual": True}],
        "startsAt": minute().isoformat(),
        "endsAt": minute(60).isoformat(),
        "createdBy": "amtool",
        "comment": "maintenance",
    }
    created = api.post("/api/v2/silences", editor, silence)
    assert created.status == 200, created.body
    silence_id = created.json["silenceID"]
    # when each is read back, then the body is what the API reference says it is
    replies = {
        ("post", "/api/v1/alert-rules", "201"): rule,
        ("get", "/api/v1/alert-rules", "200"): api.get("/api/v1/alert-rules", editor),
        ("get", "/api/v1/alert-rules/{rule_id}", "200"): api.get(
            f"/api/v1/alert-rules/{rule.json['id']}", editor
        ),
        ("post", "/api/v2/silences", "200"): created,
        ("get", "/api/v2/silences", "200"): api.get("/api/v2/silences", editor),
        ("get", "/api/v2/silence/{silence_id}", "200"): api.get(
            f"/api/v2/silence/{silence_id}", editor
        ),
        ("get", "/api/v2/status", "200"): api.get("/api/v2/status", editor),
    }
    for (method, path, status), reply in replies.items():
        assert str(reply.status) == status, (path, reply.body)
        jsonschema.validate(reply.json, documented(doc, method, path, status))
    exported = api.get("/api/v1/alert-rules/export", editor)
    jsonschema.validate(
        yaml.safe_load(exported.body),
        documented(doc, "get", "/api/v1/alert-rules/export", "200", "application/yaml"),
    )
    # and the Alertmanager shapes amtool decodes are unchanged
    listed = replies[("get", "/api/v2/silences", "200")].json
    assert [s["id"] for s in listed] == [silence_id]
    assert listed[0]["status"] == {"state": "active"}
    assert listed[0]["matchers"] == silence["matchers"]
    assert listed[0]["endsAt"].endswith("Z")
    assert replies[("get", "/api/v1/alert-rules", "200")].json["items"][0]["for"] == "0s"


class RecordedEvents:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def publish(self, tenant_id: str, detail_type: str, detail: dict[str, Any]) -> None:
        self.sent.append((tenant_id, detail_type, detail))

    def of(self, tenant_id: str) -> list[str]:
        return [kind for t, kind, _ in self.sent if t == tenant_id]


@pytest.fixture(scope="module")
def events() -> Iterator[RecordedEvents]:
    recorded = RecordedEvents()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bootstrap, "event_publisher", lambda: recorded)
        yield recorded


@pytest.fixture(scope="module")
def api(client: Client, events: RecordedEvents) -> Client:
    return client
