"""The issue's example workflow, run for real."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from workflow_runtime import REGION, LocalHttp, Runtime

from tests.unit.workflow.workflow_examples import restart_api as example

pytestmark = pytest.mark.xdist_group("moto-sfn")


def restart_api(target: str) -> dict[str, Any]:
    return example(f"{target}/hook", settle_seconds=1, restart_service="api")


def test_unhealthy_service_is_restarted_after_approval_and_the_team_is_told(
    runtime: Runtime, local_http: LocalHttp
) -> None:
    # given a service whose health endpoint answers 503, running on ECS
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "api", "image": "api:1", "memory": 128}]
    )
    ecs.create_service(cluster="prod", serviceName="api", taskDefinition="api", desiredCount=1)
    local_http.answer("/health", 503)
    service = local_http.url.removeprefix("http://")

    # when the workflow runs and an operator approves the restart
    execution = runtime.start(restart_api(local_http.url), {"service": service})
    approval = runtime.next_approval()
    assert approval["message"] == f"Restart {service}?"
    assert approval["meta"] == {"tenant_id": "t-1"}
    runtime.sfn.send_task_success(
        taskToken=approval["token"], output=json.dumps({"approved": True, "by": "alice"})
    )
    described = runtime.wait_until_done(execution)

    # then it succeeds, the service got a new deployment and the webhook got one message
    assert described["status"] == "SUCCEEDED", described
    state = json.loads(described["output"])
    assert state["steps"]["check"]["status"] == 503
    assert state["steps"]["ask"] == {"approved": True, "by": "alice"}
    assert state["steps"]["restart"]["action"] == "ecs:UpdateService"
    assert local_http.bodies("/hook") == [{"message": f"{service}: 503", "step": "tell"}]
    deployments = ecs.describe_services(cluster="prod", services=["api"])["services"][0]
    assert deployments["serviceName"] == "api"
