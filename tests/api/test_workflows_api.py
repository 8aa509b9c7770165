"""Workflows and executions through the gateway: roles, tenancy, validation, idempotency,
versions and deletion (runs on moto's Step Functions engine)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows import workflow_api
from tests.workflows.workflow_api import Api

pytestmark = pytest.mark.xdist_group("moto-sfn")
api = workflow_api.api  # the fixture
WF = "/api/v1/workflows"
EX = "/api/v1/executions"


def waiting(name: str = "ask-first") -> dict[str, Any]:
    return {
        "name": name,
        "inputs": {
            "type": "object",
            "properties": {"service": {"type": "string"}, "replicas": {"type": "integer"}},
            "required": ["service"],
        },
        "steps": [
            {"id": "ask", "type": "approval", "message": "Scale {{ inputs.service }}?"},
            {"id": "done", "type": "succeed"},
        ],
    }


def test_other_tenant_cannot_see_execute_approve_or_cancel(api: Api, tenants: tuple[str, str]):
    a, b = tenants
    workflow_id = api.create(a, waiting())
    execution_id = api.execute(a, workflow_id, {"service": "web"})
    api.wait_for(a, execution_id, "waiting_approval")

    attempts = [
        api.call("GET", f"{WF}/{workflow_id}", b),
        api.call("PUT", f"{WF}/{workflow_id}", b, body=waiting()),
        api.call("DELETE", f"{WF}/{workflow_id}", b),
        api.call("POST", f"{WF}/{workflow_id}/execute", b, body={"input": {"service": "x"}}),
        api.call("GET", f"{EX}/{execution_id}", b),
        api.call("POST", f"{EX}/{execution_id}/approve", b),
        api.call("POST", f"{EX}/{execution_id}/reject", b, body={"reason": "mine"}),
        api.call("POST", f"{EX}/{execution_id}/cancel", b),
    ]

    assert [r.status for r in attempts] == [404] * len(attempts)
    assert api.call("GET", WF, b).json["items"] == []
    assert api.call("GET", EX, b).json["items"] == []
    assert api.execution(a, execution_id)["status"] == "waiting_approval"
    api.call("POST", f"{EX}/{execution_id}/cancel", a, "responder")


def test_deleted_workflow_keeps_its_executions_readable_but_cannot_run(
    api: Api, tenants: tuple[str, str]
):
    a, _ = tenants
    definition = {"name": "hello", "steps": [{"id": "done", "type": "succeed"}]}
    workflow_id = api.create(a, definition)
    execution_id = api.execute(a, workflow_id, {})
    api.wait_for(a, execution_id, "succeeded")

    assert api.call("DELETE", f"{WF}/{workflow_id}", a).status == 204

    assert api.call("GET", f"{WF}/{workflow_id}", a).status == 404
    assert api.call("POST", f"{WF}/{workflow_id}/execute", a, body={"input": {}}).status == 404
    assert api.execution(a, execution_id)["status"] == "succeeded"
    listed = api.call("GET", f"{EX}?workflow_id={workflow_id}", a, "viewer").json["items"]
    assert [e["id"] for e in listed] == [execution_id]
    # the name is free again
    assert api.call("POST", WF, a, body=definition).status == 201


def test_same_idempotency_key_returns_the_same_execution(api: Api, tenants: tuple[str, str]):
    a, _ = tenants
    workflow_id = api.create(a, waiting())
    path = f"{WF}/{workflow_id}/execute"
    key = {"Idempotency-Key": "deploy-42"}

    first = api.call("POST", path, a, "responder", {"input": {"service": "web"}}, key)
    again = api.call("POST", path, a, "responder", {"input": {"service": "web"}}, key)
    other = api.call("POST", path, a, "responder", {"input": {"service": "web"}})

    assert (first.status, again.status, other.status) == (201, 200, 201)
    assert again.json["id"] == first.json["id"] != other.json["id"]
    listed = api.call("GET", f"{EX}?workflow_id={workflow_id}", a, "viewer").json["items"]
    assert len(listed) == 2
    for execution in (first.json["id"], other.json["id"]):
        api.call("POST", f"{EX}/{execution}/cancel", a, "responder")


def test_input_is_checked_against_the_inputs_schema(api: Api, tenants: tuple[str, str]):
    a, _ = tenants
    workflow_id = api.create(a, waiting())

    missing = api.call("POST", f"{WF}/{workflow_id}/execute", a, body={"input": {}})
    wrong = api.call(
        "POST", f"{WF}/{workflow_id}/execute", a, body={"input": {"service": "w", "replicas": "x"}}
    )

    assert missing.status == 422
    assert missing.json["errors"][0]["loc"] == ["body", "input"]
    assert "'service' is a required property" in missing.json["errors"][0]["msg"]
    assert wrong.status == 422
    assert wrong.json["errors"][0]["loc"] == ["body", "input", "replicas"]


def test_invalid_definitions_are_422_with_the_location(api: Api, tenants: tuple[str, str]):
    a, _ = tenants
    dangling = {"name": "x", "steps": [{"id": "a", "type": "wait", "seconds": 1, "next": "nope"}]}
    bad_schema = {
        "name": "y",
        "inputs": {"type": "nonsense"},
        "steps": [{"id": "a", "type": "succeed"}],
    }
    metadata = {
        "name": "z",
        "steps": [{"id": "a", "type": "http", "request": {"url": "http://169.254.169.254/"}}],
    }

    replies = [api.call("POST", WF, a, body=body) for body in (dangling, bad_schema, metadata)]

    assert [r.status for r in replies] == [422, 422, 422]
    assert replies[0].json["errors"][0]["loc"] == ["steps", 0, "next"]
    assert replies[1].json["errors"][0]["loc"][0] == "inputs"
    assert "link-local" in replies[2].json["errors"][0]["msg"]
    assert api.call("GET", WF, a, "viewer").json["items"] == []


def test_roles_viewer_reads_responder_runs_editor_defines(api: Api, tenants: tuple[str, str]):
    a, _ = tenants
    assert api.call("POST", WF, a, "responder", body=waiting()).status == 403
    workflow_id = api.create(a, waiting())
    execute = f"{WF}/{workflow_id}/execute"
    assert api.call("POST", execute, a, "viewer", {"input": {"service": "w"}}).status == 403
    assert api.call("GET", f"{WF}/{workflow_id}", a, "viewer").status == 200
    execution_id = api.execute(a, workflow_id, {"service": "w"})
    assert api.call("POST", f"{EX}/{execution_id}/cancel", a, "viewer").status == 403
    assert api.call("POST", f"{EX}/{execution_id}/cancel", a, "responder").status == 200


def test_update_makes_a_new_version_and_runs_record_theirs(api: Api, tenants: tuple[str, str]):
    a, _ = tenants
    workflow_id = api.create(a, {"name": "v", "steps": [{"id": "one", "type": "succeed"}]})
    first = api.execute(a, workflow_id, {})

    updated = api.call(
        "PUT",
        f"{WF}/{workflow_id}",
        a,
        body={"name": "v", "steps": [{"id": "two", "type": "succeed"}]},
    )
    second = api.execute(a, workflow_id, {})

    assert updated.status == 200 and updated.json["version"] == 2
    assert updated.json["state_machine_arn"].endswith(f"{workflow_id}-v2")
    assert api.wait_for(a, first, "succeeded")["workflow_version"] == 1
    shown = api.wait_for(a, second, "succeeded")
    assert (shown["workflow_version"], shown["steps"][0]["id"]) == (2, "two")


def test_executions_filter_by_status_and_paginate(api: Api, tenants: tuple[str, str]):
    a, _ = tenants
    quick = api.create(a, {"name": "quick", "steps": [{"id": "done", "type": "succeed"}]})
    ids = [api.execute(a, quick, {}) for _ in range(3)]
    for execution_id in ids:
        api.wait_for(a, execution_id, "succeeded")

    first = api.call("GET", f"{EX}?limit=2&status=succeeded", a, "viewer").json
    rest = api.call("GET", f"{EX}?limit=2&status=succeeded&cursor={first['next_cursor']}", a).json
    none_failed = api.call("GET", f"{EX}?status=failed", a, "viewer").json

    assert sorted(e["id"] for e in first["items"] + rest["items"]) == sorted(ids)
    assert rest["next_cursor"] is None
    assert none_failed["items"] == []


def test_alert_rule_may_name_only_a_live_workflow_of_its_tenant(api: Api, tenants: tuple[str, str]):
    # given a workflow of each tenant, and one of tenant a that was deleted
    a, b = tenants
    definition = {"name": "drain", "steps": [{"id": "done", "type": "succeed"}]}
    mine, theirs = api.create(a, definition), api.create(b, definition)
    deleted = api.create(a, {**definition, "name": "old"})
    assert api.call("DELETE", f"{WF}/{deleted}", a).status == 204
    rule = {"name": "QueueBacklog", "expr": "queue_depth > 100"}

    # when tenant a's rules name each of them
    replies = {
        workflow_id: api.call(
            "POST", "/api/v1/alert-rules", a, body={**rule, "remediation_workflow_id": workflow_id}
        )
        for workflow_id in (theirs, deleted, mine)
    }

    # then only its own live workflow is accepted; the others are refused alike
    assert [r.status for r in replies.values()] == [422, 422, 201]
    refused = {"loc": ["body", "remediation_workflow_id"], "msg": "no such workflow"}
    assert replies[theirs].json["errors"] == replies[deleted].json["errors"] == [refused]
    assert replies[mine].json["remediation_workflow_id"] == mine
