from __future__ import annotations

from orchestrix import wiring


def test_ready_checks_the_database(client):
    reply = client.get("/health/ready")
    assert reply.status == 200
    assert reply.json["checks"] == {"database": "ok"}
    assert client.get("/health/live").json == {"status": "ok", "checks": {}}


def test_openapi_is_3_1_and_documents_every_route(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").json
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    expected = {
        (r.method, r.path)
        for r in wiring.ROUTES
        if r.path not in ("/api/v1/openapi.json", "/api/v1/docs")
    }
    assert expected - documented == set()  # every function's routes, metrics included
    assert documented - expected == set()


def test_metrics_operations_document_their_bodies_parameters_and_errors(client):
    doc = client.get("/api/v1/openapi.json").json
    write = doc["paths"]["/api/v1/metrics/write"]["post"]
    values = doc["paths"]["/prometheus/api/v1/label/{name}/values"]["get"]
    query_range = doc["paths"]["/api/v1/metrics/query_range"]["post"]

    assert "application/x-protobuf" in write["requestBody"]["content"]
    assert write["responses"]["400"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert [p["name"] for p in values["parameters"]] == ["name", "start", "end", "match[]"]
    assert values["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PrometheusError"
    }
    form = query_range["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert form["schema"]["required"] == ["query", "step"]


def test_loki_posts_document_their_parameters_as_a_form_body(client):
    doc = client.get("/api/v1/openapi.json").json
    series = doc["paths"]["/loki/api/v1/series"]
    stats = doc["paths"]["/loki/api/v1/index/stats"]["post"]

    get_fields = [p["name"] for p in series["get"]["parameters"]]
    form = series["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert "parameters" not in series["post"]
    assert list(form["schema"]["properties"]) == get_fields == ["match[]", "start", "end", "since"]
    assert form["schema"]["properties"]["match[]"]["anyOf"][1]["type"] == "array"
    stats_form = stats["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert stats_form["schema"]["required"] == ["query"]


def test_swagger_ui_is_served(client):
    reply = client.get("/api/v1/docs")
    assert reply.status == 200
    assert b"swagger" in reply.body.lower()
