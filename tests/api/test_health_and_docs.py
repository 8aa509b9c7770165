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
        if r.function == "api" and r.path not in ("/api/v1/openapi.json", "/api/v1/docs")
    }
    assert expected - documented == set()


def test_swagger_ui_is_served(client):
    reply = client.get("/api/v1/docs")
    assert reply.status == 200
    assert b"swagger" in reply.body.lower()
