"""Services graph, changes, correlation settings and incident analysis through the API:
tenant isolation, bad input named, audit, and root cause visible on the incident."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import boto3
from botocore.stub import Stubber

from orchestrix import bootstrap
from orchestrix.adapters.aws.bedrock import BedrockLanguageModel

from .conftest import Client, token


def tenant() -> str:
    return f"i-{uuid.uuid4().hex[:8]}"


def ago(minutes: float) -> str:
    return (bootstrap.clock().now() - timedelta(minutes=minutes)).isoformat()


def test_services_graph_is_per_tenant_and_validated(client: Client) -> None:
    mine, other = tenant(), tenant()
    put = client.request(
        "PUT", "/api/v1/services/api", token(mine, "editor"), {"depends_on": ["db", "cache"]}
    )
    client.request("PUT", "/api/v1/services/web", token(mine, "editor"), {"depends_on": ["api"]})

    self_loop = client.request(
        "PUT", "/api/v1/services/db", token(mine, "editor"), {"depends_on": ["db"]}
    )
    viewer = client.request("PUT", "/api/v1/services/x", token(mine, "viewer"), {})
    theirs = client.get("/api/v1/services/api", token(other, "admin"))

    assert put.status == 200, put.body
    assert put.json["depends_on"] == ["db", "cache"]
    got = client.get("/api/v1/services/api", token(mine, "viewer")).json
    assert got["dependents"] == ["web"]
    assert self_loop.status == 422
    assert self_loop.content_type.startswith("application/problem+json")
    assert self_loop.json["errors"][0]["loc"] == ["body", "depends_on", 0]
    assert viewer.status == 403
    assert theirs.status == 404
    assert client.get("/api/v1/services", token(other)).json["items"] == []
    assert client.delete("/api/v1/services/api", token(other, "editor")).status == 404
    audit = client.get("/api/v1/audit-logs?resource_id=api", token(mine)).json["items"]
    assert [a["action"] for a in audit] == ["service.put"]


def test_changes_are_recorded_once_per_external_id_and_isolated(client: Client) -> None:
    mine, other = tenant(), tenant()
    body = {"service": "payments", "title": "v2.4.1", "external_id": "build-77", "at": ago(3)}
    first = client.post("/api/v1/changes", token(mine, "responder"), body)
    again = client.post("/api/v1/changes", token(mine, "responder"), body)
    bad = client.post("/api/v1/changes", token(mine, "responder"), {**body, "kind": "rollout"})
    naive = client.post("/api/v1/changes", token(mine, "responder"), {**body, "at": "2026-01-01"})

    assert first.status == again.status == 201, first.body
    assert again.json["id"] == first.json["id"]
    assert bad.status == 422 and bad.json["errors"][0]["loc"][-1] == "kind"
    assert naive.status == 422 and naive.json["errors"][0]["loc"][-1] == "at"
    listed = client.get("/api/v1/changes?service=payments", token(mine, "viewer")).json
    assert [c["id"] for c in listed["items"]] == [first.json["id"]]
    assert client.get(f"/api/v1/changes/{first.json['id']}", token(other)).status == 404
    assert client.get("/api/v1/changes", token(other)).json["items"] == []
    audit = client.get(f"/api/v1/audit-logs?resource_id={first.json['id']}", token(mine)).json
    assert [a["action"] for a in audit["items"]] == ["change.create"]


def test_correlation_settings_name_the_bad_field_and_need_admin(client: Client) -> None:
    mine = tenant()
    rule = {"name": "disk", "matchers": [{"name": "alertname", "op": "=~", "value": "(Disk"}]}
    bad = client.request("PUT", "/api/v1/correlation-settings", token(mine), {"rules": [rule]})
    editor = client.request("PUT", "/api/v1/correlation-settings", token(mine, "editor"), {})
    good_rule = {**rule, "matchers": [{"name": "alertname", "op": "=", "value": "DiskFull"}]}
    inhibit = {
        "source_matchers": [{"name": "alertname", "value": "ClusterDown"}],
        "target_matchers": [{"name": "severity", "value": "warning"}],
        "equal": ["cluster"],
    }
    body = {
        "rules": [{**good_rule, "group_by": ["dc"], "min_count": 3}],
        "inhibit_rules": [inhibit],
    }
    good = client.request("PUT", "/api/v1/correlation-settings", token(mine), body)

    assert bad.status == 422
    assert bad.json["errors"][0]["loc"] == ["body", "rules", 0, "matchers"]
    assert editor.status == 403
    boolean = client.request(
        "PUT", "/api/v1/correlation-settings", token(mine), {"topology_hops": False}
    )
    assert boolean.status == 422 and boolean.json["errors"][0]["loc"][-1] == "topology_hops"
    assert good.status == 200, good.body
    read = client.get("/api/v1/correlation-settings", token(mine, "viewer")).json
    assert read["rules"][0]["min_count"] == 3
    assert read["inhibit_rules"][0]["equal"] == ["cluster"]
    assert client.get("/api/v1/correlation-settings", token(tenant())).json["rules"] == []


def _outage(client: Client, t: str) -> tuple[str, str]:
    """web -> api -> db; db deployed 6 minutes ago, then db, api and web alert. Returns
    (incident id, change id)."""
    for name, deps in (("web", ["api"]), ("api", ["db"]), ("db", [])):
        client.request("PUT", f"/api/v1/services/{name}", token(t, "editor"), {"depends_on": deps})
    change = client.post(
        "/api/v1/changes",
        token(t, "responder"),
        {"service": "db", "title": "db schema migration", "kind": "config", "at": ago(6)},
    ).json["id"]
    for service, minutes in (("db", 4), ("api", 3), ("web", 2)):
        alert = {
            "labels": {"alertname": f"{service}Errors", "service": service},
            "severity": "critical",
            "starts_at": ago(minutes),
        }
        assert client.post("/api/v1/alerts", token(t, "responder"), alert).status == 201
    incident = client.post(
        "/api/v1/incidents",
        token(t, "responder"),
        {"title": "checkout down for ops@example.com", "service": "web", "severity": "SEV1"},
    )
    assert incident.status == 201, incident.body
    return incident.json["id"], change


def test_analysis_ranks_the_upstream_change_first_and_is_on_the_incident(
    client, incident_aws
) -> None:  # type: ignore[no-untyped-def]
    mine, other = tenant(), tenant()
    incident_id, change_id = _outage(client, mine)

    analysis = client.get(f"/api/v1/incidents/{incident_id}/analysis", token(mine, "viewer"))

    assert analysis.status == 200, analysis.body
    top = analysis.json["candidates"][0]
    assert (top["service"], top["cause_id"], top["kind"]) == ("db", change_id, "change")
    assert change_id in {e["id"] for e in analysis.json["evidence"]}
    summary = analysis.json["summary"]
    assert summary["analyser"] == "offline" and summary["note"] == "no model configured"
    assert change_id in summary["text"]
    incident = client.get(f"/api/v1/incidents/{incident_id}", token(mine, "viewer")).json
    assert incident["summary"] == summary["text"]
    assert client.get(f"/api/v1/incidents/{incident_id}/analysis", token(other)).status == 404
    assert client.post(f"/api/v1/incidents/{incident_id}/analysis", token(other)).status == 404
    viewer = client.post(f"/api/v1/incidents/{incident_id}/analysis", token(mine, "viewer"))
    assert viewer.status == 403
    too_long = client.get(f"/api/v1/incidents/{'x' * 65}/analysis", token(mine))
    assert too_long.status == 422 and too_long.json["errors"][0]["loc"][-1] == "incident_id"


def _forget_model() -> None:
    bootstrap._overrides.pop("language_model", None)
    bootstrap.language_model.cache_clear()


def test_bedrock_gets_redacted_evidence_and_only_cited_sentences_are_kept(
    client, incident_aws, request
) -> None:  # type: ignore[no-untyped-def]
    mine = tenant()
    incident_id, change_id = _outage(client, mine)
    bedrock = boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stub = Stubber(bedrock)
    answer = f"The db config change broke the api [{change_id}].\nIt is surely the network."
    stub.add_response(
        "converse",
        {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 700, "outputTokens": 30, "totalTokens": 730},
            "metrics": {"latencyMs": 5},
        },
    )
    # Every incidents request builds the analysis service (and caches the model): the model
    # is this test's only from here until the end of the test.
    bootstrap._overrides["language_model"] = BedrockLanguageModel("m-1", bedrock)
    bootstrap.language_model.cache_clear()
    request.addfinalizer(_forget_model)
    sent: list[str] = []
    bedrock.meta.events.register(
        "before-parameter-build.bedrock-runtime.Converse",
        lambda params, **_: sent.append(params["messages"][0]["content"][0]["text"]),
    )
    with stub:
        ran = client.post(f"/api/v1/incidents/{incident_id}/analysis", token(mine, "responder"))

    assert ran.status == 200, ran.body
    summary = ran.json["summary"]
    assert summary["analyser"] == "bedrock" and summary["model_id"] == "m-1"
    assert summary["text"] == f"The db config change broke the api [{change_id}]."
    assert summary["dropped"] == [
        {"text": "It is surely the network.", "reason": "cites no evidence"}
    ]
    assert (summary["input_tokens"], summary["output_tokens"]) == (700, 30)
    assert sent and "ops@example.com" not in sent[0] and change_id in sent[0]
    audit = client.get(f"/api/v1/audit-logs?resource_id={incident_id}", token(mine)).json["items"]
    assert "incident.analyse" in [a["action"] for a in audit]
    timeline = client.get(f"/api/v1/incidents/{incident_id}/timeline", token(mine)).json["items"]
    notes = [e["message"] for e in timeline if e["kind"] == "note"]
    assert notes == [f"analysis (bedrock): {summary['text']}"]  # the one asked for, not the first


def test_codedeploy_events_become_changes_of_existing_tenants_only(client: Client) -> None:
    from orchestrix.local.functions import FunctionHost

    mine = tenant()
    # the tenant exists once it has written something
    assert client.request("PUT", "/api/v1/services/payments", token(mine), {}).status == 200
    stage = bootstrap.settings().stage

    def deploy(app: str, deployment: str) -> Any:
        event = {
            "id": f"evt-{deployment}",
            "source": "aws.codedeploy",
            "detail-type": "CodeDeploy Deployment State-change Notification",
            "time": ago(1),
            "detail": {"application": app, "deploymentId": deployment, "state": "START"},
        }
        return FunctionHost().invoke("incident_events", event)

    stored = deploy(f"orchestrix.{stage}.{mine}.payments", "d-1")
    again = deploy(f"orchestrix.{stage}.{mine}.payments", "d-1")
    stranger = deploy(f"orchestrix.{stage}.nobody-{uuid.uuid4().hex[:6]}.payments", "d-2")
    elsewhere = deploy(f"orchestrix.other-stage.{mine}.payments", "d-3")

    assert stored["service"] == "payments" and again["change_id"] == stored["change_id"]
    assert "ignored" in stranger and "ignored" in elsewhere
    listed = client.get("/api/v1/changes", token(mine, "viewer")).json["items"]
    assert [(c["id"], c["source"], c["external_id"]) for c in listed] == [
        (stored["change_id"], "aws.codedeploy", "d-1")
    ]


def test_an_error_spike_in_the_tenants_metrics_is_cited_evidence(client, incident_aws) -> None:  # type: ignore[no-untyped-def]
    mine = tenant()
    for name, deps in (("web", ["api"]), ("api", ["db"]), ("db", [])):
        client.request(
            "PUT", f"/api/v1/services/{name}", token(mine, "editor"), {"depends_on": deps}
        )
    now = bootstrap.clock().now()
    lines = []
    for i in range(60, 0, -1):
        at = int((now - timedelta(minutes=i)).timestamp() * 1000)
        lines.append(f'app_errors{{service="db"}} {9.0 if i <= 12 else 0.0} {at}')
        lines.append(f'app_errors{{service="web"}} {1.0 if i <= 5 else 0.0} {at}')
    secret = client.post(
        "/api/v1/api-keys", token(mine), {"name": "m", "scopes": ["metrics:write"]}
    ).json["secret"]
    imported = client.post(
        "/api/v1/metrics/import",
        secret,
        raw=("\n".join(lines) + "\n").encode(),
        headers={"Content-Type": "text/plain; version=0.0.4"},
    )
    assert imported.status == 204, imported.body
    bad = client.request(
        "PUT", "/api/v1/correlation-settings", token(mine), {"error_query": "sum by (service"}
    )
    put = client.request(
        "PUT",
        "/api/v1/correlation-settings",
        token(mine),
        {"error_query": "sum by (service) (app_errors)"},
    )
    incident = client.post(
        "/api/v1/incidents", token(mine, "responder"), {"title": "web slow", "service": "web"}
    ).json["id"]

    analysis = client.get(f"/api/v1/incidents/{incident}/analysis", token(mine)).json

    assert bad.status == 422 and bad.json["errors"][0]["loc"] == ["body", "error_query"]
    assert put.status == 200, put.body
    top = analysis["candidates"][0]
    assert (top["service"], top["cause_id"], top["kind"]) == ("db", "met_errors_db", "error")
    spike = next(e for e in analysis["evidence"] if e["id"] == "met_errors_db")
    assert spike["type"] == "error" and "from zero" in spike["name"]
    assert "met_errors_db" in analysis["summary"]["text"]
