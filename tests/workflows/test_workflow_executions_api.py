"""The issue's acceptance scenarios, driven through the REST API and run for real by moto's
Step Functions engine, with a local HTTP server standing in for the services."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from workflow_runtime import LocalHttp

from tests.unit.workflow.workflow_examples import restart_api as example
from tests.workflows import workflow_api
from tests.workflows.workflow_api import REGION, Api

pytestmark = pytest.mark.xdist_group("moto-sfn")
api = workflow_api.api  # the fixture


@pytest.fixture
def tenant() -> str:
    return f"wf-{uuid.uuid4().hex[:10]}"


def restart_api(hook: str, settle_seconds: int = 1) -> dict[str, Any]:
    return example(hook, settle_seconds=settle_seconds, restart_service="api", require_service=True)


def approval_only(timeout_seconds: int = 3600) -> dict[str, Any]:
    return {
        "name": "ask-first",
        "steps": [
            {"id": "ask", "type": "approval", "message": "go?", "timeout_seconds": timeout_seconds},
            {"id": "done", "type": "succeed"},
        ],
    }


def test_unhealthy_service_is_restarted_after_approval_through_the_api(
    api: Api, local_http: LocalHttp, tenant: str
) -> None:
    # given an ECS service whose health endpoint answers 503, and the workflow
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "api", "image": "api:1", "memory": 128}]
    )
    ecs.create_service(cluster="prod", serviceName="api", taskDefinition="api", desiredCount=1)
    local_http.answer("/health", 503)
    service = local_http.url.removeprefix("http://")
    workflow_id = api.create(tenant, restart_api(f"{local_http.url}/hook"))

    # when it runs, and a responder approves the restart once it waits for approval
    execution_id = api.execute(tenant, workflow_id, {"service": service})
    waiting = api.wait_for(tenant, execution_id, "waiting_approval")
    assert waiting["approval"]["message"] == f"Restart {service}?"
    approved = api.call("POST", f"/api/v1/executions/{execution_id}/approve", tenant, "responder")
    assert approved.status == 200, approved.json
    done = api.wait_for(tenant, execution_id, "succeeded")

    # then every step ran in order, the receiver got one message and one event went out
    steps = {s["id"]: s for s in done["steps"]}
    assert [s["id"] for s in done["steps"]] == [
        "check",
        "down",
        "ask",
        "restart",
        "settle",
        "tell",
        "ok",
    ]
    assert steps["check"]["output"]["status"] == 503
    assert steps["ask"]["output"]["approved"] is True
    assert steps["restart"]["output"]["action"] == "ecs:UpdateService"
    assert all(s["status"] == "succeeded" for s in done["steps"])
    assert local_http.bodies("/hook") == [{"message": f"{service}: 503", "step": "tell"}]
    assert api.execution(tenant, execution_id)["status"] == "succeeded"
    assert api.published(execution_id) == ["workflow.execution.succeeded"]
    audit = api.call("GET", "/api/v1/audit-logs?limit=50", tenant, "admin").json["items"]
    assert {"workflow.create", "workflow.execute", "execution.approve"} <= {
        a["action"] for a in audit
    }


def test_http_step_answering_503_twice_then_200_succeeds_on_attempt_3(
    api: Api, local_http: LocalHttp, tenant: str
) -> None:
    # given an endpoint that answers 503, 503, then 200
    local_http.answer("/flaky", 503, 503, 200)
    definition = {
        "name": "probe",
        "steps": [
            {
                "id": "probe",
                "type": "http",
                "request": {"url": f"{local_http.url}/flaky"},
                "expect_status": [200],
                "retry": {"max_attempts": 3, "interval_seconds": 1, "backoff_rate": 1.0},
            }
        ],
    }

    # when it runs
    execution_id = api.execute(tenant, api.create(tenant, definition), {})
    done = api.wait_for(tenant, execution_id, "succeeded")

    # then the step shows three attempts and the final answer
    (probe,) = done["steps"]
    assert (probe["status"], probe["attempts"]) == ("succeeded", 3)
    assert probe["output"]["status"] == 200


def test_rejected_approval_fails_the_run_with_the_reason(api: Api, tenant: str) -> None:
    # given a run waiting for approval
    execution_id = api.execute(tenant, api.create(tenant, approval_only()), {})
    api.wait_for(tenant, execution_id, "waiting_approval")

    # when a responder rejects it
    rejected = api.call(
        "POST",
        f"/api/v1/executions/{execution_id}/reject",
        tenant,
        "responder",
        {"reason": "not during the sale"},
    )

    # then the run fails and says why
    assert rejected.status == 200, rejected.json
    done = api.wait_for(tenant, execution_id, "failed")
    assert (done["error"], done["cause"]) == ("Rejected", "not during the sale")
    assert done["reject_reason"] == "not during the sale"
    assert done["steps"][0]["status"] == "failed"
    assert api.published(execution_id) == ["workflow.execution.failed"]


def test_long_wait_cancelled_through_the_api_ends_cancelled(api: Api, tenant: str) -> None:
    # given a run in a one-hour wait
    definition = {"name": "slow", "steps": [{"id": "nap", "type": "wait", "seconds": 3600}]}
    execution_id = api.execute(tenant, api.create(tenant, definition), {})
    assert api.execution(tenant, execution_id)["status"] == "running"

    # when a responder cancels it
    cancelled = api.call(
        "POST",
        f"/api/v1/executions/{execution_id}/cancel",
        tenant,
        "responder",
        {"reason": "fixed"},
    )

    # then it is cancelled, stays so, and a second cancel is a conflict
    assert cancelled.status == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled"
    assert api.execution(tenant, execution_id)["status"] == "cancelled"
    again = api.call("POST", f"/api/v1/executions/{execution_id}/cancel", tenant, "responder")
    assert again.status == 409
    assert api.published(execution_id) == ["workflow.execution.cancelled"]


def test_cancelling_a_run_waiting_for_approval_releases_it(api: Api, tenant: str) -> None:
    # given a run waiting for approval
    execution_id = api.execute(tenant, api.create(tenant, approval_only()), {})
    api.wait_for(tenant, execution_id, "waiting_approval")

    # when it is cancelled, then approving it is too late
    cancel = api.call("POST", f"/api/v1/executions/{execution_id}/cancel", tenant, "responder")
    assert cancel.json["status"] == "cancelled"
    late = api.call("POST", f"/api/v1/executions/{execution_id}/approve", tenant, "responder")
    assert late.status == 409
    assert api.execution(tenant, execution_id)["approval"] is None


def test_approval_that_nobody_answers_times_out(api: Api, tenant: str) -> None:
    # given an approval with a one-second timeout
    execution_id = api.execute(tenant, api.create(tenant, approval_only(timeout_seconds=1)), {})

    # when nobody answers, then the run ends timed_out
    done = api.wait_for(tenant, execution_id, "timed_out")
    assert done["error"] == "States.Timeout"
    assert api.published(execution_id) == ["workflow.execution.timed_out"]
