"""Auto-remediations running when the local runtime stopped: its Step Functions (moto) forgets
them, the database does not. At start each is resumed from its recorded progress, or, when
the workflow run it started was interrupted too, failed with the reason and handed to people."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import boto3
import pytest
from workflow_runtime import LocalHttp

from orchestrix import bootstrap
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.postgres.remediation_components import remediation_recovery
from orchestrix.local import workflow_functions
from orchestrix.services.remediation_recovery import RemediationsRecovered
from tests.workflows import test_remediation as remediation
from tests.workflows import workflow_api
from tests.workflows.test_remediation import (
    create_rule,
    drain_workflow,
    evaluate,
    only_alert,
    published,
    wait_for_remediation,
    write_metric,
)
from tests.workflows.test_workflow_recovery import lose_the_engine
from tests.workflows.workflow_api import REGION, Api

pytestmark = pytest.mark.xdist_group("moto-sfn")
api = workflow_api.api  # the fixtures
remediation_api = remediation.remediation_api


@pytest.fixture
def tenant() -> str:
    return f"remrec-{uuid.uuid4().hex[:10]}"


def restart(tenant: str) -> RemediationsRecovered:
    """What `orchestrix dev` does at start, for one tenant: the declared machines, the
    workflows and their runs, then the remediations."""
    workflow_functions.create_state_machines(bootstrap.settings().state_machine_prefix)
    workflows, remediations = bootstrap.execution_recovery(), remediation_recovery()
    workflows.recreate_machines(tenant)
    workflows.recover_executions(tenant, remediations.alert_of)
    return remediations.recover(tenant)


def remediation_runs() -> list[str]:
    """Every execution of the `remediation` state machine the engine knows."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return [
        execution["name"]
        for machine in sfn.list_state_machines()["stateMachines"]
        if machine["name"].endswith("-remediation")
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])[
            "executions"
        ]
    ]


def until(what: str, check: Any) -> Any:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within 30 s")


def audit_actions(api: Api, tenant: str, resource_id: str) -> list[str]:
    reply = api.call("GET", f"/api/v1/audit-logs?resource_id={resource_id}", tenant, "admin")
    assert reply.status == 200, reply.json
    return sorted(entry["action"] for entry in reply.json["items"])


def test_remediation_waiting_for_its_recheck_is_resumed_and_its_fix_not_run_again(
    remediation_api: Api, local_http: LocalHttp, tenant: str
) -> None:
    api = remediation_api
    # given a remediation whose workflow drained the queue, waiting five minutes to re-check
    workflow_id = api.create(tenant, drain_workflow(local_http.url))
    create_rule(api, tenant, workflow_id)
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')
    evaluate(tenant, wait_seconds=300)
    until(
        "the workflow succeeded",
        lambda: only_alert(api, tenant)["remediations"][0]["execution_status"] == "succeeded",
    )

    # when the local runtime restarts
    lose_the_engine()
    recovered = restart(tenant)

    # then the remediation is resumed, audited, and still running
    (running,) = only_alert(api, tenant)["remediations"]
    assert recovered == RemediationsRecovered(resumed=[running["id"]])
    assert running["status"] == "running"
    assert "remediation.resume" in audit_actions(api, tenant, running["id"])
    alert_id = only_alert(api, tenant)["id"]
    assert remediation_runs() == [f"{alert_id}-1"]  # the same execution name, so the same ARN

    # and once the queue is healthy and the re-check is due, it resolves the alert
    write_metric(tenant, 'queue_depth{queue="mail"} 3\n')
    clock = bootstrap.clock()
    assert isinstance(clock, AdjustableClock)
    clock.advance(timedelta(minutes=5))
    done = wait_for_remediation(api, tenant)
    assert [r["status"] for r in done["remediations"]] == ["resolved"]
    assert done["status"] == "resolved"
    # without running the workflow (the fix) a second time
    assert local_http.bodies("/drain/mail") == [{"alert": done["id"], "queue": "mail"}]
    runs = api.call("GET", f"/api/v1/executions?workflow_id={workflow_id}", tenant, "viewer")
    assert len(runs.json["items"]) == 1
    assert "alert.remediation_failed" not in published(api, tenant)


def test_remediation_whose_workflow_run_was_interrupted_fails_and_goes_to_escalation(
    remediation_api: Api, tenant: str
) -> None:
    api = remediation_api
    # given a remediation whose workflow is in the middle of a long step
    slow_fix = {
        "name": "slow-fix",
        "steps": [
            {"id": "pause", "type": "wait", "seconds": 3600},
            {"id": "done", "type": "succeed"},
        ],
    }
    workflow_id = api.create(tenant, slow_fix)
    create_rule(api, tenant, workflow_id)
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')
    evaluate(tenant, wait_seconds=300)
    started = until(
        "the workflow started",
        lambda: only_alert(api, tenant)["remediations"][0]["execution_id"],
    )

    # when the local runtime restarts
    lose_the_engine()
    recovered = restart(tenant)

    # then the workflow run failed as interrupted, and so did the remediation, saying why
    assert api.execution(tenant, started)["error"] == "RuntimeRestarted"
    alert = only_alert(api, tenant)
    (failed,) = alert["remediations"]
    assert recovered == RemediationsRecovered(failed=[failed["id"]])
    assert failed["status"] == "failed"
    assert failed["reason"].startswith("interrupted: the local runtime restarted")
    assert started in failed["reason"]
    assert failed["finished_at"] is not None
    # the alert is left firing and handed to escalation, as after any failed remediation
    assert alert["status"] == "firing"
    with api.lock:
        handed = [e["detail"] for e in api.events if e["detail-type"] == "alert.remediation_failed"]
    assert [(d["id"], d["remediation"]["id"], d["reason"]) for d in handed] == [
        (alert["id"], failed["id"], failed["reason"])
    ]
    assert "remediation.failed" in audit_actions(api, tenant, failed["id"])
    # and nothing runs it again
    assert remediation_runs() == []


def test_remediation_waiting_on_an_approval_goes_on_once_the_same_approval_is_given(
    remediation_api: Api, local_http: LocalHttp, tenant: str
) -> None:
    api = remediation_api
    # given a remediation whose workflow waits for someone to approve the drain
    asks_first = drain_workflow(local_http.url)
    asks_first["steps"].insert(0, {"id": "ask", "type": "approval", "message": "drain?"})
    workflow_id = api.create(tenant, asks_first)
    create_rule(api, tenant, workflow_id)
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')
    evaluate(tenant, wait_seconds=1)
    run = until(
        "the workflow asked",
        lambda: (
            only_alert(api, tenant)["remediations"][0]["execution_status"] == "waiting_approval"
            and only_alert(api, tenant)["remediations"][0]["execution_id"]
        ),
    )

    # when the local runtime restarts (the run asks again), and the approval is then given
    lose_the_engine()
    recovered = restart(tenant)
    assert recovered.resumed == [only_alert(api, tenant)["remediations"][0]["id"]]
    until("the run asked again", lambda: api.execution(tenant, run)["approval"])
    approved = api.call("POST", f"/api/v1/executions/{run}/approve", tenant, "responder")
    assert approved.status == 200, approved.json
    write_metric(tenant, 'queue_depth{queue="mail"} 3\n')

    # then the remediation follows its run to the end and, at the re-check (the runtime's
    # wait, five minutes), resolves the alert, having drained once
    until(
        "the run succeeded",
        lambda: only_alert(api, tenant)["remediations"][0]["execution_status"] == "succeeded",
    )
    clock = bootstrap.clock()
    assert isinstance(clock, AdjustableClock)
    clock.advance(timedelta(minutes=5))
    done = wait_for_remediation(api, tenant)
    assert [(r["status"], r["execution_id"]) for r in done["remediations"]] == [("resolved", run)]
    assert local_http.bodies("/drain/mail") == [{"alert": done["id"], "queue": "mail"}]
