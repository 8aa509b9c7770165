"""Workflow steps stay inside their tenant: the issue's attacks, through the REST API and run
for real by moto's Step Functions engine, with every wiring function behind moto's Lambda
(so `lambda:Invoke` on `api` would reach the real management API)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from workflow_runtime import LocalHttp

from orchestrix.domain.workflow import validation
from tests.workflows import workflow_api
from tests.workflows.workflow_api import Api

pytestmark = pytest.mark.xdist_group("moto-sfn")
api = workflow_api.api  # the fixture


def forged_api_key_request(victim: str) -> dict[str, Any]:
    """An API Gateway proxy event for POST /api/v1/api-keys, as if the authorizer had let
    an admin of `victim` in."""
    body = {"name": "planted", "scopes": ["metrics:write"], "expires_at": None}
    return {
        "resource": "/api/v1/api-keys",
        "path": "/api/v1/api-keys",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/api/v1/api-keys",
            "httpMethod": "POST",
            "path": "/v1/api/v1/api-keys",
            "stage": "v1",
            "requestId": "forged",
            "authorizer": {
                "tenant_id": victim,
                "subject": "attacker",
                "roles": "admin",
                "scopes": "",
                "principal_type": "user",
            },
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def invoke_api(victim: str) -> dict[str, Any]:
    return {
        "name": "escape",
        "steps": [
            {
                "id": "plant",
                "type": "aws",
                "action": "lambda:Invoke",
                "params": {
                    "FunctionName": "api",
                    "Payload": json.dumps(forged_api_key_request(victim)),
                },
            }
        ],
    }


@pytest.fixture
def tenants() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return f"victim-{suffix}", f"attacker-{suffix}"


def keys_of(api: Api, tenant: str) -> list[str]:
    reply = api.call("GET", "/api/v1/api-keys", tenant, "admin")
    assert reply.status == 200, reply.json
    return [k["name"] for k in reply.json["items"]]


def test_forged_lambda_invoke_on_the_api_is_refused_at_save(
    api: Api, tenants: tuple[str, str]
) -> None:
    victim, attacker = tenants

    reply = api.call("POST", "/api/v1/workflows", attacker, body=invoke_api(victim))

    assert reply.status == 422
    assert reply.headers["content-type"] == "application/problem+json"
    (error,) = reply.json["errors"]
    assert error["loc"] == ["steps", 0, "action"]
    assert error["msg"].startswith("aws action 'lambda:Invoke' is not allowed")
    assert api.call("GET", "/api/v1/workflows", attacker, "viewer").json["items"] == []


def test_forged_lambda_invoke_saved_before_the_fix_is_refused_at_run(
    api: Api, tenants: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the workflow saved while lambda:Invoke was still allowed (its machine compiled)
    victim, attacker = tenants
    with monkeypatch.context() as old_validator:
        old_validator.setattr(
            validation, "ALLOWED_AWS_ACTIONS", (*validation.ALLOWED_AWS_ACTIONS, "lambda:Invoke")
        )
        workflow_id = api.create(attacker, invoke_api(victim))

    # when the attacker runs it
    execution_id = api.execute(attacker, workflow_id, {})
    done = api.wait_for(attacker, execution_id, "failed")

    # then the step is refused before calling AWS, and the victim got no key
    (plant,) = done["steps"]
    assert plant["status"] == "failed"
    assert plant["error"]["error"] == "AwsActionNotAllowed"
    assert plant["error"]["cause"] == "aws action 'lambda:Invoke' is not allowed"
    assert done["error"] == "AwsActionNotAllowed"
    assert keys_of(api, victim) == []
    assert keys_of(api, attacker) == []


def failing_probe(url: str, caught: bool) -> dict[str, Any]:
    probe: dict[str, Any] = {
        "id": "probe",
        "type": "http",
        "request": {"url": url},
        "expect_status": [200],
    }
    steps: list[dict[str, Any]] = [probe]
    if caught:
        probe["on_error"] = "handled"
        steps.append({"id": "handled", "type": "succeed"})
    return {"name": f"probe-{'caught' if caught else 'uncaught'}", "steps": steps}


@pytest.mark.parametrize("caught", [False, True])
def test_viewer_sees_the_step_error_message_but_no_stack_trace(
    api: Api, local_http: LocalHttp, tenants: tuple[str, str], caught: bool
) -> None:
    # given a step that fails (the target answers 500), its error caught or not
    tenant, _ = tenants
    local_http.answer("/down", 500)
    workflow_id = api.create(tenant, failing_probe(f"{local_http.url}/down", caught))

    # when it has run, and a viewer reads the execution, its list and the step
    execution_id = api.execute(tenant, workflow_id, {})
    done = api.wait_for(tenant, execution_id, "succeeded" if caught else "failed")
    listed = api.call("GET", "/api/v1/executions", tenant, "viewer")
    assert listed.status == 200

    # then the error type and message are there, the server's files and stack are not
    (probe, *_) = done["steps"]
    assert probe["error"]["error"] == "HttpStatusError"
    assert "answered 500" in probe["error"]["cause"]
    if caught:
        assert done["output"]["errors"]["probe"]["Error"] == "HttpStatusError"
        assert "answered 500" in done["output"]["errors"]["probe"]["Cause"]
    else:
        assert done["error"] == "HttpStatusError"
        assert "answered 500" in str(done["cause"])
    for shown in (json.dumps(done), listed.body.decode()):
        assert "stackTrace" not in shown
        assert 'File \\"' not in shown and ".py" not in shown
