"""An engine that lost its state (the local runtime restarted: moto keeps Step Functions in
memory) gets it back from the database: state machines, approval waits, honest endings."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import boto3
import pytest

from orchestrix import bootstrap
from orchestrix.adapters.aws.stepfunctions import release_token_waits
from tests.workflows import workflow_api
from tests.workflows.workflow_api import REGION, Api

pytestmark = pytest.mark.xdist_group("moto-sfn")
api = workflow_api.api  # the fixture


def approval_only(timeout_seconds: int = 3600) -> dict[str, object]:
    return {
        "name": "ask-first",
        "steps": [
            {"id": "ask", "type": "approval", "message": "go?", "timeout_seconds": timeout_seconds},
            {"id": "done", "type": "succeed"},
        ],
    }


def lose_the_engine() -> None:
    """What a restart of `orchestrix dev` does to moto: every execution stopped, then every
    state machine and execution forgotten."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    sfn = boto3.client("stepfunctions", region_name=REGION)
    for machine in sfn.list_state_machines()["stateMachines"]:
        arn = machine["stateMachineArn"]
        for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
            if execution["status"] == "RUNNING":
                sfn.stop_execution(executionArn=execution["executionArn"])
                release_token_waits(execution["executionArn"])
    for regions in list(stepfunctions_parser_backends.values()):
        for backend in list(regions.values()):
            backend.reset()
    assert sfn.list_state_machines()["stateMachines"] == []


def recover(tenant: str) -> None:
    recovery = bootstrap.execution_recovery()
    recovery.recreate_machines(tenant)
    recovery.recover_executions(tenant)


@pytest.fixture
def tenant() -> str:
    return f"rec-{uuid.uuid4().hex[:10]}"


def test_an_approval_wait_is_started_again_and_the_same_approve_call_completes_it(
    api: Api, tenant: str
) -> None:
    workflow_id = api.create(tenant, approval_only())
    execution_id = api.execute(tenant, workflow_id, {})
    api.wait_for(tenant, execution_id, "waiting_approval")
    lose_the_engine()

    recover(tenant)

    api.wait_for(tenant, execution_id, "waiting_approval")
    approved = api.call("POST", f"/api/v1/executions/{execution_id}/approve", tenant, "responder")
    assert approved.status == 200, approved.json
    assert api.wait_for(tenant, execution_id, "succeeded")["status"] == "succeeded"
    # and a new run of the workflow starts (its state machine is back)
    again = api.execute(tenant, workflow_id, {})
    api.wait_for(tenant, again, "waiting_approval")


def test_an_approval_that_expired_while_stopped_times_out(api: Api, tenant: str) -> None:
    workflow_id = api.create(tenant, approval_only(timeout_seconds=60))
    execution_id = api.execute(tenant, workflow_id, {})
    api.wait_for(tenant, execution_id, "waiting_approval")
    lose_the_engine()
    bootstrap.clock().advance(timedelta(minutes=2))  # type: ignore[attr-defined]

    recover(tenant)

    shown = api.execution(tenant, execution_id)
    assert (shown["status"], shown["error"]) == ("timed_out", "States.Timeout")
    assert "expired while the local runtime was stopped" in shown["cause"]
    refused = api.call("POST", f"/api/v1/executions/{execution_id}/approve", tenant, "responder")
    assert refused.status == 409
    assert api.published(execution_id) == ["workflow.execution.timed_out"]


def test_a_run_interrupted_between_steps_fails_and_is_not_run_again(api: Api, tenant: str) -> None:
    waits = {
        "name": "long-wait",
        "steps": [
            {"id": "pause", "type": "wait", "seconds": 3600},
            {"id": "ok", "type": "succeed"},
        ],
    }
    execution_id = api.execute(tenant, api.create(tenant, waits), {})
    api.wait_for(tenant, execution_id, "running")
    lose_the_engine()

    recover(tenant)

    shown = api.execution(tenant, execution_id)
    assert (shown["status"], shown["error"]) == ("failed", "RuntimeRestarted")
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machines = sfn.list_state_machines()["stateMachines"]
    assert [sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
            for m in machines] == [[]]  # fmt: skip


def test_recovering_one_tenant_leaves_another_tenants_runs_alone(api: Api, tenant: str) -> None:
    other = f"{tenant}-b"
    execution_id = api.execute(other, api.create(other, approval_only()), {})
    api.wait_for(other, execution_id, "waiting_approval")
    lose_the_engine()

    recover(tenant)

    sfn = boto3.client("stepfunctions", region_name=REGION)
    assert sfn.list_state_machines()["stateMachines"] == []
    # (reading the run now would settle it as gone: let its own tenant's recovery show it)
    recover(other)
    # The run keeps its waiting_approval status while the restarted execution reaches the
    # approval step again: wait for the step to be shown, not only the status.
    deadline = time.monotonic() + 30
    shown = api.wait_for(other, execution_id, "waiting_approval")
    while shown["approval"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
        shown = api.wait_for(other, execution_id, "waiting_approval")
    assert shown["approval"] is not None and shown["approval"]["step_id"] == "ask"
